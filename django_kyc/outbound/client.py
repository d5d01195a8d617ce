"""The small HTTP client of outbound deliveries, apart from the providers' (``backends/http.py``) on purpose.

A provider's URL is ours (a base URL in the settings); an endpoint's is typed into the admin, so its rules differ:

- the host is resolved once, every address checked (:mod:`.addresses`), and the connection made to the checked
  address, with the URL's host name as ``Host`` and as the TLS server name (SNI, and the certificate's name):
  the name is never resolved a second time, so a DNS answer that changes between check and connect (DNS
  rebinding) cannot move the delivery onto another address;
- ``https`` only, unless ``DEBUG``; no redirects followed (a 3xx is a failed attempt);
- one deadline for the whole attempt (connect, send, headers, body), enforced by closing the socket when it
  passes, so a receiver that trickles its answer a byte at a time cannot hold a worker longer;
- at most ``keep_bytes`` of the answer read, the rest never downloaded;
- nothing raises: every outcome, refusals included, comes back as an :class:`Answer` to record.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from django_kyc.outbound.addresses import IPAddress, Network, refusal

Resolver = Callable[..., list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: a status (when the receiver answered) or an error, never both missing."""

    status: int | None = None
    body: bytes = b""
    error: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Refused(Exception):
    """The URL or its addresses are not allowed; the message says why (no secret, no body)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


def check_url(url: str, *, allow_http: bool) -> tuple[str, str, int, str]:
    """The scheme, host, port and request path of an endpoint URL, or :class:`Refused`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(_("the URL is not valid: %(error)s") % {"error": exc}) from None
    if parts.scheme not in ("https", "http"):
        raise Refused(_("only https URLs are allowed"))
    if parts.scheme == "http" and not allow_http:
        raise Refused(_("only https URLs are allowed (http only with DEBUG on)"))
    if parts.username or parts.password:
        raise Refused(_("credentials in the URL are not supported"))
    if not parts.hostname:
        raise Refused(_("the URL has no host"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str, *, allow_http: bool, allowed: Sequence[Network] = (), resolver: Resolver | None = None) -> Target:
    """Check the URL and every address its host resolves to; :class:`Refused` when anything is not allowed."""
    scheme, host, port, path = check_url(url, allow_http=allow_http)
    try:
        infos = (resolver or socket.getaddrinfo)(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise Refused(_("could not resolve the host: %(error)s") % {"error": exc}) from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Refused(_("the host has no address"))
    for address in addresses:
        why = refusal(address, allowed)
        if why:
            raise Refused(_("refused: %(why)s") % {"why": why})
    return Target(scheme, host, port, path, tuple(addresses))


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address that speaks to the server as ``host`` (Host header, SNI,
    certificate name)."""

    def __init__(self, target: Target, address: IPAddress, timeout: float, context: ssl.SSLContext | None):
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = 443 if context is not None else 80
        self._address = str(address)
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_bundle or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("TLS certificate not accepted: %(reason)s") % {"reason": exc.verify_message or exc.reason}
    if isinstance(exc, ssl.SSLError):
        return _("TLS error: %(reason)s") % {"reason": exc.reason or exc.__class__.__name__}
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("timed out")
    if isinstance(exc, ConnectionRefusedError):
        return _("connection refused")
    if isinstance(exc, http.client.HTTPException | ConnectionError):
        return _("the receiver closed the connection or answered something that is not HTTP")
    return _("connection failed: %(error)s") % {"error": exc.__class__.__name__}


def post(
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    *,
    connect_timeout: float,
    deadline_seconds: float,
    keep_bytes: int,
    context: ssl.SSLContext | None = None,
) -> Answer:
    """POST ``body`` to ``target`` (already checked by :func:`resolve`). Never raises for what the receiver does."""
    started = time.monotonic()
    deadline = started + deadline_seconds
    if target.scheme == "https" and context is None:
        context = tls_context()
    if target.scheme != "https":
        context = None
    last_error: BaseException | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        connection = _PinnedConnection(target, address, min(connect_timeout, remaining), context)
        try:
            connection.connect()
        except OSError as exc:  # ssl.SSLError is an OSError too
            last_error = exc
            connection.close()
            if isinstance(exc, ssl.SSLError):
                break  # a TLS failure is about the receiver, not this address
            continue
        return _exchange(connection, target, body, headers, started, deadline, keep_bytes)
    error = _describe(last_error) if last_error else _("timed out")
    return Answer(error=error, duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _exchange(
    connection: _PinnedConnection,
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    started: float,
    deadline: float,
    keep_bytes: int,
) -> Answer:
    sock = connection.sock
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
    watchdog.daemon = True
    watchdog.start()
    status: int | None = None
    received = bytearray()
    try:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        connection.request("POST", target.path, body=body, headers=dict(headers))
        response = connection.getresponse()
        status = response.status
        while len(received) < keep_bytes and not expired.is_set():
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = response.read(min(1024, keep_bytes - len(received)))
            if not chunk:
                break
            received += chunk
        return Answer(status=status, body=bytes(received), duration_ms=_ms(started))
    except (OSError, http.client.HTTPException) as exc:
        if status is not None:
            # the receiver answered; only its body was cut short (by the deadline, or it hung up)
            return Answer(status=status, body=bytes(received), duration_ms=_ms(started))
        error = _("timed out") if expired.is_set() else _describe(exc)
        return Answer(error=error, duration_ms=_ms(started))
    finally:
        watchdog.cancel()
        connection.close()
