"""The fake PassportReader speaks the provider's API the way its reference page describes it."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from django_kyc.testing.passportreader import SPECIMEN, FakePassportReader

PUBLIC_KEY = "public-key-fake"
SECRET = "secret-fake"
#: The API reference's formula: base64(public key + ":" + secret), computed by hand for these credentials.
AUTHORIZATION = "Basic cHVibGljLWtleS1mYWtlOnNlY3JldC1mYWtl"


@pytest.fixture
def fake() -> Iterator[FakePassportReader]:
    with FakePassportReader(public_key=PUBLIC_KEY, secret=SECRET) as server:
        yield server


def call(
    base: str,
    method: str,
    body: bytes | None = b"{}",
    authorization: str = AUTHORIZATION,
    http_method: str = "POST",
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(f"{base}/api/v1/{method}", data=body, headers=headers, method=http_method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_authorization_vector_matches_the_api_reference_formula() -> None:
    assert "Basic " + base64.b64encode(f"{PUBLIC_KEY}:{SECRET}".encode()).decode() == AUTHORIZATION


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("", id="none"),
        pytest.param("Basic " + base64.b64encode(b"public-key-fake:secret-wrong").decode(), id="wrong-secret"),
        pytest.param("Basic " + base64.b64encode(b"fake:secret-fake").decode(), id="prefix-dropped"),
        pytest.param("Bearer secret-fake", id="not-basic"),
        pytest.param("Basic %%%", id="not-base64"),
    ],
)
def test_bad_credentials_are_401_in_the_providers_format(fake: FakePassportReader, authorization: str) -> None:
    status, body = call(fake.base_url, "session.create", authorization=authorization)
    assert status == 401
    assert set(body) == {"error_message", "error_name"}
    assert fake.applicant_count() == 0


def test_create_get_state(fake: FakePassportReader) -> None:
    status, created = call(fake.base_url, "session.create", json.dumps({"reference": "ref-1"}).encode())
    assert status == 200
    assert set(created) == {"id", "token"}
    assert isinstance(created["id"], int)
    assert 0 < created["id"] < 2**63
    status, session = call(fake.base_url, "session.get", json.dumps({"id": created["id"]}).encode())
    assert status == 200
    assert (session["state"], session["reference"], session["document_number"]) == ("CREATED", "ref-1", None)
    assert session["created"].endswith("Z")
    assert len(session["created"]) == len("2024-01-27T00:00:00Z")
    assert not any(key.startswith("_") for key in session)  # the token and callback stay at the provider
    assert call(fake.base_url, "session.state", json.dumps({"id": created["id"]}).encode()) == (
        200,
        {"state": "CREATED"},
    )
    fake.decide(str(created["id"]), "APPROVED")
    _, session = call(fake.base_url, "session.get", json.dumps({"id": created["id"]}).encode())
    assert {key: session[key] for key in SPECIMEN} == SPECIMEN
    assert session["portrait"]
    assert session["face"] is None


def test_an_omitted_body_is_an_empty_request(fake: FakePassportReader) -> None:
    status, created = call(fake.base_url, "session.create", body=None)
    assert status == 200
    assert fake.applicant_count() == 1
    assert fake.callback_url(str(created["id"])) == ""


@pytest.mark.parametrize(
    ("method", "body", "name"),
    [
        pytest.param("session.get", b"{}", "MissingProperty", id="get-without-id"),
        pytest.param("session.state", b'{"other": 1}', "MissingProperty", id="state-without-id"),
        pytest.param("session.get", b'{"id": "12"}', "InvalidProperty", id="id-as-string"),
        pytest.param("session.create", b'{"face_verification": "yes"}', "InvalidProperty", id="bool-as-string"),
        pytest.param("session.create", b'{"callback_url": 5}', "InvalidProperty", id="url-as-number"),
        pytest.param("session.create", b"[1, 2]", "InvalidRequest", id="not-an-object"),
    ],
)
def test_missing_or_mistyped_properties_are_400(fake: FakePassportReader, method: str, body: bytes, name: str) -> None:
    status, answer = call(fake.base_url, method, body)
    assert status == 400
    assert answer["error_name"] == name
    assert answer["error_message"]
    assert fake.applicant_count() == 0


def test_unknown_session_is_404_session_not_found(fake: FakePassportReader) -> None:
    assert call(fake.base_url, "session.get", b'{"id": 123}') == (
        404,
        {"error_message": "No session found with id: 123", "error_name": "SessionNotFound"},
    )


def test_only_post_is_served(fake: FakePassportReader) -> None:
    status, answer = call(fake.base_url, "session.create", body=None, http_method="GET")
    assert status == 404
    assert answer["error_name"] == "NotFound"
    assert fake.applicant_count() == 0


def test_injected_faults_use_the_providers_error_format(fake: FakePassportReader) -> None:
    fake.fail_next(1, status=500, message="boom")
    assert call(fake.base_url, "session.create") == (
        500,
        {"error_message": "boom", "error_name": "InternalServerError"},
    )


@pytest.mark.parametrize(("kind", "seen"), [("lost", (ConnectionError,)), ("lost_timeout", (TimeoutError,))])
def test_a_lost_answer_comes_after_the_work_is_done(
    fake: FakePassportReader, kind: str, seen: tuple[type[Exception], ...]
) -> None:
    """The shared fault machinery: the request is handled (the session exists), only its answer is lost;
    ``method`` / ``path`` make the fault wait for the call it is meant for."""
    fake.timeout_seconds = 1.0
    fake.fail_next(1, kind=kind, method="POST", path=r"/api/v1/session\.create")
    assert call(fake.base_url, "session.state", b'{"id": 1}')[0] == 404  # not the call the fault waits for
    request = urllib.request.Request(
        f"{fake.base_url}/api/v1/session.create", data=b"{}", headers={"Authorization": AUTHORIZATION}, method="POST"
    )
    with pytest.raises((urllib.error.URLError, *seen)):
        urllib.request.urlopen(request, timeout=0.5)
    assert fake.applicant_count() == 1
    assert not fake.faults


def test_fault_filters_wait_for_their_call(fake: FakePassportReader) -> None:
    fake.fail_next(1, status=500, message="only for state", path=r"/api/v1/session\.state")
    status, body = call(fake.base_url, "session.create")
    assert status == 200
    assert call(fake.base_url, "session.state", json.dumps({"id": body["id"]}).encode())[0] == 500
    assert call(fake.base_url, "session.state", json.dumps({"id": body["id"]}).encode())[0] == 200
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.fail_next(1, kind="explode")


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_callbacks_are_delivered_unsigned_with_the_reference(fake: FakePassportReader) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/kyc/webhooks/pr/"
        _, created = call(fake.base_url, "session.create", json.dumps({"callback_url": url, "reference": "r"}).encode())
        ref = str(created["id"])
        assert fake.deliver(ref, "INITIATED") == 200
        headers, body = _Receiver.received[-1]
        assert json.loads(body) == {"session_id": created["id"], "session_state": "INITIATED", "session_reference": "r"}
        assert not [name for name in headers if "signature" in name.lower()]
    finally:
        receiver.shutdown()
        receiver.server_close()
