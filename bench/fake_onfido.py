"""A loopback stand-in for Onfido's ``GET /v3/checks/<id>``, the API pull django-onfido makes per webhook.

It answers at once from memory, so what the peer benchmark measures is django-onfido's own work plus one
HTTP round trip on loopback, the least its design (fetch the resource before saving it) can cost.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED_AT = "2026-11-01T10:00:00Z"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: thousands of requests per second."""

    def do_GET(self) -> None:
        check_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        body = json.dumps(
            {
                "id": check_id,
                "href": f"/v3/checks/{check_id}",
                "created_at": CREATED_AT,
                "status": "complete",
                "result": "clear",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeOnfido:
    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v3/"

    def __enter__(self) -> FakeOnfido:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
