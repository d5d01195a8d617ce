"""KYCAID's callbacks without a server or a database: the vendor's signature vector, and how bodies parse."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.kycaid import KycaidBackend
from django_kyc.exceptions import WebhookAuthenticationError, WebhookPayloadError, WebhookSignatureMissing
from django_kyc.status import VerificationStatus
from django_kyc.testing.kycaid import sign

V = VerificationStatus
FORM_ID = "58bed87600dd9944f02ba0c9cd8b32d6bd4c"

# KYCAID's published example (docs/providers/kycaid.md, "Callbacks"):
# https://docs.kycaid.com/callbacks/callback-integrity-verification
VECTOR_TOKEN = "28c6f7cc0345a04eee0b535039b1c5a62547"
VECTOR_BODY = (
    b'{"request_id":"61a7dbcc012d9042e909cf006e7b412d6ba5","type":"VERIFICATION_STATUS_CHANGED",'
    b'"applicant_id":"4141cc1b18dba048470b2961cb4592f480fe","verification_id":"2cf795e713be1040e50b202164ee17bfdfbe",'
    b'"form_id":"58bed87600dd9944f02ba0c9cd8b32d6bd4c","verification_status":"pending"}'
)
VECTOR_SIGNATURE = (
    "f7681b097b77928fc031d614709976796057c306cf77fdd449bb414937bd8767"
    "8d908d7efaa65e9b1dd65b9eeea2121ea75bd9007f44fe8fcd7c9ac6cdeeef0e"
)


def test_vendor_test_vector() -> None:
    assert KycaidBackend.sign(VECTOR_BODY, VECTOR_TOKEN) == VECTOR_SIGNATURE
    assert sign(VECTOR_BODY, VECTOR_TOKEN) == VECTOR_SIGNATURE  # the fake signs independently
    backend = KycaidBackend("vector", {"API_TOKEN": VECTOR_TOKEN, "FORM_ID": FORM_ID})
    backend.authenticate_webhook(InboundWebhook(body=VECTOR_BODY, headers={"X-Data-Integrity": VECTOR_SIGNATURE}))
    backend.authenticate_webhook(
        InboundWebhook(body=VECTOR_BODY, headers={"x-data-integrity": VECTOR_SIGNATURE.upper()})
    )
    with pytest.raises(WebhookAuthenticationError):
        backend.authenticate_webhook(
            InboundWebhook(body=VECTOR_BODY + b"\n", headers={"x-data-integrity": VECTOR_SIGNATURE})
        )
    [event] = backend.parse_webhook(InboundWebhook(body=VECTOR_BODY, headers={}))
    assert (event.event_id, event.provider_ref, event.occurred_at) == (
        "61a7dbcc012d9042e909cf006e7b412d6ba5",
        "2cf795e713be1040e50b202164ee17bfdfbe",
        None,
    )
    assert event.state is not None
    assert event.state.status == V.PROCESSING


def test_fake_and_backend_agree_on_signatures_for_any_body() -> None:
    backend = KycaidBackend("sig", {"API_TOKEN": "tok-1", "FORM_ID": "f", "WEBHOOK_TOKENS": ["tok-0"]})
    body = '{"name": "Zoë"}'.encode()
    for token in ("tok-1", "tok-0"):
        backend.authenticate_webhook(InboundWebhook(body=body, headers={"x-data-integrity": sign(body, token)}))
    with pytest.raises(WebhookAuthenticationError):
        backend.authenticate_webhook(InboundWebhook(body=body, headers={"x-data-integrity": sign(body, "tok-2")}))
    with pytest.raises(WebhookSignatureMissing):
        backend.authenticate_webhook(InboundWebhook(body=body, headers={}))


def parse(payload: Any, **options: Any) -> list[Any]:
    backend = KycaidBackend("parse", {"API_TOKEN": "t", "FORM_ID": "f", **options})
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return backend.parse_webhook(InboundWebhook(body=body, headers={}))


@pytest.mark.parametrize(("body", "message"), [(b"<html>", "not JSON"), (b"[1]", "not a JSON object")])
def test_a_body_that_is_no_callback_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(WebhookPayloadError, match=message):
        parse(body)


def test_callbacks_without_a_verification_are_ignored_and_others_fetched() -> None:
    assert parse({"type": "APPLICANT_CREATED", "request_id": "r" * 36}) == []
    [event] = parse({"type": "applicant_updated", "verification_id": "v" * 36})
    assert (event.event_type, event.state) == ("APPLICANT_UPDATED", None)  # fetched, not guessed
    body = json.dumps({"type": "applicant_updated", "verification_id": "v" * 36}).encode()
    assert event.event_id == "sha256:" + hashlib.sha256(body).hexdigest()  # no request_id: the bytes are the key


def test_a_form_mode_quality_decline_waits_for_the_attempts_count() -> None:
    """``VERIFICATION_COMPLETED`` carries no ``verification_attempts_left``: in form mode a quality-only decline
    under ``resubmit_quality`` is decided on the fetched verification; in API mode attempts are unlimited."""
    completed = {
        "type": "VERIFICATION_COMPLETED",
        "verification_id": "v" * 36,
        "status": "completed",
        "verified": False,
        "verifications": {"document": {"verified": False, "decline_reasons": ["BAD_QUALITY"]}},
    }
    [form] = parse(completed, MODE="form", DECLINE_POLICY="resubmit_quality")
    assert form.state is None
    [api] = parse(completed, DECLINE_POLICY="resubmit_quality")
    assert api.state is not None
    assert api.state.status == V.RESUBMISSION_REQUESTED
    [counted] = parse({**completed, "verification_attempts_left": 0}, MODE="form", DECLINE_POLICY="resubmit_quality")
    assert counted.state is not None
    assert counted.state.status == V.DECLINED
