"""The fake KYCAID itself: credentials, KYCAID's error formats, state, faults and signed callbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from django_kyc.testing.kycaid import FakeKycaid
from tests.support.files import make_png

TOKEN = "fake-kycaid-token"
HEX36 = re.compile(r"^[0-9a-f]{36}$")


def expected_signature(body: bytes, token: str) -> str:
    return hmac.new(token.encode(), base64.b64encode(body), hashlib.sha512).hexdigest()


@pytest.fixture
def kycaid() -> Iterator[FakeKycaid]:
    with FakeKycaid(api_token=TOKEN, form_id="form-1") as fake:
        yield fake


@pytest.fixture
def api(kycaid: FakeKycaid) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {TOKEN}"
    return session


def url(kycaid: FakeKycaid, path: str) -> str:
    return f"{kycaid.base_url}{path}"


def make_applicant(kycaid: FakeKycaid, api: requests.Session) -> str:
    response = api.post(
        url(kycaid, "/applicants"), json={"type": "PERSON", "first_name": "Jane", "last_name": "Smith"}, timeout=5
    )
    assert response.status_code == 200, response.text
    applicant_id: str = response.json()["applicant_id"]
    return applicant_id


class Capture:
    """A tiny HTTP server standing in for our webhook endpoint."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Event()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                capture.received.append((body, {k.lower(): v for k, v in self.headers.items()}))
                capture.arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/kyc/webhooks/kycaid/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def capture() -> Iterator[Capture]:
    server = Capture()
    yield server
    server.close()


def test_missing_or_wrong_token_is_403(kycaid: FakeKycaid) -> None:
    for headers in ({}, {"Authorization": "Token wrong"}, {"Authorization": f"Bearer {TOKEN}"}):
        response = requests.get(url(kycaid, "/verifications/x"), headers=headers, timeout=5)
        assert response.status_code == 403
        assert response.json()["type"] == "unauthorized"
    assert kycaid.applicant_count() == 0


def test_missing_fields_get_kycaids_422_validation_format(kycaid: FakeKycaid, api: requests.Session) -> None:
    response = api.post(url(kycaid, "/applicants"), json={"type": "PERSON", "last_name": "Smith"}, timeout=5)
    assert response.status_code == 422
    assert response.json() == {
        "type": "validation",
        "errors": [{"parameter": "first_name", "message": "First name is required"}],
    }
    response = api.post(url(kycaid, "/applicants"), json={"type": "ROBOT", "dob": "03/02/1990"}, timeout=5)
    assert {e["parameter"] for e in response.json()["errors"]} == {"type", "dob"}
    response = api.post(url(kycaid, "/verifications"), json={}, timeout=5)
    assert {e["parameter"] for e in response.json()["errors"]} == {"applicant_id", "form_id"}
    response = api.post(url(kycaid, "/files"), data={"nothing": "here"}, timeout=5)
    assert response.json()["errors"] == [{"parameter": "file", "message": "File is required"}]
    assert api.post(url(kycaid, "/applicants"), data=b"not json", timeout=5).status_code == 422


def test_objects_have_36_hex_ids_and_keep_state(kycaid: FakeKycaid, api: requests.Session) -> None:
    applicant_id = make_applicant(kycaid, api)
    file_id = api.post(url(kycaid, "/files"), files={"file": ("front.png", make_png(), "image/png")}, timeout=5).json()[
        "file_id"
    ]
    response = api.post(
        url(kycaid, "/documents"),
        json={"applicant_id": applicant_id, "type": "PASSPORT", "front_side_id": file_id, "document_number": "X1"},
        timeout=5,
    )
    document_id = response.json()["document_id"]
    verification_id = api.post(
        url(kycaid, "/verifications"), json={"applicant_id": applicant_id, "form_id": "form-1"}, timeout=5
    ).json()["verification_id"]
    for value in (applicant_id, file_id, document_id, verification_id):
        assert HEX36.match(value)
    assert kycaid.files[file_id]["content_type"] == "image/png"

    document = api.get(url(kycaid, f"/documents/{document_id}"), timeout=5).json()
    assert (document["status"], document["provider"], document["decline_reasons"]) == ("new", "MANUAL", [])
    applicant = api.get(url(kycaid, f"/applicants/{applicant_id}"), timeout=5).json()
    assert [d["document_id"] for d in applicant["documents"]] == [document_id]
    verification = api.get(url(kycaid, f"/verifications/{verification_id}"), timeout=5).json()
    assert (verification["status"], verification["verified"]) == ("pending", None)

    kycaid.decide(verification_id, "declined_quality")
    document = api.get(url(kycaid, f"/documents/{document_id}"), timeout=5).json()
    assert (document["status"], document["decline_reasons"], document["decline_reasons_ids"]) == (
        "invalid",
        ["BAD_QUALITY"],
        [7],
    )
    patched = api.patch(url(kycaid, f"/documents/{document_id}"), json={"document_number": "X2"}, timeout=5)
    assert patched.json() == {"document_id": document_id}
    assert api.delete(url(kycaid, f"/documents/{document_id}"), timeout=5).json() == {"document_id": document_id}
    assert api.get(url(kycaid, f"/documents/{document_id}"), timeout=5).status_code == 404

    bad = api.post(
        url(kycaid, "/documents"), json={"applicant_id": applicant_id, "type": "PASSPORT", "front_side_id": "0" * 36}
    )
    assert bad.json()["errors"] == [{"parameter": "front_side_id", "message": "File not found"}]
    wrong_form = api.post(url(kycaid, "/verifications"), json={"applicant_id": applicant_id, "form_id": "nope"})
    assert wrong_form.json()["errors"] == [{"parameter": "form_id", "message": "Form not found"}]


