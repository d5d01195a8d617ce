"""The shared HTTP client against a real HTTP server on 127.0.0.1 (a thread, random port)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from django_kyc import __version__
from django_kyc.backends.http import (
    ProviderHttpClient,
    default_error_message,
    error_for_status,
    error_message_from,
    parse_retry_after,
)
from django_kyc.exceptions import PermanentProviderError, ProviderError, TransientProviderError
from tests.support.logs import capture_logs

# Personal data and credentials that must never reach a log record.
SECRET_QUERY = "api_key=qs-secret-123&email=jane.doe%40example.com"
PII_BODY = {"first_name": "Jane", "last_name": "Doe-Secretname", "document_number": "X99887766"}
FORBIDDEN_IN_LOGS = ["qs-secret-123", "jane.doe", "Secretname", "X99887766", "Token tok-secret"]


class FakeProviderServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.requests: list[dict[str, Any]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The client gave up on /slow and closed the socket; that is the point of the test, not an error."""


class ProviderHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeProviderServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the server's own access log is not under test."""

    def _reply(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(payload, bytes) else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {"method": self.command, "target": self.path, "headers": dict(self.headers), "body": body}
        )
        path = urlsplit(self.path).path
        if path == "/v1/applicants":
            self._reply(201 if self.command == "POST" else 200, {"id": "app_1"})
        elif path == "/v1/bad":
            self._reply(400, {"message": "document_number has the wrong format"})
        elif path == "/v1/bad-plain":
            self._reply(422, b"nope")
        elif path == "/v1/rate":
            self._reply(429, {"error": "too many requests"}, {"Retry-After": "7"})
        elif path == "/v1/rate-date":
            self._reply(429, {"error": "too many requests"}, {"Retry-After": formatdate(time.time() + 30, usegmt=True)})
        elif path == "/v1/down":
            self._reply(503, {"detail": "maintenance"})
        elif path == "/v1/html":
            self._reply(200, b"<html>maintenance</html>")
        elif path == "/v1/list":
            self._reply(200, [{"id": "app_1", "email": "jane.doe@example.com"}])
        elif path == "/v1/slow":
            time.sleep(0.6)
            self._reply(200, {"late": True})
        else:
            self._reply(404, {"detail": "not found"})

    do_GET = do_POST = do_DELETE = do_PATCH = _handle


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    httpd = FakeProviderServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def client(server: FakeProviderServer) -> Iterator[ProviderHttpClient]:
    server.requests.clear()
    http = ProviderHttpClient(
        provider="acme",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1/",
        headers={"Authorization": "Token tok-secret"},
        timeout=(1.0, 0.25),
    )
    yield http
    http.close()


def assert_clean(text: str) -> None:
    for needle in FORBIDDEN_IN_LOGS:
        assert needle not in text, needle


def test_success_returns_the_response(client: ProviderHttpClient, server: FakeProviderServer) -> None:
    with capture_logs() as logs:
        response = client.post(f"applicants?{SECRET_QUERY}", json=PII_BODY)
    assert response.status_code == 201
    assert response.json() == {"id": "app_1"}
    (request,) = server.requests
    assert request["method"] == "POST"
    assert request["target"] == f"/v1/applicants?{SECRET_QUERY}"
    assert request["headers"]["Authorization"] == "Token tok-secret"
    assert request["headers"]["User-Agent"] == f"django-kyc/{__version__}"
    assert json.loads(request["body"]) == PII_BODY
    # the call is logged: method, path, status; nothing of the query, body or headers
    (record,) = logs.records
    assert record.getMessage().startswith("acme POST /v1/applicants -> 201 in ")
    assert_clean(logs.text())


def test_absolute_url_is_used_as_is(client: ProviderHttpClient, server: FakeProviderServer) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    assert client.get(f"{base}/v1/applicants").status_code == 200
    assert server.requests[0]["target"] == "/v1/applicants"


def test_400_is_permanent_with_the_providers_message(client: ProviderHttpClient) -> None:
    with capture_logs() as logs, pytest.raises(PermanentProviderError) as caught:
        client.post(f"bad?{SECRET_QUERY}", json=PII_BODY)
    error = caught.value
    assert not error.transient
    assert (error.status_code, error.provider, error.message) == (400, "acme", "document_number has the wrong format")
    assert str(error) == "acme: document_number has the wrong format (HTTP 400)"
    assert error.retry_after is None
    assert_clean(logs.text())


def test_error_without_json_falls_back_to_the_reason_phrase(client: ProviderHttpClient) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        client.get("bad-plain")
    assert (caught.value.status_code, caught.value.message) == (422, "Unprocessable Entity")


def test_429_is_transient_with_retry_after(client: ProviderHttpClient) -> None:
    with pytest.raises(TransientProviderError) as caught:
        client.get("rate")
    error = caught.value
    assert error.transient
    assert (error.status_code, error.retry_after, error.message) == (429, 7.0, "too many requests")


def test_429_with_an_http_date_retry_after(client: ProviderHttpClient) -> None:
    with pytest.raises(TransientProviderError) as caught:
        client.get("rate-date")
    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31


