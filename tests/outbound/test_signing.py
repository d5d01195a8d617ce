"""Signatures as the Standard Webhooks specification writes them, checked by a few lines written from the
specification here (not by the package we sign with), and the receivers' verify()."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from django_kyc.outbound import WebhookVerificationError, generate_secret, verify
from django_kyc.outbound.signing import secret_key, sign, signature_headers

BODY = json.dumps({"type": "applicant.verified", "data": {"applicant_id": "x"}}).encode()


def spec_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """The specification's recipe: base64 of HMAC-SHA256, keyed by the base64 after ``whsec_``, over
    ``{id}.{timestamp}.{body}``, prefixed ``v1,``."""
    key = base64.b64decode(secret.split("_", 1)[1])
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_a_secret_is_whsec_and_24_to_64_bytes_of_base64() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret[6:])) <= 64
    assert generate_secret() != secret
    with pytest.raises(ValueError, match="24 to 64"):
        secret_key("whsec_" + base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="base64"):
        secret_key("whsec_not base64!")


def test_the_signature_is_the_specifications_hmac() -> None:
    secret = generate_secret()
    headers = signature_headers("msg_1", 1_700_000_000, BODY, [secret])
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"] == spec_signature(secret, "msg_1", "1700000000", BODY)


def test_a_rotation_signs_with_every_secret_space_separated() -> None:
    new, old = generate_secret(), generate_secret()
    header = sign("msg_2", 1_700_000_000, BODY, [new, old])
    assert header.split(" ") == [
        spec_signature(new, "msg_2", "1700000000", BODY),
        spec_signature(old, "msg_2", "1700000000", BODY),
    ]


def test_verify_accepts_any_v1_signature_made_with_any_of_the_receivers_secrets() -> None:
    new, old, other = generate_secret(), generate_secret(), generate_secret()
    now = int(time.time())
    headers = signature_headers("msg_3", now, BODY, [old])
    assert verify(BODY, headers, secrets=[new, old])["type"] == "applicant.verified"
    # other versions are skipped, not compared; junk entries do not hide a good one
    headers["webhook-signature"] = "v1a,AAAA v1,!!! " + headers["webhook-signature"]
    assert verify(BODY, headers, secrets=[new, old], parse=False) is None
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify(BODY, headers, secrets=[other])
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify(BODY + b" ", headers, secrets=[old])


@pytest.mark.parametrize(
    ("stamp", "message"),
    [
        ("1e9", "whole seconds"),
        ("1700000000.5", "whole seconds"),
        ("-5", "whole seconds"),
        ("nan", "whole seconds"),
    ],
)
def test_verify_wants_a_whole_number_of_seconds(stamp: str, message: str) -> None:
    secret = generate_secret()
    headers = {"webhook-id": "m", "webhook-timestamp": stamp, "webhook-signature": "v1,AAAA"}
    with pytest.raises(WebhookVerificationError, match=message):
        verify(BODY, headers, secrets=[secret])


def test_verify_holds_the_timestamp_to_the_receivers_tolerance() -> None:
    secret = generate_secret()
    headers = signature_headers("m", 1_700_000_000, BODY, [secret])
    assert verify(BODY, headers, secrets=[secret], now=1_700_000_000 + 299)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(BODY, headers, secrets=[secret], now=1_700_000_000 + 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(BODY, headers, secrets=[secret], now=1_700_000_000 - 301)
    assert verify(BODY, headers, secrets=[secret], now=1_700_000_000 + 3000, tolerance=3600)


def test_verify_refuses_missing_headers_and_signatures_without_v1() -> None:
    secret = generate_secret()
    headers = signature_headers("m", int(time.time()), BODY, [secret])
    for name in headers:
        with pytest.raises(WebhookVerificationError, match="missing"):
            verify(BODY, {k: v for k, v in headers.items() if k != name}, secrets=[secret])
    with pytest.raises(WebhookVerificationError, match="no v1"):
        verify(BODY, {**headers, "webhook-signature": "v1a,abc v2,def"}, secrets=[secret])
    # header names are case-insensitive, as HTTP's are
    assert verify(BODY, {k.upper(): v for k, v in headers.items()}, secrets=[secret])


def test_the_reference_library_verifies_our_deliveries_during_a_rotation() -> None:
    """What receivers using a Standard Webhooks library see: either secret verifies the two-signature header."""
    from standardwebhooks.webhooks import Webhook

    new, old = generate_secret(), generate_secret()
    headers = signature_headers("msg_4", int(time.time()), BODY, [new, old])
    assert Webhook(new).verify(BODY, headers)["type"] == "applicant.verified"
    assert Webhook(old).verify(BODY, headers)["type"] == "applicant.verified"
