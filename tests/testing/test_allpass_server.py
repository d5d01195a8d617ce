"""The fake Allpass speaks the Open API the way Allpass's API reference describes it: envelope, auth, paths,
validation (``docs/providers/allpass.md``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from django_kyc.testing.allpass import EVENTS, FakeAllpass

KEY = "fake-private-key"
CRYPTO_KEY = "a1" * 32
HMAC_KEY = "fake-hmac"


@pytest.fixture
def fake() -> Iterator[FakeAllpass]:
    server = FakeAllpass(private_app_key=KEY, crypto_key=CRYPTO_KEY, hmac_key=HMAC_KEY)
    with server:
        yield server


def call(
    fake: FakeAllpass, method: str, path: str, body: Any = None, key: str | None = KEY
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-private-app-key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{fake.base_url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def create(fake: FakeAllpass, external: str = "kyc_ref_1", **extra: Any) -> dict[str, Any]:
    status, body, _ = call(
        fake, "POST", "/api/public/applicant", {"externalUserId": external, "flowName": "basic-kyc", **extra}
    )
    assert status == 201, body
    return dict(body["data"])


@pytest.mark.parametrize("key", [None, "", "fake-private-kez"], ids=["missing", "empty", "wrong"])
def test_bad_credentials_are_401_in_the_envelope(fake: FakeAllpass, key: str | None) -> None:
    status, body, _ = call(fake, "POST", "/api/public/applicant", {"externalUserId": "x", "flowName": "basic-kyc"}, key)
    assert status == 401
    assert (body["status"], body["statusCode"], body["message"], body["data"]) == (False, 401, "Unauthorized", None)
    assert body["time"].endswith("Z")
    assert fake.applicant_count() == 0


def test_create_answers_201_with_the_documented_envelope(fake: FakeAllpass) -> None:
    status, body, _ = call(
        fake,
        "POST",
        "/api/public/applicant",
        {"externalUserId": "kyc_1", "flowName": "basic-kyc", "email": "a@example.com", "suppliedInfo": {"x": 1}},
    )
    assert status == 201
    assert set(body) == {"status", "statusCode", "data", "time"}
    assert (body["status"], body["statusCode"]) == (True, 200)
    data = body["data"]
    assert (data["externalUserId"], data["status"], data["flow"]["name"]) == ("kyc_1", "INIT", "basic-kyc")
    assert not any(key.startswith("_") for key in data)
    assert fake.created_with[0]["suppliedInfo"] == {"x": 1}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param({"flowName": "basic-kyc"}, 400, ["externalUserId should not be empty"], id="no-external-id"),
        pytest.param({"externalUserId": 5, "flowName": "basic-kyc"}, 400, None, id="number-id"),
        pytest.param({"externalUserId": "a", "flowName": "basic-kyc", "suppliedInfo": []}, 400, None, id="info"),
        pytest.param({"externalUserId": "a", "flowName": "nope"}, 404, "Flow 'nope' not found", id="flow"),
    ],
)
def test_create_is_validated(fake: FakeAllpass, body: dict[str, Any], status: int, message: Any) -> None:
    answered, payload, _ = call(fake, "POST", "/api/public/applicant", body)
    assert answered == status
    assert payload["status"] is False
    if message is not None:
        assert payload["message"] == message
    assert fake.applicant_count() == 0


def test_external_user_id_is_unique_and_addresses_the_applicant(fake: FakeAllpass) -> None:
    created = create(fake, "kyc_dup")
    status, body, _ = call(
        fake, "POST", "/api/public/applicant", {"externalUserId": "kyc_dup", "flowName": "basic-kyc"}
    )
    assert (status, body["statusCode"]) == (409, 409)
    for key in (created["id"], "kyc_dup"):
        status, body, _ = call(fake, "GET", f"/api/public/applicant/{key}")
        assert (status, body["data"]["id"]) == (200, created["id"])
        status, body, _ = call(fake, "GET", f"/api/public/applicant/{key}/status")
        assert body["data"] == {"id": created["id"], "status": "INIT"}
    status, body, _ = call(fake, "GET", "/api/public/applicant/unknown")
    assert (status, body["message"]) == (404, "Applicant not found")


def test_token_move_delete_restore(fake: FakeAllpass) -> None:
    applicant_id = create(fake)["id"]
    status, body, _ = call(
        fake,
        "POST",
        f"/api/public/applicant/{applicant_id}/token",
        {"locale": "en-US", "ttl": 60, "flowName": "basic-kyc"},
    )
    assert status == 201
    assert set(body["data"]) == {"transactionId", "accessToken", "link", "applicantId", "ttl"}
    assert (body["data"]["applicantId"], body["data"]["ttl"]) == (applicant_id, 60)
    status, body, _ = call(fake, "POST", f"/api/public/applicant/{applicant_id}/token", {"ttl": 3_153_600_001})
    assert (status, body["message"]) == (400, ["ttl must not be greater than 3153600000"])

    status, body, _ = call(fake, "POST", f"/api/public/applicant/{applicant_id}/moveToFlow", {"flowId": "2"})
    assert (status, body["data"]) == (200, {"id": applicant_id, "status": "INIT"})
    assert fake.applicant(applicant_id)["flow"]["name"] == "enhanced-kyc"
    status, _, _ = call(fake, "POST", f"/api/public/applicant/{applicant_id}/moveToFlow", {"flowId": 2})
    assert status == 400

    status, body, _ = call(fake, "POST", f"/api/public/applicant/{applicant_id}/schedule-deletion")
    assert status == 200
    assert body["data"]["scheduledDeletionDate"].endswith("Z")
    status, body, _ = call(fake, "POST", f"/api/public/applicant/{applicant_id}/restore")
    assert (status, body["data"]) == (200, {"id": applicant_id})
    status, _, _ = call(fake, "POST", f"/api/public/applicant/{applicant_id}/restore")
    assert status == 400


def test_questionnaire(fake: FakeAllpass) -> None:
    status, body, _ = call(fake, "GET", "/api/public/questionnaire/q-onboarding")
    assert status == 200
    assert {"id", "name", "description", "content", "version"} <= set(body["data"])
    assert call(fake, "GET", "/api/public/questionnaire/missing")[0] == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param({"blockchain": "NOPE", "address": "bc1qabcdefghij"}, "blockchain must be one of", id="enum"),
        pytest.param({"blockchain": "BTC"}, "either txHash or address", id="neither"),
        pytest.param({"blockchain": "BTC", "address": "bc1q", "txHash": "a" * 64}, "mutually exclusive", id="both"),
        pytest.param({"blockchain": "ETH", "txHash": "0x" + "a" * 65}, "txHash must match", id="hash"),
    ],
)
def test_crypto_aml_search_is_validated(fake: FakeAllpass, body: dict[str, Any], problem: str) -> None:
    status, payload, _ = call(fake, "POST", "/api/public/crypto-aml/search", body)
    assert status == 400
    assert any(problem in message for message in payload["message"])
    assert not fake.aml


def test_crypto_aml_search_and_details_are_deterministic(fake: FakeAllpass) -> None:
    status, body, _ = call(
        fake, "POST", "/api/public/crypto-aml/search", {"blockchain": "BTC", "address": "bc1qbad0001"}
    )
    assert (status, body["data"]["type"]) == (201, "WALLET")
    aml_id = body["data"]["id"]
    status, body, _ = call(fake, "GET", f"/api/public/crypto-aml/{aml_id}/details?type=WALLET")
    assert status == 200
    assert (body["data"]["score"], body["data"]["reviewStatus"]) == (87, "UNKNOWN")
    assert {entity["id"] for entity in body["data"]["entities"]} == {"ent-darknet", "ent-mixer", "ent-exchange"}
    assert call(fake, "GET", f"/api/public/crypto-aml/{aml_id}/details?type=TRANSACTION")[0] == 404
    assert call(fake, "GET", f"/api/public/crypto-aml/{aml_id}/details")[0] == 400
    status, body, _ = call(fake, "POST", "/api/public/crypto-aml/search", {"blockchain": "ETH", "txHash": "c" * 64})
    assert body["data"]["type"] == "TRANSACTION"
    details = call(fake, "GET", f"/api/public/crypto-aml/{body['data']['id']}/details?type=TRANSACTION")[1]["data"]
    assert (details["score"], details["address"]) == (3, None)


def test_faults_answer_in_the_envelope(fake: FakeAllpass) -> None:
    fake.fail_next(1, status=429, retry_after=7, message="Too many requests")
    status, body, headers = call(fake, "GET", "/api/public/applicant/x")
    assert (status, body["status"], body["statusCode"], body["message"]) == (429, False, 429, "Too many requests")
    assert headers["Retry-After"] == "7"


@pytest.mark.parametrize("mode", ["cbc-hmac", "gcm"])
def test_webhooks_are_encrypted_in_the_configured_mode(mode: str) -> None:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    with FakeAllpass(private_app_key=KEY, crypto_key=CRYPTO_KEY, hmac_key=HMAC_KEY, webhook_mode=mode) as server:
        assert isinstance(server, FakeAllpass)
        applicant_id = create(server)["id"]
        server.decide(applicant_id, "REJECTED")
        body, headers = server.webhook_for(applicant_id)
    envelope = json.loads(body)
    assert (envelope["status"], envelope["statusCode"]) == (True, 200)
    blob, signature = envelope["data"], headers["x-allpass-signature"]
    key = bytes.fromhex(CRYPTO_KEY)
    if mode == "cbc-hmac":
        assert signature == hmac.new(HMAC_KEY.encode(), blob.encode(), hashlib.sha256).hexdigest()
        raw = bytes.fromhex(blob)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        plaintext = unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize()) + unpadder.finalize()
    else:
        raw = bytes.fromhex(blob)
        decryptor = Cipher(algorithms.AES(key), modes.GCM(raw[:12], bytes.fromhex(signature))).decryptor()
        plaintext = decryptor.update(raw[12:]) + decryptor.finalize()
    payload = json.loads(plaintext)
    assert payload["type"] == EVENTS["REJECTED"] == "applicantRejected"
    assert (payload["id"], payload["externalUserId"], payload["warnings"]) == (
        applicant_id,
        "kyc_ref_1",
        ["FACE_MISMATCH"],
    )
    assert payload["appKey"] == server.app_key


def test_event_times_only_grow_and_an_unchanged_state_repeats_its_time(fake: FakeAllpass) -> None:
    applicant_id = create(fake)["id"]
    fake.decide(applicant_id, "IN_PROGRESS")
    first = json.loads(fake.webhook_for(applicant_id)[0])["time"]
    again = json.loads(fake.webhook_for(applicant_id)[0])["time"]
    fake.decide(applicant_id, "APPROVED")
    later = json.loads(fake.webhook_for(applicant_id)[0])["time"]
    assert first == again < later


def test_deliver_posts_to_the_applications_webhook_url() -> None:
    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append((self.rfile.read(length), self.headers["x-allpass-signature"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        with FakeAllpass(private_app_key=KEY, callback_url=url) as server:
            assert isinstance(server, FakeAllpass)
            applicant_id = create(server)["id"]
            assert server.deliver(applicant_id, "APPROVED") == 200
    finally:
        receiver.shutdown()
        receiver.server_close()
    ((body, signature),) = received
    assert json.loads(body)["status"] is True
    assert len(signature) == 64
