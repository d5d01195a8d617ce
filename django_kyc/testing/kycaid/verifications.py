"""The fake KYCAID's verifications: created by API, or by a one-time form URL whose hosted page the person
submits (the page is the fake's own stand-in for KYCAID's form)."""

from __future__ import annotations

import copy
import html
import threading
from typing import Any

from django_kyc.testing.kycaid.api import KycaidRecords
from django_kyc.testing.kycaid.vocabulary import APPLICANT_FIELDS, check_results, new_id, now
from django_kyc.testing.server import FakeRequest, FakeResponse


class KycaidVerifications(KycaidRecords):
    """The verification and form endpoints, and the hosted form page."""

    #: How the form-URL answer names the verification id; KYCAID's reference spells it ``verificaiton_id``.
    form_verification_key = "verificaiton_id"

    # --- verifications and forms ---------------------------------------------------------------------
    def _new_verification(self, applicant_id: str, form_id: str, callback_url: str, status: str) -> dict[str, Any]:
        verification_id = new_id()
        verification: dict[str, Any] = {
            "verification_id": verification_id,
            "applicant_id": applicant_id,
            "form_id": form_id,
            "form_token": "",
            "callback_url": callback_url,
            "status": status,
            "verified": None,
            "verifications": {},
            "attempts_left": self.verification_attempts,
            "created_at": now(),
        }
        self.verifications[verification_id] = verification
        return verification

    def create_verification(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        errors: list[tuple[str, str]] = []
        if not data.get("applicant_id"):
            errors.append(("applicant_id", "Applicant ID is required"))
        elif data["applicant_id"] not in self.applicants:
            errors.append(("applicant_id", "Applicant not found"))
        if not data.get("form_id"):
            errors.append(("form_id", "Form ID is required"))
        elif self.form_id and data["form_id"] != self.form_id:
            errors.append(("form_id", "Form not found"))
        callback = str(data.get("callback_url") or "")
        if callback and not callback.startswith(("http://", "https://")):
            errors.append(("callback_url", "Callback URL must be a valid URL"))
        if errors:
            return self.invalid(errors)
        verification = self._new_verification(
            data["applicant_id"], data["form_id"], callback or self.default_callback_url, "pending"
        )
        verification["verifications"] = check_results(None, ())
        self.schedule_auto_decision(verification["verification_id"])
        return FakeResponse(200, {"verification_id": verification["verification_id"]})

    def get_verification(self, request: FakeRequest) -> FakeResponse:
        found = self.verifications.get(request.params["verification_id"])
        if found is None:
            return self.error(404, "Verification not found")
        verification: dict[str, Any] = found
        keys = ("verification_id", "applicant_id", "form_id", "status", "verified", "verifications", "created_at")
        return FakeResponse(200, {key: copy.deepcopy(verification[key]) for key in keys})

    def create_form_url(self, request: FakeRequest) -> FakeResponse:
        form_id = request.params["form_id"]
        if self.form_id and form_id != self.form_id:
            return self.error(404, "Form not found")
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        applicant_id = str(data.get("applicant_id") or "")
        external = str(data.get("external_applicant_id") or "")
        errors: list[tuple[str, str]] = []
        if applicant_id and applicant_id not in self.applicants:
            errors.append(("applicant_id", "Applicant not found"))
        if len(external) > 50:
            errors.append(("external_applicant_id", "External applicant ID must be at most 50 characters"))
        redirect = str(data.get("redirect_url") or "")
        if redirect and not redirect.startswith(("http://", "https://")):
            errors.append(("redirect_url", "Redirect URL must be a valid URL"))
        if errors:
            return self.invalid(errors)
        if not applicant_id:
            # the person fills in the form; KYCAID keeps the applicant under our external id
            known = [a for a in self.applicants.values() if external and a.get("external_applicant_id") == external]
            applicant_id = known[0]["applicant_id"] if known else new_id()
            if not known:
                self.applicants[applicant_id] = {
                    **dict.fromkeys(APPLICANT_FIELDS),
                    "type": "PERSON",
                    "external_applicant_id": external or None,
                    "applicant_id": applicant_id,
                    "profile_status": None,
                    "decline_reasons": [],
                    "created_at": now(),
                }
        verification = self._new_verification(applicant_id, form_id, self.default_callback_url, "unused")
        token = new_id()
        verification["form_token"] = token
        self.forms[token] = {
            "verification_id": verification["verification_id"],
            "redirect_url": redirect,
            "used": False,
        }
        return FakeResponse(
            200,
            {
                "form_id": form_id,
                "form_url": f"{self.base_url}/hosted/{token}",
                self.form_verification_key: verification["verification_id"],
                "form_token": token,
                "verification_attempts_left": verification["attempts_left"],
            },
        )

    def show_form(self, request: FakeRequest) -> FakeResponse:
        form = self.forms.get(request.params["form_token"])
        if form is None or form["used"]:
            return FakeResponse(410, b"<p>This form link was already used.</p>", {"Content-Type": "text/html"})
        page = (
            "<!doctype html><title>KYCAID (fake) form</title><h1>KYCAID form (fake)</h1>"
            f'<form method="post" action="/hosted/{html.escape(request.params["form_token"])}">'
            "<p>A real form collects documents and a selfie here.</p><button>Submit</button></form>"
        )
        return FakeResponse.html(page)

    def submit_form(self, request: FakeRequest) -> FakeResponse:
        """The person submits the hosted form: the verification turns ``pending`` and KYCAID calls back."""
        form = self.forms.get(request.params["form_token"])
        if form is None or form["used"]:
            return FakeResponse(410, b"<p>This form link was already used.</p>", {"Content-Type": "text/html"})
        form["used"] = True
        ref = form["verification_id"]
        self.decide(ref, "pending")
        if self.verifications[ref]["callback_url"]:
            threading.Thread(target=self.deliver, args=(ref,), daemon=True).start()
        self.schedule_auto_decision(ref)
        if form["redirect_url"]:
            return FakeResponse(303, b"", {"Location": form["redirect_url"], "Content-Type": "text/html"})
        return FakeResponse(200, b"<p>Thank you, your data was submitted.</p>", {"Content-Type": "text/html"})
