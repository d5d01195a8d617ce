"""Webhook requests the test client cannot send, and the refusal counters a rejected delivery leaves."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any


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
