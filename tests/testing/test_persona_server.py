"""What the fake Persona does beyond the contract: Persona's strictness about keys, versions, bodies and
attributes, its idempotency layer, list cursors, the status rules of resume and one-time links, redaction, and
the signature it puts on events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from django_kyc.backends.persona.state import token_expiry
from django_kyc.testing.persona import FakePersona

KEY = "persona_sandbox_fake"
INQUIRIES = "/api/v1/inquiries"
CREATE = {"data": {"attributes": {"inquiry-template-id": "itmpl_x", "reference-id": "kyc_0123456789abcdef0123"}}}


@pytest.fixture
def fake() -> Iterator[FakePersona]:
    server = FakePersona(api_key=KEY, webhook_secrets="wbhsec_old,wbhsec_new")
    with server:
        yield server


def call(fake: FakePersona, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.request(
        method,
        fake.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {KEY}", **headers},
        timeout=5,
    )


def create(fake: FakePersona, key: str = "", **attributes: Any) -> requests.Response:
    body = {"data": {"attributes": {**CREATE["data"]["attributes"], **attributes}}}
    return call(fake, "POST", INQUIRIES, body, **({"Idempotency-Key": key} if key else {}))


def test_the_key_is_a_bearer_token_and_errors_are_persona_shaped(fake: FakePersona) -> None:
    missing = requests.get(fake.base_url + INQUIRIES, timeout=5)
    assert missing.status_code == 401
    assert set(missing.json()["errors"][0]) == {"title", "details"}
    wrong = requests.get(fake.base_url + INQUIRIES, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401
    assert requests.get(fake.base_url + INQUIRIES, headers={"Authorization": KEY}, timeout=5).status_code == 401
    answer = call(fake, "GET", INQUIRIES)
    assert answer.status_code == 200
    assert answer.headers["RateLimit-Limit"] == "300"


def test_version_inflection_body_and_attributes_are_checked(fake: FakePersona) -> None:
    assert call(fake, "GET", INQUIRIES, **{"Persona-Version": "latest"}).status_code == 400
    assert call(fake, "GET", INQUIRIES, **{"Key-Inflection": "camel"}).status_code == 400
    as_form = requests.post(
        fake.base_url + INQUIRIES, data="a=b", headers={"Authorization": f"Bearer {KEY}"}, timeout=5
    )
    assert as_form.status_code == 400
    assert call(fake, "POST", INQUIRIES, {"attributes": {}}).status_code == 400  # not JSON:API
    unknown = create(fake, **{"first_name": "Jane"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["source"]["pointer"] == "/data/attributes/first_name"
    both = create(fake, **{"template-id": "tmpl_x"})
    assert both.status_code == 422  # two templates
    assert create(fake, **{"inquiry-template-id": "tmpl_x"}).status_code == 404  # not an itmpl_ id
    assert create(fake, **{"expiration-after-create-interval-seconds": "soon"}).status_code == 400
    made = create(fake)
    assert made.status_code == 201
    inquiry = made.json()["data"]
    assert (inquiry["type"], inquiry["attributes"]["status"]) == ("inquiry", "created")
    assert inquiry["id"].startswith("inq_")


def test_idempotency_replays_and_refuses_other_parameters(fake: FakePersona) -> None:
    first = create(fake, "key-1")
    again = create(fake, "key-1")
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = create(fake, "key-1", note="something else")
    assert other.status_code == 409
    assert fake.applicant_count() == 1
    unauthorised = requests.post(
        fake.base_url + INQUIRIES,
        json=CREATE,
        headers={"Authorization": "Bearer nope", "Idempotency-Key": "k2"},
        timeout=5,
    )
    assert unauthorised.status_code == 401
    assert create(fake, "k2").status_code == 201  # a 401 is never stored under the key
    assert [key for _, _, key in fake.posts] == ["key-1", "key-1", "key-1", "k2", "k2"]


def test_lists_filter_by_reference_and_page_with_cursors(fake: FakePersona) -> None:
    ids = [create(fake).json()["data"]["id"] for _ in range(3)]
    create(fake, **{"reference-id": "someone-else"})
    page = call(fake, "GET", f"{INQUIRIES}?page[size]=2&filter[reference-id]=kyc_0123456789abcdef0123").json()
    assert [item["id"] for item in page["data"]] == ids[::-1][:2]
    assert page["links"]["next"]
    rest = call(fake, "GET", page["links"]["next"]).json()
    assert [item["id"] for item in rest["data"]] == [ids[0]]
    assert rest["links"]["next"] is None
    assert call(fake, "GET", f"{INQUIRIES}?page[size]=500").status_code == 400
    assert call(fake, "GET", f"{INQUIRIES}?filter[status]=approved").status_code == 400


def test_resume_and_one_time_links_follow_the_status_rules(fake: FakePersona) -> None:
    ref = create(fake).json()["data"]["id"]
    resumed = call(fake, "POST", f"{INQUIRIES}/{ref}/resume")
    assert resumed.status_code == 200
    assert token_expiry(resumed.json()["meta"]["session-token"]) is not None
    link = call(fake, "POST", f"{INQUIRIES}/{ref}/generate-one-time-link")
    assert link.json()["meta"]["one-time-link"].startswith(fake.base_url + "/verify?code=")
    fake.decide(ref, "expired")
    assert call(fake, "POST", f"{INQUIRIES}/{ref}/generate-one-time-link").status_code == 409  # resume first
    assert call(fake, "POST", f"{INQUIRIES}/{ref}/resume").status_code == 200
    assert fake.inquiry(ref)["attributes"]["status"] == "pending"
    for status in ("completed", "failed", "needs_review", "approved", "declined"):
        fake.decide(ref, status)
        assert call(fake, "POST", f"{INQUIRIES}/{ref}/resume").status_code == 409, status
    assert call(fake, "POST", f"{INQUIRIES}/inq_missing/resume").status_code == 404


def test_redaction_keeps_the_status_and_blocks_resuming(fake: FakePersona) -> None:
    ref = create(fake).json()["data"]["id"]
    fake.decide(ref, "pending")
    redacted = call(fake, "DELETE", f"{INQUIRIES}/{ref}")
    assert redacted.status_code == 200
    attributes = redacted.json()["data"]["attributes"]
    assert (attributes["status"], bool(attributes["redacted-at"])) == ("pending", True)
    assert call(fake, "POST", f"{INQUIRIES}/{ref}/resume").status_code == 409
    assert fake.events(ref)[-1]["data"]["attributes"]["name"] == "inquiry.redacted"
    assert call(fake, "DELETE", f"{INQUIRIES}/inq_missing").status_code == 404


def test_events_are_signed_one_group_per_secret_with_the_attempt_headers(fake: FakePersona) -> None:
    ref = create(fake).json()["data"]["id"]
    fake.decide(ref, "needs_review")
    body, headers = fake.webhook_for(ref, attempt=2)
    event = json.loads(body)["data"]
    assert event["attributes"]["name"] == "inquiry.marked-for-review"
    assert event["attributes"]["payload"]["data"]["id"] == ref
    groups = headers["Persona-Signature"].split(" ")
    assert len(groups) == 2
    for group, secret in zip(groups, ("wbhsec_old", "wbhsec_new"), strict=True):
        t, v1 = (part.split("=", 1)[1] for part in group.split(","))
        assert abs(int(t) - time.time()) < 5
        assert v1 == hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert (headers["Persona-Webhook-Attempts-Made"], headers["Persona-Webhook-Attempts-Left"]) == ("2", "6")
    first = fake.events(ref)[0]["data"]["id"]
    body, _ = fake.webhook_for(ref, event_id=first)
    assert json.loads(body)["data"]["attributes"]["name"] == "inquiry.created"


def test_auto_decide_walks_the_inquiry_to_the_outcome(fake: FakePersona) -> None:
    fake.auto_outcome, fake.auto_delay = "approved", 0.01
    ref = create(fake).json()["data"]["id"]
    deadline = time.time() + 5
    while fake.inquiry(ref)["attributes"]["status"] != "approved" and time.time() < deadline:
        time.sleep(0.02)
    names = [e["data"]["attributes"]["name"] for e in fake.events(ref)]
    assert names == ["inquiry.created", "inquiry.started", "inquiry.completed", "inquiry.approved"]