def test_503_is_transient(client: ProviderHttpClient) -> None:
    with pytest.raises(TransientProviderError) as caught:
        client.delete("down")
    assert (caught.value.status_code, caught.value.message, caught.value.retry_after) == (503, "maintenance", None)


def test_read_timeout_is_transient(client: ProviderHttpClient) -> None:
    started = time.monotonic()
    with capture_logs() as logs, pytest.raises(TransientProviderError) as caught:
        client.post(f"slow?{SECRET_QUERY}", json=PII_BODY)
    assert time.monotonic() - started < 0.55  # gave up at the read timeout, not when the server answered
    assert str(caught.value) == "acme: request timed out"
    assert caught.value.status_code is None
    assert [record.getMessage() for record in logs.records] == ["acme POST /v1/slow timed out"]
    assert_clean(logs.text())


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # nothing listens on the port any more
    http = ProviderHttpClient(provider="acme", base_url=f"http://127.0.0.1:{port}", timeout=(1.0, 1.0))
    with capture_logs() as logs, pytest.raises(TransientProviderError) as caught:
        http.get(f"/v1/applicants?{SECRET_QUERY}")
    assert str(caught.value) == "acme: connection failed"
    assert [record.getMessage() for record in logs.records] == ["acme GET /v1/applicants connection failed"]
    assert_clean(logs.text())
    assert_clean(str(caught.value))


def test_default_timeouts_come_from_settings() -> None:
    http = ProviderHttpClient(provider="acme", base_url="http://127.0.0.1:1")
    assert http._timeout() == (5.0, 10.0)  # HTTP_CONNECT_TIMEOUT default, HTTP_READ_TIMEOUT from tests/settings.py


def test_errors_split_into_transient_and_permanent() -> None:
    assert issubclass(TransientProviderError, ProviderError)
    assert issubclass(PermanentProviderError, ProviderError)
    assert TransientProviderError("x").transient is True
    assert PermanentProviderError("x").transient is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("12", 12.0), ("1.5", 1.5), ("-3", 0.0), ("soon", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_in_the_past_is_zero() -> None:
    assert parse_retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0


# --- decoding answers: json() and the decode hook -----------------------------------------------------------


def test_json_returns_the_decoded_answer_of_the_expected_type(client: ProviderHttpClient) -> None:
    assert client.json("POST", "applicants", json=PII_BODY) == {"id": "app_1"}
    assert client.json("GET", "list", expect=list) == [{"id": "app_1", "email": "jane.doe@example.com"}]
    assert client.json("GET", "list", expect=None)[0]["id"] == "app_1"
    assert client.json("GET", "list", expect=(dict, list))[0]["id"] == "app_1"


def test_a_2xx_that_is_not_json_is_transient_by_default(client: ProviderHttpClient) -> None:
    """A proxy's or load balancer's page: worth asking again (every call that decodes is safe to repeat)."""
    with pytest.raises(TransientProviderError) as caught:
        client.json("GET", "html")
    assert str(caught.value) == "acme: GET /v1/html answered with something that is not JSON (HTTP 200)"


def test_a_2xx_of_the_wrong_type_is_permanent_and_echoes_nothing(client: ProviderHttpClient) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        client.json("GET", "list")
    assert str(caught.value) == "acme: GET /v1/list answered without a JSON object"
    assert_clean(str(caught.value))


def test_each_provider_picks_the_kind_of_each_decoding_error(server: FakeProviderServer) -> None:
    """KYCAID treats a body that is not JSON as permanent, PassportReader a wrong shape as transient: the
    client says which, so each backend keeps its own rule without its own decoder."""
    http = ProviderHttpClient(
        provider="acme",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1/",
        not_json=PermanentProviderError,
        wrong_type=TransientProviderError,
    )
    with pytest.raises(PermanentProviderError):
        http.json("GET", "html")
    with pytest.raises(TransientProviderError):
        http.json("GET", "list")
    http.close()


class EnvelopeClient(ProviderHttpClient):
    """The shape of an answer wrapped as ``{"status", "statusCode", "data"}`` (Allpass's envelope)."""

    def decode(self, response: Any, expect: Any = dict) -> Any:
        payload = super().decode(response, None)
        if isinstance(payload, list):  # this fake server's list stands for an envelope saying "no"
            raise error_for_status(self.provider, 404, "Applicant not found")
        return self.check_type(payload, expect)


def test_a_subclass_unwraps_in_decode_and_keeps_the_checks(server: FakeProviderServer) -> None:
    http = EnvelopeClient(provider="acme", base_url=f"http://127.0.0.1:{server.server_address[1]}/v1/")
    assert http.json("POST", "applicants") == {"id": "app_1"}
    with pytest.raises(PermanentProviderError, match="Applicant not found") as caught:
        http.json("GET", "list")
    assert caught.value.status_code == 404
    with pytest.raises(TransientProviderError):
        http.json("GET", "html")
    http.close()


@pytest.mark.parametrize(("status", "transient"), [(400, False), (404, False), (429, True), (500, True), (503, True)])
def test_error_for_status_is_the_one_split(status: int, transient: bool) -> None:
    error = error_for_status("acme", status, "m", retry_after=3.0 if transient else None)
    assert error.transient is transient
    assert (error.status_code, error.provider, error.message) == (status, "acme", "m")


# --- error messages: error_message_from ----------------------------------------------------------------------


def response_with(body: Any, status: int = 422, reason: str = "Unprocessable Entity") -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    ("fields", "body", "expected"),
    [
        (("message",), {"message": "  flowName is required  "}, "flowName is required"),
        (("data.message",), {"data": {"message": "nested"}}, "nested"),
        (("errors[0].message",), {"errors": [{"message": "first"}, {"message": "second"}]}, "first"),
        (("errors[*].message",), {"errors": [{"message": "a"}, {"other": 1}, {"message": "b"}]}, "a; b"),
        (
            ("message",),
            {"message": ["should not be empty", "", "must be a string"]},
            "should not be empty; must be a string",
        ),
        (("message", "error"), {"message": "", "error": "Unauthorized"}, "Unauthorized"),  # first non-empty wins
        (("code",), {"code": 4041}, "4041"),
        (
            ("{error_name}: {error_message}", "error_name", "error_message"),
            {"error_name": "SessionNotFound", "error_message": "no such session"},
            "SessionNotFound: no such session",
        ),
        (("{error_name}: {error_message}", "error_name", "error_message"), {"error_name": "Gone"}, "Gone"),
        (
            ("errors[*].{parameter}: {message}", "errors[*].message"),
            {"errors": [{"parameter": "dob", "message": "is invalid"}, {"message": "no parameter"}]},
            "dob: is invalid",
        ),
        ((lambda body: f"code {body['code']}" if "code" in body else "",), {"code": "x"}, "code x"),
        (("message",), {"nothing": "here"}, "Unprocessable Entity"),
        (("message",), b"<html>", "Unprocessable Entity"),
        (("message",), ["a", "list"], "Unprocessable Entity"),
    ],
)
def test_error_message_from_reads_the_first_field_present(fields: tuple[Any, ...], body: Any, expected: str) -> None:
    assert error_message_from(*fields)(response_with(body)) == expected