def test_form_url_uses_the_documented_misspelling(kycaid: FakeKycaid, api: requests.Session) -> None:
    response = api.post(url(kycaid, "/forms/form-1/urls"), json={"external_applicant_id": "kyc_abc"}, timeout=5)
    body = response.json()
    assert set(body) == {"form_id", "form_url", "verificaiton_id", "form_token", "verification_attempts_left"}
    assert body["verification_attempts_left"] is None
    assert kycaid.verifications[body["verificaiton_id"]]["status"] == "unused"
    assert api.post(url(kycaid, "/forms/other/urls"), json={}, timeout=5).status_code == 404


def test_injected_faults_then_normal_service(kycaid: FakeKycaid, api: requests.Session) -> None:
    kycaid.fail_next(1, status=503)
    kycaid.fail_next(1, status=422, message="Injected")
    assert api.post(url(kycaid, "/applicants"), json={}, timeout=5).status_code == 503
    rejected = api.post(url(kycaid, "/applicants"), json={}, timeout=5)
    assert rejected.json() == {"type": "validation", "errors": [{"parameter": "request", "message": "Injected"}]}
    make_applicant(kycaid, api)
    assert kycaid.applicant_count() == 1


def test_callbacks_are_signed_as_kycaid_signs_them(kycaid: FakeKycaid, api: requests.Session) -> None:
    applicant_id = make_applicant(kycaid, api)
    ref = api.post(url(kycaid, "/verifications"), json={"applicant_id": applicant_id, "form_id": "form-1"}).json()[
        "verification_id"
    ]
    kycaid.decide(ref, "pending")
    body, headers = kycaid.webhook_for(ref)
    assert headers["x-data-integrity"] == expected_signature(body, TOKEN)
    changed = json.loads(body)
    assert set(changed) == {
        "type",
        "request_id",
        "applicant_id",
        "external_applicant_id",
        "form_id",
        "form_token",
        "verification_id",
        "verification_status",
        "verification_attempts_left",
    }
    assert (changed["type"], changed["verification_status"]) == ("VERIFICATION_STATUS_CHANGED", "pending")
    assert kycaid.webhook_for(ref) == (body, headers)  # the same state, the same delivery

    completed_body, completed_headers = kycaid.webhook_for(ref, "approved")
    completed = json.loads(completed_body)
    assert completed["request_id"] != changed["request_id"]
    assert HEX36.match(completed["request_id"])
    assert (completed["type"], completed["status"], completed["verified"]) == (
        "VERIFICATION_COMPLETED",
        "completed",
        True,
    )
    assert completed["verifications"]["document"] == {"verified": True, "comment": "", "decline_reasons": []}
    assert completed["applicant"]["profile_status"] == "valid"
    assert completed_headers["x-data-integrity"] == expected_signature(completed_body, TOKEN)
    with pytest.raises(ValueError, match="unknown outcome"):
        kycaid.decide(ref, "maybe")


def test_deliver_posts_the_signed_callback(kycaid: FakeKycaid, api: requests.Session, capture: Capture) -> None:
    applicant_id = make_applicant(kycaid, api)
    ref = api.post(
        url(kycaid, "/verifications"),
        json={"applicant_id": applicant_id, "form_id": "form-1", "callback_url": capture.url},
    ).json()["verification_id"]
    assert kycaid.callback_url(ref) == capture.url
    kycaid.decide(ref, "declined")
    assert kycaid.deliver(ref) == 200
    [(body, headers)] = capture.received
    assert headers["x-data-integrity"] == expected_signature(body, TOKEN)
    assert json.loads(body)["verified"] is False


def test_upper_case_option_names_are_accepted() -> None:
    fake = FakeKycaid(API_TOKEN="upper", FORM_ID="f", VERIFICATION_ATTEMPTS="3")  # type: ignore[arg-type]
    assert (fake.api_token, fake.form_id, fake.verification_attempts) == ("upper", "f", 3)
    with pytest.raises(TypeError, match="no option"):
        FakeKycaid(colour="blue")
