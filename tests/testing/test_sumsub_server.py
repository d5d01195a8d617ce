"""What the fake Sumsub does beyond the contract: how strict it is about signatures, paths and shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from urllib3 import encode_multipart_formdata

from django_kyc.testing.sumsub import OUTCOMES, FakeSumsub, request_signature

TOKEN, SECRET, WEBHOOK = "sbx:server-test", "server-secret", "server-webhook"


@pytest.fixture
def fake() -> Iterator[FakeSumsub]:
    with FakeSumsub(app_token=TOKEN, secret_key=SECRET, webhook_secret=WEBHOOK, level_name="kyc") as server:
        yield server


def send(
    fake: FakeSumsub,
    method: str,
    target: str,
    body: bytes = b"",
    content_type: str = "application/json",
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signed_target: str | None = None,
    signed_body: bytes | None = None,
) -> requests.Response:
    """A request signed as Sumsub wants it (or, through the overrides, signed wrongly)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = request_signature(
        secret,
        ts,
        method,
        target if signed_target is None else signed_target,
        body if signed_body is None else signed_body,
    )
    headers = {"X-App-Token": TOKEN, "X-App-Access-Ts": ts, "X-App-Access-Sig": signature}
    if body:
        headers["Content-Type"] = content_type
    return requests.request(method, fake.base_url + target, data=body or None, headers=headers, timeout=5)


def create(fake: FakeSumsub, external: str = "ref-1") -> dict[str, Any]:
    body = json.dumps({"externalUserId": external}).encode()
    response = send(fake, "POST", f"/resources/applicants?levelName={fake.level_name}", body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def id_doc(
    fake: FakeSumsub, applicant_id: str, metadata: Any, content: bytes | None = b"\x89PNG..."
) -> requests.Response:
    fields: dict[str, Any] = {"metadata": metadata if isinstance(metadata, str) else json.dumps(metadata)}
    if content is not None:
        fields["content"] = ("front.png", content, "image/png")
    body, content_type = encode_multipart_formdata(fields)
    return send(fake, "POST", f"/resources/applicants/{applicant_id}/info/idDoc", body, content_type)


# --- request signatures ------------------------------------------------------------------------------------
def test_a_correctly_signed_request_is_answered(fake: FakeSumsub) -> None:
    created = create(fake)
    assert len(created["id"]) == 24
    assert created["review"]["reviewStatus"] == "init"
    assert created["levelName"] == "kyc"


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"secret": "wrong"}, "Invalid signature"),
        ({"timestamp": int(time.time()) - 120}, "too far from the server time"),
        ({"signed_target": "/resources/applicants"}, "Invalid signature"),  # the query is signed too
        ({"signed_body": b"{}"}, "Invalid signature"),  # so is the body
    ],
)
def test_a_wrongly_signed_request_is_refused_in_sumsubs_format(
    fake: FakeSumsub, changes: dict[str, Any], description: str
) -> None:
    body = json.dumps({"externalUserId": "x"}).encode()
    response = send(fake, "POST", "/resources/applicants?levelName=kyc", body, **changes)
    assert response.status_code == 401
    error = response.json()
    assert description in error["description"]
    assert error["code"] == 401
    assert error["correlationId"].startswith("req-")
    assert fake.applicants == {}


def test_a_request_without_the_app_token_is_refused(fake: FakeSumsub) -> None:
    response = requests.get(f"{fake.base_url}/resources/applicants/x/one", timeout=5)
    assert response.status_code == 401


# --- applicants ------------------------------------------------------------------------------------------
def test_external_user_ids_are_unique_and_can_be_looked_up(fake: FakeSumsub) -> None:
    created = create(fake, "person/42")
    again = send(fake, "POST", "/resources/applicants?levelName=kyc", b'{"externalUserId":"person/42"}')
    assert again.status_code == 409
    found = send(fake, "GET", "/resources/applicants/-;externalUserId=person%2F42/one")
    assert found.json()["id"] == created["id"]
    assert send(fake, "GET", "/resources/applicants/-;externalUserId=nobody/one").status_code == 404


def test_unknown_levels_are_refused(fake: FakeSumsub) -> None:
    response = send(fake, "POST", "/resources/applicants?levelName=KYC", b"{}")  # case-sensitive
    assert (response.status_code, response.json()["description"]) == (404, "Level 'KYC' not found")


# --- documents and checks --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "description"),
    [
        ("not json", "metadata is not JSON"),
        ({"country": "GBR"}, "idDocType is required"),
        ({"idDocType": "PASSPORT", "country": "GB"}, "ISO 3166-1 alpha-3"),
        ({"idDocType": "ID_CARD", "country": "DEU", "idDocSubType": "LEFT"}, "FRONT_SIDE or BACK_SIDE"),
    ],
)
def test_id_documents_are_validated(fake: FakeSumsub, metadata: Any, description: str) -> None:
    applicant = create(fake)
    response = id_doc(fake, applicant["id"], metadata)
    assert response.status_code == 400
    assert description in response.json()["description"]
    assert fake.images == {}


