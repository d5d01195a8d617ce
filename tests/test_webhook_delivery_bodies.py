"""What the webhook endpoint reads and keeps of a delivery's body, end to end through Django's request cycle.

* Bodies that are not UTF-8 (JSON may be UTF-16 or UTF-32): stored byte for byte and processed from exactly
  the bytes that were authenticated.

Signatures are computed here with the sandbox's documented recipe (``tests.core_helpers.sandbox_signature``).
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from django_kyc.models import Applicant, Verification, WebhookEvent, WebhookState
from django_kyc.status import VerificationStatus
from tests.core_helpers import (
    make_verification,
    sandbox_event,
    sandbox_signature,
)

V = VerificationStatus
URL = "/kyc/webhooks/sandbox/"
HEADER = "X-Sandbox-Signature"
pytestmark = pytest.mark.django_db


@pytest.fixture
def verification(make_applicant: Any) -> Verification:
    applicant: Applicant = make_applicant()
    return make_verification(
        applicant, V.PROCESSING, provider_verification_id="sbx_ver_abc", provider_status="processing"
    )


def payload(verification: Verification, **changes: Any) -> dict[str, Any]:
    """A sandbox "approved" event as a dict, to change one field before it is encoded and signed."""
    event = json.loads(sandbox_event(verification, "approved", timezone.now(), event_id="evt_body"))
    event.update(changes)
    return event


def post(body: bytes, headers: dict[str, str] | None = None) -> Any:
    client = Client(raise_request_exception=False)  # a server error must show as a 500, not an exception
    return client.post(
        URL, data=body, content_type="application/json", headers={HEADER: sandbox_signature(body), **(headers or {})}
    )


def stored(verification: Verification, body: bytes) -> WebhookEvent:
    """An event row as the service stored it before its body was checked (or as a bug might store one)."""
    event_id = json.loads(body)["event_id"]
    return WebhookEvent.objects.create(
        backend="sandbox", event_id=event_id[:255], provider_ref=verification.provider_verification_id, body=body
    )


# --- bodies that are not UTF-8 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_json_in_any_encoding_json_allows_is_stored_byte_for_byte_and_processed(
    verification: Verification, django_capture_on_commit_callbacks: Any, encoding: str
) -> None:
    """RFC 8259 says UTF-8, but ``json.loads`` (and so every backend) reads UTF-16 and UTF-32, with a BOM
    ("utf-16", "utf-32": Python writes one) or without ("utf-16-be"). What was accepted must be processable:
    processing re-parses exactly the bytes that were authenticated."""
    body = json.dumps(payload(verification, reasons=["Zoë", "Ωmega"])).encode(encoding)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(body)

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.body == body
    assert (event.state, event.last_error) == (WebhookState.PROCESSED, "")
    verification.refresh_from_db()
    assert (verification.status, verification.reasons) == (V.APPROVED, ["Zoë", "Ωmega"])


def test_stored_utf16_delivery_is_reprocessed_from_its_exact_bytes(verification: Verification) -> None:
    body = b"\xff\xfe" + json.dumps(payload(verification, event_id=f"evt_{uuid.uuid4().hex}")).encode("utf-16-le")
    row = stored(verification, body)
    WebhookEvent.objects.filter(pk=row.pk).update(state=WebhookState.FAILED, attempts=8)

    call_command("kyc_reprocess_webhooks", str(row.pk), "--now", stdout=io.StringIO())

    row.refresh_from_db()
    assert (row.state, row.body) == (WebhookState.PROCESSED, body)
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_body_bytes_that_are_not_text_round_trip_exactly(verification: Verification) -> None:
    every_byte = bytes(range(256)) + b"\xc3\x28\xed\xa0\x80\xf8\x88\x80\x80\x80"  # and invalid UTF-8 sequences
    row = WebhookEvent.objects.create(backend="sandbox", event_id="evt_bytes", body=every_byte)
    assert WebhookEvent.objects.get(pk=row.pk).body == every_byte
