"""Small helpers shared by the core tests (fixtures stay in ``conftest.py`` and the test modules)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from django.conf import settings

from django_kyc.models import Applicant, Verification
from django_kyc.status import VerificationStatus

SANDBOX_SECRET = "sandbox-test-secret"
SANDBOX_OLD_SECRET = "sandbox-old-secret"


def kyc_settings_with(**changes: Any) -> dict[str, Any]:
    """The test suite's ``DJANGO_KYC`` with some keys replaced, for ``override_settings``."""
    return {**settings.DJANGO_KYC, **changes}


def suite_backends(**extra: Mapping[str, Any]) -> dict[str, Any]:
    """The suite's ``DJANGO_KYC["BACKENDS"]`` plus some more aliases."""
    backends = cast(Mapping[str, Any], settings.DJANGO_KYC["BACKENDS"])
    return {**backends, **extra}


def make_verification(
    applicant: Applicant, status: str = VerificationStatus.PENDING, backend: str = "sandbox", **fields: Any
) -> Verification:
    """A verification row in a given state, written directly: test set-up, not a status change under test."""
    verification = Verification.objects.create(applicant=applicant, backend=backend)
    Verification.objects.filter(pk=verification.pk).update(status=status, **fields)
    verification.refresh_from_db()
    return verification


def sandbox_event(
    verification: Verification | None,
    status: str,
    occurred_at: datetime,
    *,
    event_id: str | None = None,
    reference: str | None = None,
    provider_ref: str = "",
    documents: Sequence[Mapping[str, Any]] = (),
    reasons: Sequence[str] = (),
) -> bytes:
    """A sandbox provider event body, built by hand the way the provider documents it."""
    payload = {
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": "verification.updated",
        "verification_id": provider_ref or (verification.provider_verification_id if verification else ""),
        "reference": reference if reference is not None else str(verification.pk if verification else ""),
        "status": status,
        "reasons": list(reasons),
        "documents": [dict(doc) for doc in documents],
        "occurred_at": occurred_at.isoformat(),
    }
    return json.dumps(payload).encode()


def sandbox_signature(body: bytes, secret: str = SANDBOX_SECRET, timestamp: int | None = None) -> str:
    """The sandbox's documented recipe: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        """Everything a log formatter could print: messages, arguments and exception text."""
        parts = []
        for record in self.records:
            parts.append(record.getMessage())
            parts.append(repr(record.args))
            if record.exc_info and record.exc_info[1] is not None:
                parts.append(logging.Formatter().formatException(record.exc_info))
        return "\n".join(parts)


@contextmanager
def capture_logs(name: str = "django_kyc", level: int = logging.DEBUG) -> Iterator[RecordingHandler]:
    """Collect records of one logger tree (works with ``-p no:logging``, where ``caplog`` does not exist)."""
    logger = logging.getLogger(name)
    handler = RecordingHandler()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def rejection_counts() -> dict[tuple[str, str], int]:
    """The webhook rejection counters as ``{(backend, reason): count}``."""
    from django_kyc.models import WebhookRejection

    return {(row.backend, row.reason): row.count for row in WebhookRejection.objects.all()}


class CountingInput(io.BytesIO):
    """A ``wsgi.input`` that remembers how many bytes the application read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


def unframed_post(
    url: str, body: bytes, headers: Mapping[str, str], *, terminated: bool = True, stream: CountingInput | None = None
) -> tuple[Any, CountingInput]:
    """POST ``body`` as a server that de-chunks hands it to a WSGI application: no ``CONTENT_LENGTH``,
    ``Transfer-Encoding: chunked`` in the headers and, when ``terminated``, ``wsgi.input_terminated`` (the
    server ends the input at the end of the body, as gunicorn does). ``terminated=False`` is a server that
    passes the still-chunked socket on (wsgiref). Runs Django's whole request cycle through the test
    client's handler, which builds the same :class:`~django.core.handlers.wsgi.WSGIRequest` a server would;
    Django's test client itself always sends a Content-Length, so it cannot.

    Returns the response and the input (``stream``, by default one holding ``body``), whose ``consumed``
    says how much the application read.
    """
    from django.test.client import ClientHandler

    stream = CountingInput(body) if stream is None else stream
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": url,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return ClientHandler(enforce_csrf_checks=True)(environ), stream
