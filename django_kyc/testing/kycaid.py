"""A fake KYCAID (API 2.0) on loopback, for tests and demos.

It speaks the paths, fields and formats of https://docs.kycaid.com/ that the KYCAID backend uses:
``Authorization: Token <api token>`` on every call (403 otherwise), validation failures as HTTP 422
``{"type": "validation", "errors": [{"parameter", "message"}]}``, 36-character hex ids, applicants, files
(multipart), documents (create / get / update / delete), verifications, one-time form URLs (with the docs'
``verificaiton_id`` spelling), and callbacks signed with ``x-data-integrity`` exactly as KYCAID signs them.

Use it in your own tests::

    with FakeKycaid(api_token="test-token") as kycaid:
        settings.DJANGO_KYC["BACKENDS"]["kycaid"]["OPTIONS"]["BASE_URL"] = kycaid.base_url
        ...
        kycaid.decide(verification.provider_verification_id, "approved")
        kycaid.deliver(verification.provider_verification_id)   # POSTs the signed callback

or from the command line (``--auto-decide`` decides each new verification and calls back)::

    python -m django_kyc.testing kycaid --port 8101 --option api_token=test-token --auto-decide approved

Outcomes for :meth:`FakeKycaid.decide` are the keys of :data:`OUTCOMES`.
"""

from __future__ import annotations

import base64
import copy
import email.policy
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
from collections.abc import Sequence
from datetime import date, datetime
from datetime import timezone as dt_timezone
from email.parser import BytesParser
from typing import Any, ClassVar

from django_kyc.backends.kycaid import DECLINE_REASONS
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

#: outcome -> (verification status, verified, decline reasons of the failed check)
OUTCOMES: dict[str, tuple[str, bool | None, tuple[str, ...]]] = {
    "unused": ("unused", None, ()),  # form link issued, not filled in yet
    "pending": ("pending", None, ()),  # submitted, KYCAID is checking
    "approved": ("completed", True, ()),
    "declined": ("completed", False, ("FAKE_DOCUMENT",)),
    "declined_quality": ("completed", False, ("BAD_QUALITY",)),
    "undecided": ("completed", None, ()),  # completed without a verdict
    "on_hold": ("on_hold", None, ()),  # a status the docs do not list (the backend must not guess)
}

DOCUMENT_TYPES = frozenset(
    {
        "ADDRESS_DOCUMENT",
        "AUTHORISED_PERSON",
        "BANK_STATEMENT",
        "COMPANY_LEGAL_ADDRESS",
        "COMPANY_OWNERSHIP",
        "CREDIT_CARD",
        "DOMESTIC_PASSPORT",
        "DRIVERS_LICENSE",
        "FINANCIAL_DOCUMENT",
        "FOREIGN_CITIZEN_PASSPORT",
        "PASSPORT",
        "GOVERNMENT_ID",
        "RESIDENCE_PERMIT",
        "SELFIE_IMAGE",
    }
)
FILE_SLOTS = ("front_side_id", "back_side_id", "other_side_1_id", "other_side_2_id", "other_side_3_id")
DOCUMENT_FIELDS = (
    "type",
    "document_number",
    "additional_number",
    "issue_date",
    "expiry_date",
    "issuing_authority",
    "income_sources",
    "annual_income",
    "transaction_amount",
    "transaction_currency",
    "transaction_datetime",
    "transaction_purpose",
    "origin_funds",
    "card_number",
    "account_number",
    *FILE_SLOTS,
)
APPLICANT_FIELDS = (
    "type",
    "first_name",
    "middle_name",
    "last_name",
    "dob",
    "gender",
    "pep",
    "residence_country",
    "nationality",
    "phone",
    "email",
    "telegram_username",
    "wallet_address",
    "external_applicant_id",
    "company_name",
    *(f"custom_field_{n}" for n in range(1, 6)),
)
_REASON_IDS = {code: number for number, code in DECLINE_REASONS.items()}
_ID = "[^/]+"


def new_id() -> str:
    """KYCAID ids are 36 hexadecimal characters."""
    return secrets.token_hex(18)


