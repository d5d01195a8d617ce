"""What the webhook endpoint reads and keeps of a delivery's body, end to end through Django's request cycle.

* Framing: a chunked delivery has no Content-Length; it is read to its end (never past ``WEBHOOK_MAX_BYTES``
  + 1 bytes) when the server says it ends the input there, and refused when the server cannot.
* Text the database cannot store (NUL, unpaired surrogates, datetimes outside years 1-9999 in UTC) in an
  authentic delivery: a counted 400, never a 500, nothing stored; an event stored before that rule fails at
  once when processed instead of being retried forever.
* Bodies that are not UTF-8 (JSON may be UTF-16 or UTF-32): stored byte for byte and processed from exactly
  the bytes that were authenticated.

Signatures are computed here with the sandbox's documented recipe (``tests.support.sandbox.sandbox_signature``).
A server that really de-chunks (gunicorn) is exercised in ``tests/test_webhook_gunicorn.py``.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DataError, connection
from django.test import Client, override_settings
from django.utils import timezone

from django_kyc import signals
from django_kyc.backends.base import DocumentResult, InboundWebhook, ProviderEvent
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.models import Applicant, Verification, WebhookEvent, WebhookState
from django_kyc.services import webhooks
from django_kyc.status import VerificationStatus
from django_kyc.webhooks import UNREADABLE
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with, suite_backends
from tests.support.sandbox import sandbox_event, sandbox_signature
from tests.support.webhooks import CountingInput, rejection_counts, unframed_post

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


# --- framing: chunked deliveries ------------------------------------------------------------------------------


def test_chunked_delivery_is_read_to_its_end_and_processed(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    body = sandbox_event(verification, "approved", timezone.now(), event_id="evt_chunked")
    with django_capture_on_commit_callbacks(execute=True):
        response, stream = unframed_post(URL, body, {HEADER: sandbox_signature(body)})

    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"stored": 1, "duplicates": 0}
    assert stream.consumed == len(body)
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.state, event.body) == ("evt_chunked", WebhookState.PROCESSED, body)
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_chunked_delivery_past_the_limit_is_413_after_reading_one_byte_more_than_it(
    verification: Verification, rejections: list[dict[str, Any]]
) -> None:
    body = payload(verification)
    body["data"] = {"pad": "x" * 50_000}
    raw = json.dumps(body).encode()
    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_MAX_BYTES=1000)):
        response, stream = unframed_post(URL, raw, {HEADER: sandbox_signature(raw)})

    assert response.status_code == 413, response.content
    assert json.loads(response.content) == {"detail": "Body larger than 1000 bytes."}
    assert stream.consumed == 1001  # not a byte more, however long the sender goes on
    assert rejection_counts() == {("sandbox", "too_large"): 1}
    assert [kwargs["code"] for kwargs in rejections] == ["too_large"]
    assert not WebhookEvent.objects.exists()


def test_chunked_delivery_of_exactly_the_limit_is_accepted(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", timezone.now())
    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_MAX_BYTES=len(body))):
        response, stream = unframed_post(URL, body, {HEADER: sandbox_signature(body)})
    assert response.status_code == 200, response.content
    assert stream.consumed == len(body)
    assert WebhookEvent.objects.get().body == body


def test_chunked_delivery_through_a_server_that_does_not_end_the_input_is_411(
    verification: Verification,
) -> None:
    """wsgiref and Django's runserver hand on the still-chunked socket: reading it would block until the
    sender gives up (or return chunk framing), so the body cannot be read. 411 Length Required says what the
    sender can do about it; nothing is read from the input."""
    body = sandbox_event(verification, "approved", timezone.now())
    response, stream = unframed_post(URL, body, {HEADER: sandbox_signature(body)}, terminated=False)
    assert response.status_code == 411, response.content
    assert "Content-Length" in json.loads(response.content)["detail"]
    assert stream.consumed == 0
    assert rejection_counts() == {("sandbox", "bad_length"): 1}
    assert not WebhookEvent.objects.exists()


class Disconnecting(CountingInput):
    """The input of a sender that goes away mid-body: the server raises when the application reads on."""

    def read(self, size: int | None = -1, /) -> bytes:
        if self.consumed:
            raise ConnectionResetError("peer went away")
        return super().read(10)


def test_body_the_server_cannot_deliver_is_a_counted_400(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", timezone.now())
    response, _stream = unframed_post(URL, b"", {HEADER: sandbox_signature(body)}, stream=Disconnecting(body))
    assert response.status_code == 400, response.content
    assert json.loads(response.content) == {"detail": UNREADABLE}
    assert rejection_counts() == {("sandbox", "bad_length"): 1}
    assert not WebhookEvent.objects.exists()


# --- text the database cannot store ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"event_id": "evt_\x00_1"}, id="nul-in-event-id"),
        pytest.param({"type": "verification.\x00updated"}, id="nul-in-event-type"),
        pytest.param({"status": "approved\x00"}, id="nul-in-status"),
        pytest.param({"verification_id": "sbx_ver_abc\x00"}, id="nul-in-provider-ref"),
        pytest.param({"reasons": ["DOC\x00OK"]}, id="nul-in-a-reason"),
        pytest.param({"data": {"note\x00": "fine"}}, id="nul-in-a-data-key"),
        pytest.param({"event_id": "evt_\ud800"}, id="unpaired-surrogate-in-event-id"),
        pytest.param({"status": "approved\udfff"}, id="unpaired-surrogate-in-status"),
        pytest.param({"occurred_at": "0001-01-01T00:00:00+05:00"}, id="occurred-before-year-1-in-utc"),
        pytest.param({"occurred_at": "9999-12-31T23:00:00-05:00"}, id="occurred-after-year-9999-in-utc"),
    ],
)
def test_authentic_delivery_with_text_the_database_cannot_store_is_a_400(
    verification: Verification,
    rejections: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    changes: dict[str, Any],
) -> None:
    """PostgreSQL refuses NUL in text and JSON; no driver can encode an unpaired surrogate; a datetime
    outside years 1-9999 once in UTC overflows. Refused as malformed on every database alike, before
    anything is stored, so the provider is told at once instead of getting a 500 and retrying forever."""
    body = json.dumps(payload(verification, **changes)).encode()  # json escapes them: \\u0000, \\ud800
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(body)

    assert response.status_code == 400, response.content
    assert "cannot be stored" in json.loads(response.content)["detail"]
    assert rejection_counts() == {("sandbox", "malformed"): 1}
    assert [kwargs["code"] for kwargs in rejections] == ["malformed"]
    assert callbacks == []
    assert not WebhookEvent.objects.exists()
    verification.refresh_from_db()
    assert (verification.status, verification.provider_status) == (V.PROCESSING, "processing")


def test_nul_in_a_kept_header_is_a_400(verification: Verification) -> None:
    """Allow-listed headers are stored too (JSON, where PostgreSQL refuses NUL as well)."""
    body = sandbox_event(verification, "approved", timezone.now())
    response = post(body, {"User-Agent": "provider\x00/1.0"})
    assert response.status_code == 400, response.content
    assert rejection_counts() == {("sandbox", "malformed"): 1}
    assert not WebhookEvent.objects.exists()


def test_a_value_the_database_refuses_on_receipt_is_a_counted_400_not_a_500(
    verification: Verification, monkeypatch: pytest.MonkeyPatch, rejections: list[dict[str, Any]]
) -> None:
    """The check above covers every value known to be refused. Should a database refuse another one, it will
    refuse it on every redelivery too: the provider gets a 400 it will not retry, not a 500 it will."""

    def refused(*args: Any) -> bool:
        raise DataError("value too long for type character varying(255)")

    monkeypatch.setattr(webhooks, "_store", refused)
    response = post(sandbox_event(verification, "approved", timezone.now()))
    assert response.status_code == 400, response.content
    assert json.loads(response.content) == {"detail": "delivery cannot be stored: DataError"}
    assert [kwargs["code"] for kwargs in rejections] == ["malformed"]
    assert rejection_counts() == {("sandbox", "malformed"): 1}


def test_stored_event_holding_text_the_database_cannot_store_fails_at_once(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    """Stored before the rule existed: processing it must not wait for retries that can never succeed."""
    failed: list[str] = []

    def handler(sender: Any, event: WebhookEvent, **kwargs: Any) -> None:
        failed.append(event.event_id)

    row = stored(verification, json.dumps(payload(verification, status="approved\x00")).encode())
    signals.webhook_failed.connect(handler, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.process(row.pk)
    finally:
        signals.webhook_failed.disconnect(handler)

    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == (WebhookState.FAILED, 1, None)
    assert row.last_error.startswith("WebhookPayloadError: ")
    assert "cannot be stored" in row.last_error
    assert failed == [row.event_id]
    verification.refresh_from_db()
    assert (verification.status, verification.provider_status) == (V.PROCESSING, "processing")


class ChipReadingSandbox(SandboxBackend):
    """A provider that reads the document itself and reports its fields, here a 3-letter ICAO country code
    ("GBR", as printed in a passport's machine-readable zone) where our column holds 2 letters."""

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        events = super().parse_webhook(webhook)
        chip = DocumentResult(
            status="accepted",
            provider_document_id="chip-1",
            fields={"type": "passport", "issuing_country": "GBR"},
        )
        return [replace(event, state=replace(event.state, documents=(chip,))) for event in events if event.state]


@pytest.mark.postgres
def test_a_value_postgresql_refuses_while_processing_fails_the_event_at_once(
    make_applicant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A DataError is about the data, not the moment: no retry can succeed, so the event is failed at once
    (visible, with the webhook_failed signal and reprocessing), not left in retry_wait for hours."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL pass only: SQLite does not enforce a column's length")
    backends = suite_backends(
        chip={"CLASS": f"{__name__}.ChipReadingSandbox", "OPTIONS": {"WEBHOOK_SECRET": "chip-secret"}}
    )
    verification = make_verification(
        make_applicant(), V.PROCESSING, backend="chip", provider_verification_id="sbx_ver_chip"
    )
    body = sandbox_event(verification, "approved", timezone.now(), event_id="evt_chip")
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(
                "/kyc/webhooks/chip/",
                data=body,
                content_type="application/json",
                headers={HEADER: sandbox_signature(body, "chip-secret")},
            )
        assert response.status_code == 200, response.content

    event = WebhookEvent.objects.get()
    assert (event.state, event.attempts, event.next_attempt_at) == (WebhookState.FAILED, 1, None)
    assert event.last_error.startswith("DataError: ")
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING  # the whole change was rolled back


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
