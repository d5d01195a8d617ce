"""Chunked webhook deliveries through a real server that de-chunks them: gunicorn, as deployed.

A genuinely chunked request (``Transfer-Encoding: chunked``, no Content-Length) is written to a socket by
hand; gunicorn decodes the chunks and runs the project's WSGI application against the test database.
Django's test client cannot send one (it always sets a Content-Length) and wsgiref does not de-chunk.
The unit tests of the same rules, with the WSGI environ built by hand, are in
``tests/test_webhook_delivery_bodies.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from django_kyc.models import Verification, WebhookEvent, WebhookRejection, WebhookState
from django_kyc.status import VerificationStatus
from django_kyc.webhooks import UNREADABLE
from tests.support import ROOT
from tests.support.factories import make_verification
from tests.support.sandbox import sandbox_event, sandbox_signature
from tests.support.services import require_service

# the server's process reads what the test committed
pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]
URL = "/kyc/webhooks/sandbox/"
LIMIT = 4096


@contextmanager
def gunicorn(**django_kyc: Any) -> Iterator[tuple[str, int]]:
    """gunicorn (one sync worker) serving the test settings against the test database, on a loopback socket
    bound here and handed over (``fd://``), so there is no port to guess or race for."""
    require_service("gunicorn", importlib.util.find_spec("gunicorn") is not None, "pip install -e '.[test]'")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    address = listener.getsockname()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "KYC_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "KYC_TEST_DJANGO_KYC": json.dumps(django_kyc),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"fd://{listener.fileno()}",
        "--workers",
        "1",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "django.core.wsgi:get_wsgi_application()",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, pass_fds=[listener.fileno()], start_new_session=True, stderr=subprocess.PIPE
    )
    listener.close()  # gunicorn holds its own copy; connections wait in the backlog until it accepts them
    try:
        _wait_until_serving(address)
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only gunicorn's processes
            process.wait(timeout=10)
        assert process.stderr is not None
        errors = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        assert "Traceback" not in errors, errors


def _wait_until_serving(address: tuple[str, int]) -> None:
    """One request answered (a 404, which touches no table): the worker has booted and loaded Django, so a
    test's timing measures the request and not the start-up."""
    with socket.create_connection(address, timeout=60) as conn:
        conn.sendall(b"GET /kyc/no-such-page/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert conn.recv(64).startswith(b"HTTP/1.1 404"), "gunicorn did not answer"


def chunked_post(
    address: tuple[str, int], body: bytes, headers: dict[str, str], *, chunk: int, size_line: str = "{:x}"
) -> tuple[int, dict[str, Any], int]:
    """POST ``body`` in chunks of ``chunk`` bytes, stopping as soon as the server answers (as a client that
    watches its socket would). Returns the status, the JSON answer and how many body bytes were sent.
    ``size_line`` formats each chunk's size line (a broken one makes the framing invalid)."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection(address, timeout=30) as conn:
        conn.sendall(
            (
                f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Transfer-Encoding: chunked\r\nConnection: close\r\n{head}\r\n"
            ).encode("latin-1")
        )
        sent = 0
        for start in range(0, len(body), chunk):
            if select.select([conn], [], [], 0.01)[0]:
                break  # answered early (a refusal): sending on would only fill the socket
            piece = body[start : start + chunk]
            conn.sendall(size_line.format(len(piece)).encode() + b"\r\n" + piece + b"\r\n")
            sent += len(piece)
        else:
            conn.sendall(b"0\r\n\r\n")
        answer = b""
        with suppress(ConnectionResetError):  # closed with our unread chunks pending: the answer came first
            while part := conn.recv(65536):
                answer += part
    status_line, _, rest = answer.partition(b"\r\n")
    content = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(content), sent


@pytest.fixture
def verification(make_applicant: Any) -> Verification:
    return make_verification(
        make_applicant(), VerificationStatus.PROCESSING, provider_verification_id="sbx_ver_gunicorn"
    )


def test_chunked_delivery_through_gunicorn_is_stored_and_processed(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", timezone.now(), event_id="evt_chunked_gunicorn")
    with gunicorn(WEBHOOK_MAX_BYTES=LIMIT) as address:
        status, answer, sent = chunked_post(
            address, body, {"X-Sandbox-Signature": sandbox_signature(body)}, chunk=len(body) // 5
        )

    assert (status, answer, sent) == (200, {"stored": 1, "duplicates": 0}, len(body))
    connection.close()  # see what the server's process committed
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.body, event.state) == ("evt_chunked_gunicorn", body, WebhookState.PROCESSED)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.APPROVED  # processed in the server (the suite's sync queue)


def test_chunked_delivery_past_the_limit_through_gunicorn_is_413_before_it_is_all_sent(
    verification: Verification,
) -> None:
    payload = json.loads(sandbox_event(verification, "approved", timezone.now()))
    payload["data"] = {"pad": "x" * 200_000}
    body = json.dumps(payload).encode()

    with gunicorn(WEBHOOK_MAX_BYTES=LIMIT) as address:
        status, answer, sent = chunked_post(address, body, {"X-Sandbox-Signature": sandbox_signature(body)}, chunk=700)

    assert (status, answer) == (413, {"detail": f"Body larger than {LIMIT} bytes."})
    assert sent < len(body) // 4  # refused once the limit was passed, not after reading all of it
    connection.close()
    assert not WebhookEvent.objects.exists()
    assert list(WebhookRejection.objects.values_list("backend", "reason", "count")) == [("sandbox", "too_large", 1)]


def test_broken_chunk_framing_through_gunicorn_is_a_counted_400_not_a_500(verification: Verification) -> None:
    """Anyone can send a chunk size that is not hexadecimal; the server's error reading the body is the
    sender's fault, answered like any unreadable body."""
    body = sandbox_event(verification, "approved", timezone.now())

    with gunicorn() as address:
        status, answer, _sent = chunked_post(
            address, body, {"X-Sandbox-Signature": sandbox_signature(body)}, chunk=64, size_line="{:x}zz"
        )

    assert (status, answer) == (400, {"detail": UNREADABLE})
    connection.close()
    assert not WebhookEvent.objects.exists()
    assert list(WebhookRejection.objects.values_list("backend", "reason", "count")) == [("sandbox", "bad_length", 1)]