def test_an_id_document_answers_with_its_image_id(fake: FakeSumsub) -> None:
    applicant = create(fake)
    response = id_doc(fake, applicant["id"], {"idDocType": "PASSPORT", "country": "GBR"})
    assert response.status_code == 200
    image = fake.images[response.headers["X-Image-Id"]]
    assert (image["filename"], image["content_type"], image["metadata"]["country"]) == ("front.png", "image/png", "GBR")
    json_body = send(fake, "POST", f"/resources/applicants/{applicant['id']}/info/idDoc", b"{}")
    assert json_body.status_code == 400  # multipart only


def test_a_check_needs_documents_and_cannot_be_requested_twice(fake: FakeSumsub) -> None:
    applicant = create(fake)
    path = f"/resources/applicants/{applicant['id']}/status/pending"
    missing = send(fake, "POST", path)
    assert missing.status_code == 409
    assert missing.json()["description"].startswith("Not all required documents")
    id_doc(fake, applicant["id"], {"idDocType": "PASSPORT", "country": "GBR"}, content=None)
    assert send(fake, "POST", path).json() == {"ok": 1}
    assert send(fake, "POST", path).status_code == 409
    status = send(fake, "GET", f"/resources/applicants/{applicant['id']}/status").json()
    assert (status["reviewStatus"], status["attemptCnt"]) == ("pending", 1)


def test_access_tokens_are_issued_for_a_level(fake: FakeSumsub) -> None:
    body = json.dumps({"userId": "ref-1", "levelName": "kyc", "ttlInSecs": 900}).encode()
    answer = send(fake, "POST", "/resources/accessTokens/sdk", body).json()
    assert answer["userId"] == "ref-1"
    assert answer["token"] in fake.access_tokens
    bad = json.dumps({"userId": "ref-1", "levelName": "kyc", "ttlInSecs": "soon"}).encode()
    assert send(fake, "POST", "/resources/accessTokens/sdk", bad).status_code == 400


def test_sandbox_can_set_a_review_result_and_applicants_can_be_deactivated(fake: FakeSumsub) -> None:
    applicant = create(fake)
    result = {"reviewAnswer": "RED", "reviewRejectType": "RETRY", "rejectLabels": ["SCREENSHOTS"]}
    path = f"/resources/applicants/{applicant['id']}/status/testCompleted"
    assert send(fake, "POST", path, json.dumps(result).encode()).status_code == 200
    status = send(fake, "GET", f"/resources/applicants/{applicant['id']}/status").json()
    assert status["reviewResult"]["rejectLabels"] == ["SCREENSHOTS"]
    deactivated = send(fake, "PATCH", f"/resources/applicants/{applicant['id']}/presence/deactivated")
    assert deactivated.json()["deleted"] is True


# --- webhooks and faults ---------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"])
def test_webhooks_are_signed_with_the_configured_algorithm(algorithm: str) -> None:
    with FakeSumsub(app_token=TOKEN, secret_key=SECRET, webhook_secret=WEBHOOK, digest_algorithm=algorithm) as fake:
        applicant = create(fake)
        body, headers = fake.webhook_for(applicant["id"], "approved")
    digest = getattr(hashlib, algorithm.split("_")[1].lower())
    assert headers["X-Payload-Digest"] == hmac.new(WEBHOOK.encode(), body, digest).hexdigest()
    assert headers["X-Payload-Digest-Alg"] == algorithm
    payload = json.loads(body)
    assert (payload["type"], payload["reviewStatus"], payload["reviewResult"]["reviewAnswer"]) == (
        "applicantReviewed",
        "completed",
        "GREEN",
    )


def test_a_review_is_delivered_the_same_way_again_and_a_new_one_differently(fake: FakeSumsub) -> None:
    applicant = create(fake)
    first = fake.webhook_for(applicant["id"], "pending")
    assert fake.webhook_for(applicant["id"]) == first
    second = fake.webhook_for(applicant["id"], "approved")
    assert json.loads(second[0])["createdAtMs"] > json.loads(first[0])["createdAtMs"]


def test_every_outcome_can_be_set(fake: FakeSumsub) -> None:
    applicant = create(fake)
    for outcome, (status, _) in OUTCOMES.items():
        fake.decide(applicant["id"], outcome)
        assert json.loads(fake.webhook_for(applicant["id"])[0])["reviewStatus"] == status
    with pytest.raises(ValueError, match="unknown outcome"):
        fake.decide(applicant["id"], "maybe")


def test_faults_answer_in_sumsubs_format(fake: FakeSumsub) -> None:
    fake.fail_next(1, status=429, retry_after=3, message="Too many requests")
    response = send(fake, "GET", "/resources/applicants/x/one")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    assert response.json()["description"] == "Too many requests"


def test_step_statuses_list_each_steps_images_and_its_review(fake: FakeSumsub) -> None:
    applicant = create(fake)
    uploaded = id_doc(fake, applicant["id"], {"idDocType": "PASSPORT", "country": "GBR"}).headers["X-Image-Id"]
    captured = fake.capture(applicant["id"], "SELFIE", "GBR")
    path = f"/resources/applicants/{applicant['id']}/requiredIdDocsStatus"
    steps = send(fake, "GET", path).json()
    assert steps["IDENTITY"] == {"idDocType": "PASSPORT", "country": "GBR", "imageIds": [int(uploaded)]}
    assert steps["SELFIE"]["imageIds"] == [int(captured)]
    fake.decide(applicant["id"], "declined")
    assert send(fake, "GET", path).json()["IDENTITY"]["reviewResult"]["rejectLabels"] == ["FORGERY"]
