"""The fake Stripe's back office: the person on the hosted page, Stripe's checks deciding, and the signed events
that announce each change."""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import time
from typing import Any

from django_kyc.testing.server import FakeRequest, FakeResponse
from django_kyc.testing.stripe_identity.api import StripeIdentityApi
from django_kyc.testing.stripe_identity.forms import random_id

#: Stripe's reasons for the ``last_error.code`` values the fake can set (``requires_input:<code>``).
ERROR_REASONS: dict[str, str] = {
    "abandoned": "The user began the verification but didn't submit it.",
    "consent_declined": "The user declined to be verified by Stripe.",
    "country_not_supported": "The user's country is not supported.",
    "device_not_supported": "The user's device is not supported.",
    "document_expired": "The provided identity document has expired.",
    "document_type_not_supported": "The provided identity document isn't one of the allowed types.",
    "document_unverified_other": "Stripe couldn't verify the provided identity document.",
    "selfie_face_mismatch": "The captured face image didn't match the document's face.",
    "selfie_manipulated": "The selfie image was manipulated.",
    "under_supported_age": "The user is under the minimum age.",
}
#: Codes of a session the person never submitted: no verification report.
NOTHING_SUBMITTED = frozenset({"abandoned", "consent_declined", "device_not_supported"})
#: A status Stripe never reports, for tests of how unknown values are treated.
UNKNOWN_STATUS = "requires_review"
#: What ``decide`` accepts: the four statuses, ``requires_input:<code>`` and anything else (kept as the status).
OUTCOMES = ("requires_input", "processing", "verified", "canceled", *(f"requires_input:{c}" for c in ERROR_REASONS))


