"""The fake Persona's back office: the person in the hosted flow, Persona's checks and decisioning, and the
signed events that announce each change."""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import time
from typing import Any

from django_kyc.testing.persona.api import PersonaApi, iso, random_id
from django_kyc.testing.server import FakeRequest, FakeResponse

#: Inquiry status → the event Persona sends when an inquiry reaches it.
EVENTS = {
    "created": "inquiry.created",
    "pending": "inquiry.started",
    "completed": "inquiry.completed",
    "failed": "inquiry.failed",
    "expired": "inquiry.expired",
    "needs_review": "inquiry.marked-for-review",
    "approved": "inquiry.approved",
    "declined": "inquiry.declined",
}
#: The timestamp attribute each status sets.
STAMPS = {
    "pending": "started-at",
    "completed": "completed-at",
    "failed": "failed-at",
    "expired": "expired-at",
    "needs_review": "marked-for-review-at",
    "approved": "decisioned-at",
    "declined": "decisioned-at",
}
#: Statuses after the person submitted: the inquiry then holds a government id verification.
SUBMITTED = frozenset({"completed", "failed", "needs_review", "approved", "declined"})
#: A status Persona never reports, for tests of how unknown values are treated.
UNKNOWN_STATUS = "on_hold"
#: What ``decide`` accepts: the documented statuses, and any other string (kept as the status).
OUTCOMES = tuple(EVENTS)


class FakePersona(PersonaApi):
    """The inquiry API (:class:`~django_kyc.testing.persona.api.PersonaApi`) plus what tests and the demo
    drive: :meth:`decide`, :meth:`webhook_for` and :meth:`deliver`."""

    #: The person starts (``pending``) and finishes the flow (``completed``) before the decision.
    AUTO_STEPS = ("pending", "completed")

    def inquiry(self, ref: str) -> dict[str, Any]:
        return self.inquiries[ref]

    def decide(self, ref: str, outcome: str, *, failed_checks: tuple[str, ...] | None = None) -> None:
        """Move inquiry ``ref`` as the person, Persona's checks and its decisioning would: any documented status
        (``failed`` and ``declined`` come with a failed ``id_expired`` check unless ``failed_checks`` says
        otherwise), or any other string (a status Persona does not document)."""
        with self.lock:
            inquiry = self.inquiry(ref)
            attributes = inquiry["attributes"]
            attributes["status"] = outcome
            if outcome in STAMPS:
                attributes[STAMPS[outcome]] = iso(self.tick())
            if outcome in SUBMITTED and not inquiry["_verifications"]:
                failing = (
                    failed_checks
                    if failed_checks is not None
                    else (("id_expired",) if outcome in ("failed", "declined") else ())
                )
                self.add_verification(inquiry, failing)
            if outcome in SUBMITTED:
                attributes["name-first"], attributes["name-last"] = "Alexander", "Sample"
            self.record_event(inquiry, EVENTS.get(outcome, "inquiry.transitioned"))

    def add_verification(self, inquiry: dict[str, Any], failing: tuple[str, ...]) -> None:
        names = ("id_barcode_detection", "id_expired", "id_selfie_comparison", *failing)
        checks: list[dict[str, Any]] = [
            {"name": name, "status": "failed" if name in failing else "passed", "reasons": []}
            for name in dict.fromkeys(names)
        ]
        verification = {
            "type": "verification/government-id",
            "id": f"ver_{random_id(24)}",
            "attributes": {
                "status": "failed" if failing else "passed",
                "country-code": "US",
                "id-class": "pp",
                "name-first": "Alexander",
                "name-last": "Sample",
                "checks": checks,
            },
        }
        inquiry["_verifications"].append(verification)
        inquiry["relationships"]["verifications"]["data"].append(
            {"type": verification["type"], "id": verification["id"]}
        )

    def record_event(self, inquiry: dict[str, Any], name: str) -> dict[str, Any]:
        """The event Persona sends for a change of ``inquiry``: its payload is the inquiry as it is now."""
        event = {
            "data": {
                "type": "event",
                "id": f"evt_{random_id(24)}",
                "attributes": {
                    "name": name,
                    "payload": self.document(inquiry),
                    "created-at": iso(self.tick()),
                },
            }
        }
        inquiry["_events"].append(event)
        return event

    def events(self, ref: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.inquiry(ref)["_events"])

    def signature(self, body: bytes, timestamp: int, secrets: list[str] | None = None) -> str:
        """``t=…,v1=…``, one group per webhook secret, separated by a space."""
        return " ".join(
            f"t={timestamp},v1="
            + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            for secret in (self.webhook_secrets if secrets is None else secrets)
        )

    def webhook_for(
        self,
        ref: str,
        outcome: str | None = None,
        *,
        event_id: str | None = None,
        timestamp: int | None = None,
        attempt: int = 1,
        **_: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """The signed delivery of inquiry ``ref``'s latest event (or ``event_id``), signed at ``timestamp`` (now
        by default), as delivery attempt ``attempt``."""
        if outcome is not None:
            self.decide(ref, outcome)
        with self.lock:
            events = self.inquiry(ref)["_events"]
            event = next(e for e in events if e["data"]["id"] == event_id) if event_id else events[-1]
            body = json.dumps(event).encode()
        signed_at = int(time.time()) if timestamp is None else timestamp
        return body, {
            "Content-Type": "application/json",
            "Persona-Signature": self.signature(body, signed_at),
            "Persona-Webhook-Attempts-Made": str(attempt),
            "Persona-Webhook-Attempts-Left": str(max(0, 8 - attempt)),
            "Persona-Webhook-First-Attempted-At": str(int(time.time())),
        }

    def callback_url(self, ref: str) -> str:
        """Persona sends the events of an environment to the webhooks set in its Dashboard (one here)."""
        return self.webhook_url

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.inquiries)

    # --- the hosted flow -----------------------------------------------------------------------------
    def _hosted(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        code = (request.query.get("code") or [""])[-1]
        inquiry = self.inquiries.get(self.codes.get(code, ""))
        if inquiry is None:
            return FakeResponse.text(404, "This link is invalid or has expired.")
        if inquiry["attributes"]["status"] not in ("created", "pending"):
            return FakeResponse.text(410, "This inquiry is no longer accessible.")
        return inquiry

    def show_hosted_page(self, request: FakeRequest) -> FakeResponse:
        inquiry = self._hosted(request)
        if isinstance(inquiry, FakeResponse):
            return inquiry
        page = (
            "<!doctype html><title>Verify your identity (fake Persona)</title>"
            f"<h1>Verify your identity</h1><p>Inquiry {html.escape(inquiry['id'])}</p>"
            '<form method="post"><button>Submit my ID and selfie</button></form>'
        )
        return FakeResponse.html(page)

    def submit_hosted_page(self, request: FakeRequest) -> FakeResponse:
        """The person goes through the flow: the inquiry starts and completes (the link is used up)."""
        inquiry = self._hosted(request)
        if isinstance(inquiry, FakeResponse):
            return inquiry
        self.codes.pop((request.query.get("code") or [""])[-1], None)
        self.decide(inquiry["id"], "pending")
        self.decide(inquiry["id"], "completed")
        return FakeResponse.text(200, "Thank you: your information is being reviewed.")
