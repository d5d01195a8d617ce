"""What the fake Stripe Identity does beyond the contract: Stripe's strictness about keys, versions, bodies,
parameters and idempotency keys, its list cursors, the status rules of cancel and redact, and the signature it
puts on events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from django_kyc.testing.stripe_identity import FakeStripeIdentity

KEY = "sk_test_fake"
SESSIONS = "/v1/identity/verification_sessions"


@pytest.fixture
def fake() -> Iterator[FakeStripeIdentity]:
    with FakeStripeIdentity(secret_key=KEY, webhook_secrets="whsec_old,whsec_new") as server:
        yield server


def post(fake: FakeStripeIdentity, path: str, data: Any = None, **headers: str) -> requests.Response:
    return requests.post(
        fake.base_url + path, data=data, headers={"Authorization": f"Bearer {KEY}", **headers}, timeout=5
    )


def get(fake: FakeStripeIdentity, path: str, **params: Any) -> requests.Response:
    return requests.get(fake.base_url + path, params=params, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)


def test_keys_bearer_or_basic(fake: FakeStripeIdentity) -> None:
    assert requests.get(fake.base_url + SESSIONS, timeout=5).status_code == 401
    wrong = requests.get(fake.base_url + SESSIONS, headers={"Authorization": "Bearer sk_test_nope"}, timeout=5)
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "invalid_request_error"
    assert "sk_test_nope" not in wrong.json()["error"]["message"]  # the key is masked
    assert requests.get(fake.base_url + SESSIONS, auth=(KEY, ""), timeout=5).status_code == 200


def test_version_body_and_parameters_are_checked(fake: FakeStripeIdentity) -> None:
    assert post(fake, SESSIONS, {"type": "document"}, **{"Stripe-Version": "latest"}).status_code == 400
    as_json = requests.post(
        fake.base_url + SESSIONS, json={"type": "document"}, headers={"Authorization": f"Bearer {KEY}"}, timeout=5
    )
    assert as_json.status_code == 400
    unknown = post(fake, SESSIONS, {"type": "document", "colour": "blue"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] | {"request_log_url": ""} == {
        "type": "invalid_request_error",
        "message": "Received unknown parameter: colour",
        "param": "colour",
        "code": "parameter_unknown",
        "request_log_url": "",
    }
    assert post(fake, SESSIONS, {}).json()["error"]["code"] == "parameter_missing"
    assert post(fake, SESSIONS, {"type": "selfie"}).status_code == 400
    assert post(fake, SESSIONS, {"type": "document", "options[document][allowed_types][0]": "visa"}).status_code == 400
    assert post(fake, SESSIONS, {"type": "document", "options[document][require_id_number]": "yes"}).status_code == 400
    assert fake.applicant_count() == 0


def test_idempotency_keys(fake: FakeStripeIdentity) -> None:
    assert post(fake, SESSIONS, {"type": "document"}, **{"Idempotency-Key": "k" * 256}).status_code == 400
    first = post(fake, SESSIONS, {"type": "document"}, **{"Idempotency-Key": "key-1"})
    again = post(fake, SESSIONS, {"type": "document"}, **{"Idempotency-Key": "key-1"})
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = post(fake, SESSIONS, {"type": "id_number"}, **{"Idempotency-Key": "key-1"})
    assert (other.status_code, other.json()["error"]["type"]) == (400, "idempotency_error")
    # a refused request is not stored: the key stays free for a corrected one
    assert post(fake, SESSIONS, {"type": "x"}, **{"Idempotency-Key": "key-2"}).status_code == 400
    assert post(fake, SESSIONS, {"type": "document"}, **{"Idempotency-Key": "key-2"}).status_code == 200
    assert fake.applicant_count() == 2


def test_list_filters_and_cursors(fake: FakeStripeIdentity) -> None:
    ids = [
        post(fake, SESSIONS, {"type": "document", "client_reference_id": f"r{i % 2}"}).json()["id"] for i in range(5)
    ]
    assert get(fake, SESSIONS, limit=0).status_code == 400
    assert get(fake, SESSIONS, limit=101).status_code == 400
    page = get(fake, SESSIONS, limit=2).json()
    assert (page["object"], page["has_more"], [s["id"] for s in page["data"]]) == ("list", True, ids[::-1][:2])
    rest = get(fake, SESSIONS, limit=10, starting_after=page["data"][-1]["id"]).json()
    assert [s["id"] for s in rest["data"]] == ids[::-1][2:]
    assert [s["id"] for s in get(fake, SESSIONS, client_reference_id="r0").json()["data"]] == [ids[4], ids[2], ids[0]]
    assert get(fake, SESSIONS, status="verified").json()["data"] == []


def test_secrets_and_links_only_while_input_is_required(fake: FakeStripeIdentity) -> None:
    created = post(fake, SESSIONS, {"type": "document"}).json()
    assert created["client_secret"].startswith(created["id"] + "_secret_")
    read = get(fake, f"{SESSIONS}/{created['id']}").json()
    assert read["client_secret"] != created["client_secret"]  # a fresh one on every read
    fake.decide(created["id"], "verified")
    verified = get(fake, f"{SESSIONS}/{created['id']}").json()
    assert (verified["client_secret"], verified["url"]) == (None, None)
    assert get(fake, f"{SESSIONS}/vs_missing").json()["error"]["code"] == "resource_missing"


def test_cancel_and_redact_follow_stripes_status_rules(fake: FakeStripeIdentity) -> None:
    first = post(fake, SESSIONS, {"type": "document", "metadata[k]": "v"}).json()["id"]
    fake.decide(first, "processing")
    assert post(fake, f"{SESSIONS}/{first}/cancel").status_code == 400
    assert post(fake, f"{SESSIONS}/{first}/redact").status_code == 400
    fake.decide(first, "verified")
    assert post(fake, f"{SESSIONS}/{first}/cancel").status_code == 400
    redacted = post(fake, f"{SESSIONS}/{first}/redact").json()
    assert (redacted["status"], redacted["redaction"], redacted["metadata"]) == ("verified", {"status": "redacted"}, {})
    second = post(fake, SESSIONS, {"type": "document"}).json()["id"]
    assert post(fake, f"{SESSIONS}/{second}/cancel").json()["status"] == "canceled"
    assert post(fake, f"{SESSIONS}/{second}/redact").status_code == 400  # canceled: not redactable
    types = [event["type"] for event in fake.events(first)]
    assert types[0] == "identity.verification_session.created"
    assert types[-1] == "identity.verification_session.redacted"


def test_events_are_signed_as_stripe_signs_them(fake: FakeStripeIdentity) -> None:
    ref = post(fake, SESSIONS, {"type": "document"}).json()["id"]
    fake.decide(ref, "requires_input:document_expired")
    body, headers = fake.webhook_for(ref, timestamp=1700000000)
    parts = [part.split("=", 1) for part in headers["Stripe-Signature"].split(",")]
    assert [name for name, _ in parts] == ["t", "v1", "v1", "v0"]  # one v1 per endpoint secret; test-mode v0
    for (_, signature), secret in zip(parts[1:3], (b"whsec_old", b"whsec_new"), strict=True):
        assert signature == hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
    event = json.loads(body)
    assert event["type"] == "identity.verification_session.requires_input"
    assert event["data"]["object"]["last_error"]["code"] == "document_expired"
    assert event["data"]["object"]["client_secret"] is None
    # a redelivery is the same event, signed afresh
    later_body, later = fake.webhook_for(ref)
    assert later_body == body
    assert int(later["Stripe-Signature"].split(",")[0][2:]) >= int(time.time()) - 1