class FakeStripeIdentity(StripeIdentityApi):
    """The Identity API (:class:`~django_kyc.testing.stripe_identity.api.StripeIdentityApi`) plus what tests and
    the demo drive: :meth:`decide`, :meth:`webhook_for` and :meth:`deliver`."""

    #: The person submits (``processing``) before Stripe's checks decide.
    AUTO_STEPS = ("processing",)

    def session(self, ref: str) -> dict[str, Any]:
        return self.sessions[ref]

    def decide(self, ref: str, outcome: str, *, reason: str | None = None) -> None:
        """Move session ``ref`` as the person and Stripe's checks would: ``requires_input`` (fresh, no error),
        ``requires_input:<code>`` (a failed check, or ``abandoned``), ``processing``, ``verified``,
        ``canceled``, or any other string (a status Stripe does not document)."""
        with self.lock:
            session = self.session(ref)
            status, _, code = outcome.partition(":")
            session["status"] = status
            session["last_error"] = (
                {"code": code, "reason": reason if reason is not None else ERROR_REASONS.get(code, code)}
                if code
                else None
            )
            if status == "verified" or (code and code not in NOTHING_SUBMITTED):
                session["last_verification_report"] = self.new_report(session, code)
            if status == "verified":
                session["verified_outputs"] = {"first_name": "Jenny", "last_name": "Rosen", "dob": {"day": 1}}
            if status == "requires_input":
                self.new_client_secret(session)
            self.record_event(session, status)

    def new_report(self, session: dict[str, Any], code: str) -> str:
        """The VerificationReport of one submission: the document check (and the selfie check when the session
        asked for one), the check ``code`` names failed with it."""
        report_id = f"vr_{random_id(24)}"
        allowed = (session.get("options") or {}).get("document", {}).get("allowed_types") or ["passport"]
        failing = (
            "selfie" if code.startswith("selfie_") else "id_number" if code.startswith("id_number_") else "document"
        )

        def check(name: str) -> dict[str, Any]:
            failed = bool(code) and failing == name
            return {
                "status": "unverified" if failed else "verified",
                "error": {"code": code, "reason": ERROR_REASONS.get(code, code)} if failed else None,
            }

        report: dict[str, Any] = {
            "id": report_id,
            "object": "identity.verification_report",
            "client_reference_id": session.get("client_reference_id"),
            "created": self.tick(),
            "livemode": self.livemode,
            "type": session["type"],
            "verification_session": session["id"],
            "document": {
                **check("document"),
                "type": allowed[0],
                "issuing_country": "US",
                "first_name": "Jenny",
                "last_name": "Rosen",
                "dob": None,  # returned only when expanded
                "number": None,
                "address": None,
                "expiration_date": {"day": 31, "month": 12, "year": 2031},
                "issued_date": {"day": 1, "month": 1, "year": 2022},
                "files": [f"file_{random_id(24)}", f"file_{random_id(24)}"],
            },
        }
        if (session.get("options") or {}).get("document", {}).get("require_matching_selfie") or failing == "selfie":
            report["selfie"] = {
                **check("selfie"),
                "document": f"file_{random_id(24)}",
                "selfie": f"file_{random_id(24)}",
            }
        if failing == "id_number":
            report["id_number"] = check("id_number")
        self.reports[report_id] = report
        return report_id

    def record_event(self, session: dict[str, Any], name: str) -> dict[str, Any]:
        """The Event Stripe sends for a change of ``session``: its ``data.object`` is the session as it is now
        (without the client secret and link, which Stripe hands only to API calls)."""
        snapshot = self.view(session)
        snapshot["client_secret"] = None
        snapshot["url"] = None
        event = {
            "id": f"evt_{random_id(24)}",
            "object": "event",
            "api_version": self.versions[-1] if self.versions and self.versions[-1] else "2026-10-28.endive",
            "created": self.tick(),
            "data": {"object": snapshot},
            "livemode": self.livemode,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": f"identity.verification_session.{name}",
        }
        session["_events"].append(event)
        return event

    def events(self, ref: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.session(ref)["_events"])

    def signature(self, body: bytes, timestamp: int, secrets: list[str] | None = None) -> str:
        """``t=…,v1=…`` with one ``v1`` per endpoint secret, and in test mode the ``v0`` Stripe adds so that
        receivers learn to ignore schemes they do not know."""
        parts = [f"t={timestamp}"]
        for secret in self.webhook_secrets if secrets is None else secrets:
            parts.append("v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest())
        if not self.livemode:
            parts.append("v0=" + hashlib.sha256(body).hexdigest())
        return ",".join(parts)

    def webhook_for(
        self,
        ref: str,
        outcome: str | None = None,
        *,
        event_id: str | None = None,
        timestamp: int | None = None,
        **_: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """The signed delivery of session ``ref``'s latest event (or ``event_id``), signed at ``timestamp``
        (now by default: Stripe signs each delivery attempt afresh, the body stays the same)."""
        if outcome is not None:
            self.decide(ref, outcome)
        with self.lock:
            events = self.session(ref)["_events"]
            event = next(e for e in events if e["id"] == event_id) if event_id else events[-1]
            body = json.dumps(event, indent=2).encode()
        signed_at = int(time.time()) if timestamp is None else timestamp
        return body, {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.signature(body, signed_at),
        }

    def callback_url(self, ref: str) -> str:
        """Stripe sends every event of an account to the webhook endpoints set in its Dashboard (one here)."""
        return self.webhook_url

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.sessions)

    # --- the hosted page ---------------------------------------------------------------------------------
    def _hosted(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        session = self.sessions.get(request.params["session"])
        if session is None or request.params["token"] not in session.get("_tokens", ()):
            return FakeResponse.text(404, "This verification link is invalid or has expired.")
        if session["status"] != "requires_input":
            return FakeResponse.text(410, "This verification is no longer accepting submissions.")
        return session

    def show_hosted_page(self, request: FakeRequest) -> FakeResponse:
        session = self._hosted(request)
        if isinstance(session, FakeResponse):
            return session
        page = (
            "<!doctype html><title>Verify your identity (fake Stripe)</title>"
            f"<h1>Verify your identity</h1><p>Session {html.escape(session['id'])}</p>"
            '<form method="post"><button>Submit my document and selfie</button></form>'
        )
        return FakeResponse.html(page)

    def submit_hosted_page(self, request: FakeRequest) -> FakeResponse:
        """The person submits: the session moves to ``processing`` (the link is used up, as Stripe's is)."""
        session = self._hosted(request)
        if isinstance(session, FakeResponse):
            return session
        session["status"] = "processing"
        session["_tokens"].discard(request.params["token"])
        self.record_event(session, "processing")
        target = session.get("return_url") or ""
        if target:
            return FakeResponse(303, b"", {"Location": target})
        return FakeResponse.text(200, "Thank you: your submission is being processed.")
