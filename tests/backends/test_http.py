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

from django_kyc import __version__
from django_kyc.backends.http import ProviderHttpClient, parse_retry_after
from django_kyc.exceptions import PermanentProviderError, ProviderError, TransientProviderError
from tests.core_helpers import capture_logs

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