def test_error_message_never_dumps_an_object() -> None:
    """An object where a message is expected would be printed whole, with whatever we sent echoed back in it
    (a name, a document number): only strings and numbers become messages."""
    body = {"message": {"first_name": "Jane", "document_number": "X99887766"}, "errors": [PII_BODY]}
    assert error_message_from("message", "errors", "errors[*]")(response_with(body)) == "Unprocessable Entity"


def test_error_message_is_bounded() -> None:
    assert error_message_from("message")(response_with({"message": "x" * 5000})) == "x" * 500
    assert len(error_message_from("message", limit=20)(response_with({"message": "y" * 50}))) == 20
    many = {"errors": [{"message": f"e{n}"} for n in range(50)]}
    assert error_message_from("errors[*].message")(response_with(many)) == "; ".join(f"e{n}" for n in range(10))


def test_without_a_reason_the_status_code_is_the_message() -> None:
    assert error_message_from("message")(response_with(b"", status=502, reason="")) == "HTTP 502"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "m", "error": "e"}, "m"),
        ({"detail": "DRF says no"}, "DRF says no"),
        ({"errors": [{"message": "first"}]}, "first"),
        ({"errors": ["plain"]}, "plain"),
    ],
)
def test_the_default_message_reads_the_common_shapes(body: Any, expected: str) -> None:
    assert default_error_message(response_with(body)) == expected


def test_environment_proxies_are_still_used_and_read_once_per_host(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP_PROXY`` still routes provider calls (the fake server is the proxy here: it receives the absolute
    URL), but the environment is read on the first call to a host, not on every call."""
    import django_kyc.backends.http as http_module

    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    reads: list[str] = []
    real = http_module.get_environ_proxies

    def counting(url: str, no_proxy: str | None = None) -> dict[str, str]:
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(http_module, "get_environ_proxies", counting)
    server.requests.clear()
    http = ProviderHttpClient(provider="acme", base_url="http://provider.invalid/v1/", timeout=(1.0, 1.0))
    try:
        assert http.get("applicants").status_code == 200
        assert http.post("applicants", json={}).status_code == 201
    finally:
        http.close()
    assert [request["target"] for request in server.requests] == ["http://provider.invalid/v1/applicants"] * 2
    assert reads == ["http://provider.invalid/v1/applicants"]


def test_no_proxy_still_bypasses_the_environment_proxy(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: used, it would fail
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server.requests.clear()
    http = ProviderHttpClient(
        provider="acme", base_url=f"http://127.0.0.1:{server.server_address[1]}/v1/", timeout=(1.0, 1.0)
    )
    try:
        assert http.get("applicants").status_code == 200
    finally:
        http.close()
    assert [request["target"] for request in server.requests] == ["/v1/applicants"]