def sign(body: bytes, token: str) -> str:
    """``x-data-integrity`` as KYCAID computes it: hex HMAC-SHA512(key=token, msg=base64(raw body))."""
    return hmac.new(token.encode(), base64.b64encode(body), hashlib.sha512).hexdigest()


def _now() -> str:
    return datetime.now(dt_timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class FakeKycaid(FakeProviderServer):
    """In-memory KYCAID. Constructor options (also ``--option key=value`` on the command line):

    ``api_token``: the token every call must carry and callbacks are signed with; ``extra_tokens``: more
    tokens accepted for API calls (a comma-separated string or a list; for rotation tests); ``form_id``:
    the only form id accepted (any when empty); ``callback_url``: where callbacks of form-mode
    verifications go (the form's Dashboard setting); ``verification_attempts``: attempts per form
    verification (empty = unlimited, reported as ``null``).
    """

    provider = "kycaid"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/applicants", "create_applicant"),
        ("GET", f"/applicants/(?P<applicant_id>{_ID})", "get_applicant"),
        ("PATCH", f"/applicants/(?P<applicant_id>{_ID})", "update_applicant"),
        ("POST", "/files", "create_file"),
        ("PUT", f"/files/(?P<file_id>{_ID})", "replace_file"),
        ("POST", "/documents", "create_document"),
        ("GET", f"/documents/(?P<document_id>{_ID})", "get_document"),
        ("PATCH", f"/documents/(?P<document_id>{_ID})", "update_document"),
        ("DELETE", f"/documents/(?P<document_id>{_ID})", "delete_document"),
        ("POST", "/verifications", "create_verification"),
        ("GET", f"/verifications/(?P<verification_id>{_ID})", "get_verification"),
        ("POST", f"/forms/(?P<form_id>{_ID})/urls", "create_form_url"),
        ("GET", f"/hosted/(?P<form_token>{_ID})", "show_form"),
        ("POST", f"/hosted/(?P<form_token>{_ID})", "submit_form"),
    ]
    #: How the form-URL response names the verification id; KYCAID's docs spell it ``verificaiton_id``.
    form_verification_key = "verificaiton_id"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_token: str = "kycaid-test-token",
        extra_tokens: str | Sequence[str] = (),
        form_id: str = "",
        callback_url: str = "",
        verification_attempts: int | str | None = None,
        **options: str,
    ) -> None:
        super().__init__(host, port)
        # the CLI passes --option KEY=VALUE; accept KYCAID's own upper-case spelling too
        for key, value in options.items():
            name = key.lower()
            if name == "api_token":
                api_token = value
            elif name == "form_id":
                form_id = value
            elif name == "callback_url":
                callback_url = value
            elif name == "extra_tokens":
                extra_tokens = value
            elif name == "verification_attempts":
                verification_attempts = value
            else:
                raise TypeError(f"FakeKycaid has no option {key!r}")
        self.api_token = api_token
        tokens = extra_tokens.split(",") if isinstance(extra_tokens, str) else extra_tokens
        self.extra_tokens = [token for token in tokens if token]
        self.form_id = form_id
        self.default_callback_url = callback_url
        self.verification_attempts: int | None = (
            None
            if verification_attempts is None or verification_attempts in ("", "null")
            else int(verification_attempts)
        )
        self.applicants: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.verifications: dict[str, dict[str, Any]] = {}
        self.forms: dict[str, dict[str, Any]] = {}
        self._events: dict[tuple[str, str], bytes] = {}

    # --- provider conventions ------------------------------------------------------------------------
    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if request.path.startswith("/hosted/"):
            return None  # the person's browser, not an API client
        scheme, _, token = request.header("Authorization").partition(" ")
        accepted = [self.api_token, *self.extra_tokens]
        if scheme != "Token" or not any(hmac.compare_digest(token.strip(), t) for t in accepted if t):
            return self.error(403, "Access denied: invalid API token")
        return None

    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        if status == 422:
            return self.invalid([(str(extra.get("parameter", "request")), message)])
        kind = {401: "unauthorized", 403: "unauthorized", 404: "not_found", 429: "rate_limit"}.get(status, "error")
        return FakeResponse(status, {"type": kind, "message": message})

    @staticmethod
    def invalid(errors: Sequence[tuple[str, str]]) -> FakeResponse:
        """KYCAID's validation error: HTTP 422 with every failing parameter."""
        return FakeResponse(422, {"type": "validation", "errors": [{"parameter": p, "message": m} for p, m in errors]})

    def _body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        data = request.json()
        if not isinstance(data, dict):
            return self.invalid([("body", "Request body must be a JSON object")])
        return data

    # --- validation helpers --------------------------------------------------------------------------
    @staticmethod
    def _check_date(errors: list[tuple[str, str]], data: dict[str, Any], name: str, label: str) -> None:
        value = data.get(name)
        if value in (None, ""):
            return
        try:
            date.fromisoformat(str(value))
        except ValueError:
            errors.append((name, f"{label} must be a date in YYYY-MM-DD format"))

    def _applicant_errors(self, data: dict[str, Any], *, creating: bool) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        kind = data.get("type", "" if creating else "PERSON")
        if creating and not kind:
            errors.append(("type", "Type is required"))
        elif kind not in ("PERSON", "COMPANY"):
            errors.append(("type", "Type must be PERSON or COMPANY"))
        if creating and kind == "PERSON":
            for name, label in (("first_name", "First name"), ("last_name", "Last name")):
                if not str(data.get(name) or "").strip():
                    errors.append((name, f"{label} is required"))
        if creating and kind == "COMPANY" and not data.get("company_name"):
            errors.append(("company_name", "Company name is required"))
        self._check_date(errors, data, "dob", "Date of birth")
        if data.get("gender") not in (None, "", "M", "F"):
            errors.append(("gender", "Gender must be M or F"))
        for name in ("nationality", "residence_country"):
            value = data.get(name)
            if value not in (None, "") and not re.fullmatch(r"[A-Z]{2}", str(value)):
                errors.append((name, "Country must be an ISO 3166-1 alpha-2 code"))
        if len(str(data.get("external_applicant_id") or "")) > 50:
            errors.append(("external_applicant_id", "External applicant ID must be at most 50 characters"))
        if data.get("email") not in (None, "") and "@" not in str(data["email"]):
            errors.append(("email", "Email is invalid"))
        return errors

    def _document_errors(self, data: dict[str, Any], *, creating: bool) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if creating:
            if not data.get("applicant_id"):
                errors.append(("applicant_id", "Applicant ID is required"))
            elif data["applicant_id"] not in self.applicants:
                errors.append(("applicant_id", "Applicant not found"))
            if not data.get("type"):
                errors.append(("type", "Type is required"))
        if data.get("type") and data["type"] not in DOCUMENT_TYPES:
            errors.append(("type", "Type is invalid"))
        for slot in FILE_SLOTS:
            if data.get(slot) and data[slot] not in self.files:
                errors.append((slot, "File not found"))
        for name, label in (("issue_date", "Issue date"), ("expiry_date", "Expiry date")):
            self._check_date(errors, data, name, label)
        if len(str(data.get("document_number") or "")) > 50:
            errors.append(("document_number", "Document number must be at most 50 characters"))
        return errors

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, request: FakeRequest) -> FakeResponse:
        data = self._body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = self._applicant_errors(data, creating=True)
        if errors:
            return self.invalid(errors)
        applicant_id = new_id()
        self.applicants[applicant_id] = {
            **{name: data.get(name) for name in APPLICANT_FIELDS},
            "applicant_id": applicant_id,
            "profile_status": None,
            "decline_reasons": [],
            "created_at": _now(),
        }
        return FakeResponse(200, {"applicant_id": applicant_id})

    def applicant_view(self, applicant_id: str) -> dict[str, Any]:
        applicant = copy.deepcopy(self.applicants[applicant_id])
        applicant["documents"] = [
            copy.deepcopy(doc) for doc in self.documents.values() if doc["applicant_id"] == applicant_id
        ]
        applicant["addresses"] = []
        return applicant

    def get_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant_id = request.params["applicant_id"]
        if applicant_id not in self.applicants:
            return self.error(404, "Applicant not found")
        return FakeResponse(200, self.applicant_view(applicant_id))

    def update_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant_id = request.params["applicant_id"]
        if applicant_id not in self.applicants:
            return self.error(404, "Applicant not found")
        data = self._body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = self._applicant_errors(data, creating=False)
        if errors:
            return self.invalid(errors)
        self.applicants[applicant_id].update({k: v for k, v in data.items() if k in APPLICANT_FIELDS})
        return FakeResponse(200, {"applicant_id": applicant_id})

    # --- files ---------------------------------------------------------------------------------------
    def _uploaded_file(self, request: FakeRequest) -> dict[str, Any] | None:
        content_type = request.header("Content-Type")
        if not content_type.startswith("multipart/form-data"):
            return None
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        if not message.is_multipart():
            return None
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True)
                if isinstance(content, bytes) and content:
                    return {
                        "filename": part.get_filename() or "",
                        "content_type": part.get_content_type(),
                        "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest(),
                    }
        return None

    def create_file(self, request: FakeRequest) -> FakeResponse:
        uploaded = self._uploaded_file(request)
        if uploaded is None:
            return self.invalid([("file", "File is required")])
        file_id = new_id()
        self.files[file_id] = {"file_id": file_id, **uploaded}
        return FakeResponse(200, {"file_id": file_id})

    def replace_file(self, request: FakeRequest) -> FakeResponse:
        file_id = request.params["file_id"]
        if file_id not in self.files:
            return self.error(404, "File not found")
        uploaded = self._uploaded_file(request)
        if uploaded is None:
            return self.invalid([("file", "File is required")])
        self.files[file_id].update(uploaded)
        return FakeResponse(200, {"file_id": file_id})

    # --- documents -----------------------------------------------------------------------------------
    def create_document(self, request: FakeRequest) -> FakeResponse:
        data = self._body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = self._document_errors(data, creating=True)
        applicant_id = str(data.get("applicant_id") or "")
        existing = [d for d in self.documents.values() if d["applicant_id"] == applicant_id]
        has_verification = any(v["applicant_id"] == applicant_id for v in self.verifications.values())
        card_exists = any(d["type"] == "CREDIT_CARD" for d in existing)
        if data.get("type") == "CREDIT_CARD" and card_exists and not has_verification:
            errors.append(("type", "Only one CREDIT_CARD document may be added to an applicant"))
        if errors:
            return self.invalid(errors)
        if has_verification:
            # a document added after a verification exists replaces the earlier one of its type
            for doc in existing:
                if doc["type"] == data["type"]:
                    del self.documents[doc["document_id"]]
        document_id = new_id()
        self.documents[document_id] = {
            "document_id": document_id,
            "applicant_id": applicant_id,
            "provider": "MANUAL",
            "status": "new",
            "comment": None,
            **{name: data.get(name) for name in DOCUMENT_FIELDS},
            "portrait": None,
            "created_at": _now(),
            "decline_reasons_ids": None,
            "decline_reasons": [],
        }
        return FakeResponse(200, {"document_id": document_id})

    def get_document(self, request: FakeRequest) -> FakeResponse:
        document = self.documents.get(request.params["document_id"])
        if document is None:
            return self.error(404, "Document not found")
        return FakeResponse(200, copy.deepcopy(document))

    def update_document(self, request: FakeRequest) -> FakeResponse:
        document_id = request.params["document_id"]
        if document_id not in self.documents:
            return self.error(404, "Document not found")
        data = self._body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = self._document_errors(data, creating=False)
        if errors:
            return self.invalid(errors)
        self.documents[document_id].update({k: v for k, v in data.items() if k in DOCUMENT_FIELDS})
        return FakeResponse(200, {"document_id": document_id})

    def delete_document(self, request: FakeRequest) -> FakeResponse:
        document_id = request.params["document_id"]
        if self.documents.pop(document_id, None) is None:
            return self.error(404, "Document not found")
        return FakeResponse(200, {"document_id": document_id})

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
            "created_at": _now(),
        }
        self.verifications[verification_id] = verification
        return verification

    def create_verification(self, request: FakeRequest) -> FakeResponse:
        data = self._body(request)
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
        verification["verifications"] = self._checks(None, ())
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
        data = self._body(request)
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
                    "created_at": _now(),
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
        return FakeResponse(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

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

    # --- back office ---------------------------------------------------------------------------------
    @staticmethod
    def _checks(verified: bool | None, reasons: Sequence[str]) -> dict[str, Any]:
        document_ok = verified if not reasons else False
        return {
            "profile": {"verified": True if verified is not None else None, "comment": "", "decline_reasons": []},
            "document": {
                "verified": document_ok,
                "comment": "Please upload a sharper photo" if "BAD_QUALITY" in reasons else "",
                "decline_reasons": list(reasons),
            },
        }

    def decide(
        self,
        ref: str,
        outcome: str,
        *,
        reasons: Sequence[str] | None = None,
        attempts_left: int | str | None = "keep",
    ) -> None:
        """Set verification ``ref`` to one of :data:`OUTCOMES` (``reasons`` overrides the decline reasons).

        Moving from ``unused`` to ``pending`` uses one form attempt, as submitting a form does.
        """
        with self.lock:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; choose from {sorted(OUTCOMES)}")
            verification = self.verifications[ref]
            status, verified, default_reasons = OUTCOMES[outcome]
            chosen = tuple(default_reasons if reasons is None else reasons)
            if verification["status"] == "unused" and status == "pending" and verification["attempts_left"]:
                verification["attempts_left"] -= 1
            if attempts_left != "keep":
                verification["attempts_left"] = attempts_left
            verification["status"] = status
            verification["verified"] = verified
            verification["verifications"] = {} if status == "unused" else self._checks(verified, chosen)
            applicant = self.applicants[verification["applicant_id"]]
            applicant["profile_status"] = "valid" if status == "completed" and verified is not None else None
            for document in self.documents.values():
                if document["applicant_id"] != verification["applicant_id"]:
                    continue
                if status == "completed" and verified is True:
                    document.update(status="valid", decline_reasons=[], decline_reasons_ids=None)
                elif status == "completed" and verified is False:
                    document.update(
                        status="invalid",
                        decline_reasons=list(chosen),
                        decline_reasons_ids=[_REASON_IDS[r] for r in chosen if r in _REASON_IDS],
                    )
                else:
                    document.update(status="new", decline_reasons=[], decline_reasons_ids=None)

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The signed callback for ``ref``'s current state: ``VERIFICATION_COMPLETED`` once completed, else
        ``VERIFICATION_STATUS_CHANGED``. The same state gives the same body (and ``request_id``)."""
        with self.lock:
            if outcome is not None:
                self.decide(ref, outcome)
            verification = self.verifications[ref]
            applicant = self.applicant_view(verification["applicant_id"])
            fingerprint = json.dumps([verification, applicant["documents"]], sort_keys=True, default=str)
            body = self._events.get((ref, fingerprint))
            if body is None:
                body = json.dumps(self._callback(verification, applicant)).encode()
                self._events[(ref, fingerprint)] = body
        return body, {"Content-Type": "application/json", "x-data-integrity": sign(body, self.api_token)}

    @staticmethod
    def _callback(verification: dict[str, Any], applicant: dict[str, Any]) -> dict[str, Any]:
        common = {
            "request_id": new_id(),
            "applicant_id": verification["applicant_id"],
            "verification_id": verification["verification_id"],
            "form_id": verification["form_id"],
            "form_token": verification["form_token"],
        }
        if verification["status"] == "completed":
            return {
                "type": "VERIFICATION_COMPLETED",
                **common,
                "status": "completed",
                "verified": verification["verified"],
                "verifications": copy.deepcopy(verification["verifications"]),
                "applicant": applicant,
            }
        return {
            "type": "VERIFICATION_STATUS_CHANGED",
            **common,
            "external_applicant_id": applicant.get("external_applicant_id"),
            "verification_status": verification["status"],
            "verification_attempts_left": verification["attempts_left"],
        }

    def callback_url(self, ref: str) -> str:
        url = str(self.verifications[ref]["callback_url"] or "")
        if not url:
            raise LookupError(f"verification {ref} has no callback_url and the fake has no default callback_url")
        return url

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.applicants)


SERVER = FakeKycaid
