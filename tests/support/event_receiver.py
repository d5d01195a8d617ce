"""A real receiver of outbound events on loopback, told what to do with each request: answer a status, hang
before answering, trickle its body, redirect, or go away with 410. Plain ``http.server`` in a thread (TLS
optional), so the delivery client is tested over real sockets."""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Behaviour:
    status: int = 200
    body: bytes = b"ok"
    #: seconds to wait before the status line
    delay: float = 0.0
    #: seconds between body bytes (a receiver that trickles its answer)
    trickle: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class EventReceiver:
    """Answers each POST with the next queued :class:`Behaviour` (then ``default``); records every request."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, default: Behaviour | None = None) -> None:
        self.requests: list[Request] = []
        self.script: deque[Behaviour] = deque()
        self.default = default or Behaviour()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                behaviour = receiver.script.popleft() if receiver.script else receiver.default
                try:
                    if behaviour.delay:
                        time.sleep(behaviour.delay)
                    self.send_response(behaviour.status)
                    for name, value in behaviour.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(behaviour.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if behaviour.trickle:
                        for byte in behaviour.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(behaviour.trickle)
                    else:
                        self.wfile.write(behaviour.body)
                except OSError:
                    pass  # the client hung up on us, as it should on a slow answer
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hooks/kyc"

    def then(self, *behaviours: Behaviour) -> EventReceiver:
        self.script.extend(behaviours)
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> EventReceiver:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
