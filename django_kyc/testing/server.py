"""The shared machinery of the fake provider servers."""

from __future__ import annotations

import importlib
import json
import logging
import re
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger("django_kyc.testing")


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    #: The request target as it came on the wire (path and query, before any decoding), for fakes of providers
    #: that sign it.
    target: str = ""

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), "")

    def json(self) -> Any:
        """The body as JSON, or ``None`` when it is not JSON (handlers answer with the provider's error)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class FakeResponse:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, message: str) -> FakeResponse:
        """A plain-text answer, as a provider's hosted page gives for a bad or used-up link."""
        return cls(status, message.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    @classmethod
    def html(cls, page: str, status: int = 200) -> FakeResponse:
        """A page of a provider's hosted flow."""
        return cls(status, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


#: Fault kinds. ``status``, ``timeout`` and ``reset`` stand in for the request (nothing happens at the
#: provider); ``lost`` and ``lost_timeout`` let the request be handled (an applicant is created) and then lose
#: the answer to a reset or a stall past the client's timeout: the work exists, the client never learns of it.
FAULT_KINDS = ("status", "timeout", "reset", "lost", "lost_timeout")
#: The kinds whose request is handled before the answer is lost.
ANSWER_LOST = frozenset({"lost", "lost_timeout"})


@dataclass(frozen=True)
class Fault:
    """What the server does instead of answering: an HTTP status, a stall past the client's timeout, or a
    connection reset, either instead of handling the request or after handling it (``ANSWER_LOST``).

    ``method`` / ``path`` (a regular expression matched against the whole path) narrow the calls the fault
    waits for, so a test can lose the answer of one particular call of a multi-call submission."""

    kind: str = "status"
    status: int = 503
    message: str = "injected failure"
    retry_after: float | None = None
    method: str = ""
    path: str = ""

    def matches(self, request: FakeRequest) -> bool:
        if self.method and self.method.upper() != request.method:
            return False
        return not self.path or re.fullmatch(self.path, request.path) is not None


Route = tuple[str, "re.Pattern[str]", str]


class FakeProviderServer:
    """Real HTTP on 127.0.0.1. Subclasses declare ``routes`` and implement the provider's behaviour.

    ``routes`` lists ``(method, path regex, handler name)``; named groups become ``request.params``.
    """

    provider: ClassVar[str] = ""
    routes: ClassVar[list[tuple[str, str, str]]] = []
    #: What ``--auto-decide`` walks a new applicant through before the chosen outcome (the provider's own
    #: progress statuses, each with its webhook); empty: straight to the outcome.
    AUTO_STEPS: ClassVar[tuple[str, ...]] = ()
    #: How long a ``timeout`` fault stalls; longer than the client's read timeout in tests.
    timeout_seconds: float = 2.0
    #: Seconds every answer is held back *after* the request has been handled: a slow provider. Whatever the
    #: request did (an applicant created) is already done when the client gets the answer, so a client that
    #: dies or gives up in this window leaves the work done at the provider, which is the case idempotency
    #: after a crash must handle. Set it on the instance, e.g. ``server.response_delay = 0.3``.
    response_delay: float = 0.0

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.lock = threading.RLock()
        self.calls: list[tuple[str, str]] = []
        self.faults: deque[Fault] = deque()
        self.auto_outcome: str | None = None
        self.auto_delay = 3.0
        self._compiled: list[Route] = [(m, re.compile(f"^{p}$"), h) for m, p, h in self.routes]
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._in_flight: list[tuple[str, str]] = []

    # --- lifecycle -----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> FakeProviderServer:
        self._httpd = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-{self.provider}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def in_flight(self) -> list[tuple[str, str]]:
        """``(method, path)`` of the requests received and not answered yet: with ``response_delay``, the calls
        a client is waiting on, whose effect already exists here."""
        with self.lock:
            return list(self._in_flight)

    # --- faults --------------------------------------------------------------------------------------
    def fail_next(
        self,
        count: int = 1,
        *,
        kind: str = "status",
        status: int = 503,
        message: str = "injected failure",
        retry_after: float | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        """Make the next ``count`` API calls (those matching ``method`` / ``path`` when given) fail the given
        way; ``kind`` is one of :data:`FAULT_KINDS`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose from {FAULT_KINDS}")
        with self.lock:
            self.faults.extend(Fault(kind, status, message, retry_after, method, path) for _ in range(count))

    def _take_fault(self, request: FakeRequest) -> Fault | None:
        """The first queued fault waiting for this call, removed from the queue."""
        for fault in self.faults:
            if fault.matches(request):
                self.faults.remove(fault)
                return fault
        return None

    # --- provider behaviour (subclasses) -------------------------------------------------------------
    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        """Return the provider's answer to a request without valid credentials, or ``None`` if valid."""
        return None

    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        """An error in the provider's own format."""
        return FakeResponse(status, {"message": message, **extra})

    def decide(self, ref: str, outcome: str) -> None:
        """Set the outcome of verification ``ref`` as the provider's back office would."""
        raise NotImplementedError

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The signed delivery the provider sends for ``ref`` (body, headers)."""
        raise NotImplementedError

    def callback_url(self, ref: str) -> str:
        """Where the provider sends webhooks for ``ref`` (as given by the client at creation)."""
        raise NotImplementedError

    def applicant_count(self) -> int:
        """How many applicants (or sessions / applications) exist at the provider."""
        raise NotImplementedError

    # --- webhooks ------------------------------------------------------------------------------------
    def deliver(self, ref: str, outcome: str | None = None, url: str | None = None) -> int:
        """POST the signed webhook for ``ref`` to its callback URL; returns the HTTP status received."""
        body, headers = self.webhook_for(ref, outcome)
        return post(url or self.callback_url(ref), body, headers)

    def schedule_auto_decision(self, ref: str) -> None:
        """In ``--auto-decide`` mode, walk ``ref`` through :attr:`AUTO_STEPS` and then the chosen outcome,
        ``auto_delay`` seconds apart, delivering each step's webhook the way the provider would."""
        if not self.auto_outcome:
            return
        steps = [*self.AUTO_STEPS, self.auto_outcome]

        def run() -> None:
            for step in steps:
                time.sleep(self.auto_delay)
                try:
                    self.decide(ref, step)
                    if not self.callback_url(ref):
                        logger.warning("%s: %s is %s (no callback URL)", self.provider, ref, step)
                        continue
                    status = self.deliver(ref)
                    logger.warning("%s: %s is %s; webhook answered %s", self.provider, ref, step, status)
                except Exception:
                    logger.exception("%s: auto decision for %s failed", self.provider, ref)
                    return

        threading.Thread(target=run, name=f"{self.provider}-auto-{ref}", daemon=True).start()

    # --- dispatch ------------------------------------------------------------------------------------
    def handle(self, request: FakeRequest) -> FakeResponse | Fault:
        with self.lock:
            self.calls.append((request.method, request.path))
            fault = self._take_fault(request)
        if fault is not None and fault.kind in ANSWER_LOST:
            self.respond(request)  # the provider does the work; only its answer never arrives
            return fault
        if fault is not None:
            if fault.kind == "status":
                response = self.error(fault.status, fault.message)
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = str(int(fault.retry_after))
                return response
            return fault
        return self.respond(request)

    def respond(self, request: FakeRequest) -> FakeResponse:
        """The provider's own answer: its authentication, then the route's handler."""
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        for method, pattern, handler in self._compiled:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                with self.lock:
                    result: FakeResponse = getattr(self, handler)(request)
                return result
        return self.error(404, f"no route for {request.method} {request.path}")


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float = 10.0) -> int:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own test URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _handler_for(server: FakeProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def setup(self) -> None:
            super().setup()
            # headers and body leave in two writes; with Nagle's algorithm on, the second waits for the
            # client's delayed ACK (40 ms on Linux), a stall no real provider has
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                # the client went away (gave up, or its process was killed) while we were answering it or
                # waiting for its next request on a kept-alive connection: nothing to answer, nothing to report
                self.close_connection = True

        def _serve(self) -> None:
            call = (self.command, urlsplit(self.path).path)
            with server.lock:
                server._in_flight.append(call)
            try:
                self._answer()
            finally:
                with server.lock:
                    server._in_flight.remove(call)

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            request = FakeRequest(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query),
                headers=dict(self.headers.items()),
                body=body,
                target=self.path,
            )
            result = server.handle(request)
            if server.response_delay > 0:
                time.sleep(server.response_delay)
            if isinstance(result, Fault):
                if result.kind in ("timeout", "lost_timeout"):
                    time.sleep(server.timeout_seconds)
                # a reset: close with SO_LINGER 0 so the client sees ECONNRESET, not a clean close
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            payload = result.encoded()
            self.send_response(result.status)
            headers = {"Content-Type": "application/json", **result.headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


def load_server(provider: str) -> type[FakeProviderServer]:
    """The fake server class of ``django_kyc.testing.<provider>`` (its ``SERVER`` attribute)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", provider):
        raise ValueError(f"not a provider name: {provider!r}")
    module = importlib.import_module(f"django_kyc.testing.{provider}")
    server: type[FakeProviderServer] = module.SERVER
    return server
