"""The fake Veriff itself: sessions in memory, the request signatures, the endpoints, the back office that
decides sessions, and webhooks signed as Veriff signs them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import time
import uuid
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, ClassVar

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse, post

#: The constructor options, as ``--option key=value`` names them.
OPTIONS = ("api_key", "shared_secret", "webhook_url", "deletion_enabled")
#: Outcomes for :meth:`FakeVeriff.decide`: event actions (progress) and decision statuses, with their codes.
#: ``inflow_completed`` is a session status Veriff names only on its deletion page: our map does not know it.
EVENTS = {"started": 7001, "submitted": 7002}
DECISIONS = {
    "approved": 9001,
    "declined": 9102,
    "resubmission_requested": 9103,
    "expired": 9104,
    "abandoned": 9104,
    "review": 9121,
    "inflow_completed": 9999,
}
OUTCOMES = (*EVENTS, *DECISIONS)
#: Reasons sent with a decision that has one (``reasonCode``, ``reason``).
REASONS = {
    "declined": (102, "Suspected document tampering"),
    "resubmission_requested": (204, "Poor image quality"),
}
CONTEXTS = ("face", "document-front", "document-back", "document-and-face", "face-pre")
MEDIA_TYPES = {b"\xff\xd8": "image/jpeg", b"\x89P": "image/png", b"%P": "application/pdf", b"RI": "image/webp"}
MAX_BASE64 = 24 * 1000 * 1000
#: Statuses a session may be deleted in; ``created``/``started``/``resubmission_requested`` end as ``abandoned``.
DELETABLE = ("created", "started", "approved", "declined", "resubmission_requested", "expired", "abandoned")
#: Veriff's deletion budget: (calls, seconds).
DELETE_LIMITS = ((5, 3600), (10, 86400))
_SESSION = "(?P<session_id>[^/]+)"


def signature(secret: str, material: bytes | str) -> str:
    raw = material.encode() if isinstance(material, str) else material
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _now() -> str:
    return datetime.now(dt_timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeVeriff(FakeProviderServer):
    """In-memory Veriff. Constructor options (also ``--option key=value`` on the command line):

    ``api_key`` / ``shared_secret``: the integration's credentials (requests must carry the key and be signed
    with the secret; webhooks are signed with it); ``webhook_url``: the integration's webhook URL (decisions and
    events); ``deletion_enabled``: whether ``DELETE /v1/sessions/{id}`` is switched on (it is opt-in at Veriff).
    """

    provider = "veriff"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/v1/sessions", "create_session"),
        ("POST", f"/v1/sessions/{_SESSION}/media", "upload_media"),
        ("PATCH", f"/v1/sessions/{_SESSION}", "update_session"),
        ("GET", f"/v1/sessions/{_SESSION}/decision", "get_decision"),
        ("DELETE", f"/v1/sessions/{_SESSION}", "delete_session"),
        ("GET", f"/v/{_SESSION}", "flow_page"),
        ("POST", f"/v/{_SESSION}", "flow_submit"),
    ]
    AUTO_STEPS = ("started", "submitted")

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "fake-veriff-api-key",
        shared_secret: str = "fake-veriff-shared-secret",
        webhook_url: str = "",
        deletion_enabled: bool | str = True,
    ) -> None:
        super().__init__(host, port)
        self.api_key = api_key
        self.shared_secret = shared_secret
        self.webhook_url = webhook_url
        self.deletion_enabled = str(deletion_enabled).lower() not in ("0", "false", "no", "")
        self.sessions: dict[str, dict[str, Any]] = {}
        self.deleted: dict[str, float] = {}
        self.deletions: list[float] = []
        #: the webhook body sent for each (session, version): a state is delivered the same way again
        self.events: dict[tuple[str, int], bytes] = {}

    # --- provider conventions ------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        return FakeResponse(status, {"status": "fail", "code": str(extra.get("code") or status), "message": message})

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        """``X-AUTH-CLIENT`` must be the API key; ``X-HMAC-SIGNATURE`` the HMAC of the body (POST / PATCH) or of
        the session id (GET / DELETE). Creating a session needs none, but one that is sent must be right."""
        if request.path.startswith("/v/"):
            return None  # the hosted flow's pages are the person's, in a browser
        client = request.header("X-AUTH-CLIENT")
        if not client or not hmac.compare_digest(client, self.api_key):
            return self.error(
                401, "Mandatory X-AUTH-CLIENT header containing the API key is missing or wrong", code=1801
            )
        given = request.header("X-HMAC-SIGNATURE").lower()
        if request.method in ("GET", "DELETE"):
            material: bytes = request.path.split("/")[3].encode() if request.path.count("/") >= 3 else b""
        else:
            material = request.body
        if request.method == "POST" and request.path == "/v1/sessions" and not given:
            return None
        if not given:
            return self.error(401, "Mandatory X-HMAC-SIGNATURE header is missing", code=1812)
        if not hmac.compare_digest(signature(self.shared_secret, material), given):
            return self.error(401, "Signature does not match the payload", code=1818)
        return None

    def body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        if not request.header("Content-Type").startswith("application/json"):
            return self.error(400, "Content-Type must be application/json", code=1101)
        data = request.json()
        if not isinstance(data, dict):
            return self.error(400, "Request body must be a JSON object", code=1102)
        return data

    def session_or_404(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        session = self.sessions.get(request.params["session_id"])
        return session if session is not None else self.error(404, "Session not found", code=1003)

    # --- endpoints -----------------------------------------------------------------------------------
    def create_session(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        fields = data.get("verification")
        if not isinstance(fields, dict):
            return self.error(400, "verification is required and must be an object", code=1102)
        vendor = fields.get("vendorData")
        if vendor is not None and (not isinstance(vendor, str) or len(vendor) > 1000):
            return self.error(400, "vendorData must be a string of at most 1000 characters", code=1104)
        end_user = fields.get("endUserId")
        if end_user is not None:
            try:
                uuid.UUID(str(end_user))
            except ValueError:
                return self.error(400, "endUserId must be a UUID", code=1104)
        for name in ("person", "document"):
            if name in fields and not isinstance(fields[name], dict):
                return self.error(400, f"verification.{name} must be an object", code=1102)
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = {
            "id": session_id,
            "status": "created",
            "vendorData": vendor,
            "endUserId": end_user,
            "callback": fields.get("callback"),
            "person": dict(fields.get("person") or {}),
            "media": [],
            "attemptId": str(uuid.uuid4()),
            "decision": None,
            "event": None,
            "version": 0,
        }
        self.schedule_auto_decision(session_id)
        view = {"id": session_id, "url": f"{self.base_url}/v/{session_id}", "vendorData": vendor, "status": "created"}
        return FakeResponse(201, {"status": "success", "verification": {**view, "host": self.base_url}})

    def upload_media(self, request: FakeRequest) -> FakeResponse:
        session = self.session_or_404(request)
        if isinstance(session, FakeResponse):
            return session
        if session["status"] not in ("created", "started"):
            return self.error(409, "Media can be uploaded only before the session is submitted", code=1409)
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        image = data.get("image")
        if not isinstance(image, dict):
            return self.error(400, "image is required and must be an object", code=1102)
        context, content = image.get("context"), image.get("content")
        if context not in CONTEXTS:
            return self.error(400, f"image.context must be one of {', '.join(CONTEXTS)}", code=1104)
        if not isinstance(content, str) or not content:
            return self.error(400, "image.content must be a base64 string", code=1104)
        if len(content) > MAX_BASE64:
            return self.error(413, "image.content is larger than 24 MB", code=1105)
        encoded = content.split(",", 1)[1] if content.startswith("data:") else content
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return self.error(400, "image.content is not valid base64", code=1104)
        mimetype = MEDIA_TYPES.get(raw[:2])
        if mimetype is None:
            return self.error(400, "image.content is not a JPG, PNG, WEBP or PDF file", code=1104)
        media = {"id": str(uuid.uuid4()), "name": context, "context": context, "size": len(raw), "mimetype": mimetype}
        session["media"].append(media)
        return FakeResponse(200, {"status": "success", "image": {**media, "timestamp": None}})

    def update_session(self, request: FakeRequest) -> FakeResponse:
        session = self.session_or_404(request)
        if isinstance(session, FakeResponse):
            return session
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        if data != {"verification": {"status": "submitted"}}:
            return self.error(400, 'The only supported update is {"verification": {"status": "submitted"}}', code=1102)
        if session["status"] not in ("created", "started"):
            return self.error(409, "Session cannot be updated after it is submitted", code=1409)
        self.set_event(session["id"], "submitted")
        return FakeResponse(200, {"status": "success", "verification": {"id": session["id"], "status": "submitted"}})

    def get_decision(self, request: FakeRequest) -> FakeResponse:
        session = self.session_or_404(request)
        if isinstance(session, FakeResponse):
            return session
        decision = session["decision"]
        return FakeResponse(200, {"status": "success", "verification": dict(decision) if decision else None})

    def delete_session(self, request: FakeRequest) -> FakeResponse:
        if not self.deletion_enabled:
            return self.error(403, "Session deletion is not enabled for this integration", code=1403)
        now = time.time()
        for calls, seconds in DELETE_LIMITS:
            if sum(1 for at in self.deletions if now - at < seconds) >= calls:
                return self.error(429, f"Rate limit exceeded: {calls} deletions per {seconds} s", code=1429)
        self.deletions.append(now)
        session = self.session_or_404(request)
        if isinstance(session, FakeResponse):
            return session
        if session["status"] not in DELETABLE:
            return self.error(400, "Session is not in a completed status.", code=1400)
        del self.sessions[session["id"]]
        self.deleted[session["id"]] = now
        return FakeResponse(200, {"status": "success", "message": "Session is deleted"})

    # --- the hosted flow (the person's pages) ---------------------------------------------------------
    def flow_page(self, request: FakeRequest) -> FakeResponse:
        session = self.sessions.get(request.params["session_id"])
        if session is None:
            return FakeResponse(404, b"<h1>Session not found</h1>", {"Content-Type": "text/html"})
        if session["status"] == "created":
            self.set_event(session["id"], "started")
            self.deliver_current(session["id"])
        buttons = "".join(
            f'<button name="outcome" value="{name}">{name}</button> '
            for name in DECISIONS
            if name != "inflow_completed"
        )
        page = (
            f"<h1>Fake Veriff</h1><p>Session {html.escape(session['id'])} is {html.escape(session['status'])}.</p>"
            f'<form method="post">{buttons}</form>'
        )
        return FakeResponse(200, page.encode(), {"Content-Type": "text/html"})

    def flow_submit(self, request: FakeRequest) -> FakeResponse:
        session = self.sessions.get(request.params["session_id"])
        outcome = request.body.decode(errors="replace").partition("outcome=")[2].split("&")[0]
        if session is None or outcome not in DECISIONS:
            return FakeResponse(400, b"<h1>Unknown session or outcome</h1>", {"Content-Type": "text/html"})
        for step in ("submitted", outcome):
            self.decide(session["id"], step)
            self.deliver_current(session["id"])
        target = session.get("callback") or ""
        if target:
            return FakeResponse(303, b"", {"Location": target})
        return FakeResponse(200, f"<p>Decided: {html.escape(outcome)}</p>".encode(), {"Content-Type": "text/html"})

    def deliver_current(self, session_id: str) -> None:
        if self.webhook_url:
            body, headers = self.webhook_for(session_id)
            post(self.webhook_url, body, headers)

    # --- back office ---------------------------------------------------------------------------------
    def set_event(self, session_id: str, action: str) -> None:
        session = self.sessions[session_id]
        if session["status"] == "resubmission_requested" and action == "started":
            session["attemptId"] = str(uuid.uuid4())  # a resubmission is a new attempt of the same session
        session["status"] = action
        session["event"] = action
        session["version"] += 1

    def decide(self, ref: str, outcome: str, *, reason_code: int | None = None, reason: str = "") -> None:
        """Move session ``ref`` on as Veriff would: an event action (``started``, ``submitted``) or a decision
        status of :data:`DECISIONS` (with its reason, or ``reason_code`` / ``reason``)."""
        with self.lock:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; choose from {sorted(OUTCOMES)}")
            if outcome in EVENTS:
                self.set_event(ref, outcome)
                return
            session = self.sessions[ref]
            code, text = REASONS.get(outcome, (None, None))
            if reason_code is not None:
                code, text = reason_code, reason or text
            time.sleep(0.002)  # two decisions never share a decisionTime
            session["decision"] = {
                "id": ref,
                "attemptId": session["attemptId"],
                "vendorData": session["vendorData"],
                "endUserId": session["endUserId"],
                "status": outcome,
                "code": DECISIONS[outcome],
                "reason": text,
                "reasonCode": code,
                "decisionTime": _now(),
                "acceptanceTime": _now(),
                "person": {
                    "firstName": session["person"].get("firstName"),
                    "lastName": session["person"].get("lastName"),
                },
                "document": {"type": "PASSPORT", "country": "EE"},
            }
            session["status"], session["event"] = outcome, None
            session["version"] += 1

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The signed delivery for ``ref``'s latest change: an event webhook after an event, else the decision
        webhook. The same state gives the same body again (a resend)."""
        with self.lock:
            if outcome is not None:
                self.decide(ref, outcome)
            session = self.sessions[ref]
            key = (ref, session["version"])
            body = self.events.get(key)
            if body is None:
                if session["event"]:
                    payload: dict[str, Any] = {
                        "id": ref,
                        "attemptId": session["attemptId"],
                        "feature": "selfid",
                        "code": EVENTS[session["event"]],
                        "action": session["event"],
                        "vendorData": session["vendorData"],
                        "endUserId": session["endUserId"],
                    }
                else:
                    payload = {"status": "success", "verification": session["decision"], "technicalData": {"ip": None}}
                body = json.dumps(payload, separators=(",", ":")).encode()
                self.events[key] = body
        return body, self.webhook_headers(body)

    def webhook_headers(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-AUTH-CLIENT": self.api_key,
            "X-HMAC-SIGNATURE": signature(self.shared_secret, body),
        }

    def callback_url(self, ref: str) -> str:
        return self.webhook_url

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.sessions) + len(self.deleted)
