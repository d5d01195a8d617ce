"""The fake Stripe's API: ``/v1/identity/verification_sessions`` under a secret key, as Stripe serves it.

Strict where Stripe is: the key (Bearer or HTTP Basic, 401 otherwise), form-encoded POST bodies in bracket
notation (unknown parameters refused), the ``Stripe-Version`` format, and ``Idempotency-Key`` semantics (the first
answer, failures included, replayed for the same key and parameters; other parameters under a used key are an
``idempotency_error``). Errors come in Stripe's body, ``{"error": {"type", "message", …}}``.
"""

from __future__ import annotations

import copy
import hmac
import re
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse
from django_kyc.testing.stripe_identity.forms import FormError, parse_form, random_id, session_fields, stripe_error

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?")
_ID = "[A-Za-z0-9_]+"
SESSIONS = "/v1/identity/verification_sessions"
#: Statuses a session can be listed by (``status=`` filter).
STATUSES = ("requires_input", "processing", "verified", "canceled")


class StripeIdentityApi(FakeProviderServer):
    """VerificationSessions in memory, served as Stripe serves them."""

    provider = "stripe_identity"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", SESSIONS, "create_session"),
        ("GET", SESSIONS, "list_sessions"),
        ("GET", f"{SESSIONS}/(?P<session>{_ID})", "get_session"),
        ("POST", f"{SESSIONS}/(?P<session>{_ID})/cancel", "cancel_session"),
        ("POST", f"{SESSIONS}/(?P<session>{_ID})/redact", "redact_session"),
        ("GET", f"/v1/identity/verification_reports/(?P<report>{_ID})", "get_report"),
        ("GET", f"/verify/(?P<session>{_ID})/(?P<token>{_ID})", "show_hosted_page"),
        ("POST", f"/verify/(?P<session>{_ID})/(?P<token>{_ID})", "submit_hosted_page"),
    ]

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        secret_key: str = "sk_test_fake_identity",
        webhook_secrets: str | Sequence[str] = "whsec_fake_identity",
        webhook_url: str = "",
        livemode: bool | str = False,
    ) -> None:
        super().__init__(host, port)
        self.secret_key = secret_key
        given = webhook_secrets.split(",") if isinstance(webhook_secrets, str) else list(webhook_secrets)
        #: Stripe signs each delivery once per active endpoint secret (two while a secret is being rolled).
        self.webhook_secrets = [secret for secret in given if secret]
        self.webhook_url = webhook_url
        self.livemode = str(livemode).lower() in ("1", "true", "yes")
        self.sessions: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        #: Idempotency-Key → (method, path, parameters, the stored answer)
        self.idempotency: dict[str, tuple[str, str, Any, FakeResponse]] = {}
        #: The ``Stripe-Version`` of every API call, in order (tests check the pin).
        self.versions: list[str] = []
        #: ``Stripe-Should-Retry`` sent with an error of this status (tests of the client's reading of it).
        self.should_retry: dict[int, str] = {}
        self._clock = 0

    # --- conventions ---------------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        code = "rate_limit" if status == 429 else ""
        response = stripe_error(status, message, kind=kind, code=code)
        if status in self.should_retry:
            response.headers["Stripe-Should-Retry"] = self.should_retry[status]
        return response

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if request.path.startswith("/verify/"):
            return None  # the person's browser on the hosted page
        key = self._key(request.header("Authorization"))
        if not key:
            return stripe_error(
                401, "You did not provide an API key. You need to provide your API key in the Authorization header."
            )
        if not hmac.compare_digest(key, self.secret_key):
            return stripe_error(401, f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}")
        version = request.header("Stripe-Version")
        if version and not _VERSION.fullmatch(version):
            return stripe_error(400, f"Invalid Stripe API version: {version}")
        if request.method == "POST" and request.body:
            content_type = request.header("Content-Type").split(";")[0].strip()
            if content_type != "application/x-www-form-urlencoded":
                return stripe_error(400, f"Invalid request: unsupported Content-Type {content_type or '(none)'}.")
        key_header = request.header("Idempotency-Key")
        if len(key_header) > 255:
            return stripe_error(400, "Idempotency-Key must be at most 255 characters long.", param="Idempotency-Key")
        return None

    @staticmethod
    def _key(header: str) -> str:
        scheme, _, value = header.partition(" ")
        if scheme == "Bearer":
            return value.strip()
        if scheme == "Basic":
            import base64
            import binascii

            try:
                user, _, _password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return ""
            return user
        return ""

    def respond(self, request: FakeRequest) -> FakeResponse:
        """Stripe's idempotency layer around every POST: the first answer under a key (once the endpoint ran,
        failures included) is the answer to every repeat with the same parameters."""
        if not request.path.startswith("/verify/"):
            with self.lock:
                self.versions.append(request.header("Stripe-Version"))
        key = request.header("Idempotency-Key")
        if request.method != "POST" or not key or self.authenticate(request) is not None:
            return super().respond(request)
        try:
            params = parse_form(request.body)
        except (FormError, UnicodeDecodeError):
            params = None
        with self.lock:
            stored = self.idempotency.get(key)
        if stored is not None:
            method, path, first_params, answer = stored
            if (method, path, first_params) != (request.method, request.path, params):
                return stripe_error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                    kind="idempotency_error",
                )
            replay = copy.deepcopy(answer)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        answer = super().respond(request)
        if answer.status < 400 or answer.status >= 500:
            with self.lock:
                self.idempotency[key] = (request.method, request.path, params, copy.deepcopy(answer))
        answer.headers["Idempotency-Key"] = key
        return answer

    def _form(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        try:
            return parse_form(request.body)
        except (FormError, UnicodeDecodeError) as exc:
            return stripe_error(400, f"Invalid request body: {exc}")

    def tick(self) -> int:
        """Unix seconds, strictly increasing across the fake's events (two events never share a ``created``)."""
        self._clock = max(self._clock + 1, int(time.time()))
        return self._clock

    # --- sessions ------------------------------------------------------------------------------------
    def new_client_secret(self, session: dict[str, Any]) -> None:
        token = random_id(24)
        session["client_secret"] = f"{session['id']}_secret_{token}"
        session["url"] = f"{self.base_url}/verify/{session['id']}/{token}"
        # each one works once; earlier ones stay valid until then (Stripe does not say they are revoked)
        session.setdefault("_tokens", set()).add(token)

    def view(self, session: dict[str, Any]) -> dict[str, Any]:
        """A session as Stripe answers with it: ``client_secret`` and ``url`` only while ``requires_input``."""
        shown = copy.deepcopy({key: value for key, value in session.items() if not key.startswith("_")})
        if shown["status"] != "requires_input":
            shown["client_secret"] = None
            shown["url"] = None
        return shown

    def create_session(self, request: FakeRequest) -> FakeResponse:
        params = self._form(request)
        if isinstance(params, FakeResponse):
            return params
        try:
            fields = session_fields(params)
        except FormError as exc:
            return stripe_error(400, str(exc), param=exc.param, code=exc.code)
        session_id = f"vs_{random_id(24)}"
        session: dict[str, Any] = {
            "id": session_id,
            "object": "identity.verification_session",
            "created": self.tick(),
            "last_error": None,
            "last_verification_report": None,
            "livemode": self.livemode,
            "redaction": None,
            "status": "requires_input",
            "verified_outputs": None,
            **fields,
            "_events": [],
        }
        self.new_client_secret(session)
        self.sessions[session_id] = session
        self.record_event(session, "created")
        self.schedule_auto_decision(session_id)
        return FakeResponse(200, self.view(session))

    def find(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        session = self.sessions.get(request.params["session"])
        if session is None:
            return stripe_error(
                404, f"No such verification session: '{request.params['session']}'", param="id", code="resource_missing"
            )
        return session

    def get_session(self, request: FakeRequest) -> FakeResponse:
        session = self.find(request)
        if isinstance(session, FakeResponse):
            return session
        if session["status"] == "requires_input":
            self.new_client_secret(session)  # Stripe hands out a fresh, valid secret and link on every read
        return FakeResponse(200, self.view(session))

    def list_sessions(self, request: FakeRequest) -> FakeResponse:
        query = {key: values[-1] for key, values in request.query.items()}
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return stripe_error(400, "Invalid integer: limit", param="limit")
        if not 1 <= limit <= 100:
            return stripe_error(400, "Limit must be between 1 and 100.", param="limit")
        items = sorted(self.sessions.values(), key=lambda s: (s["created"], s["id"]), reverse=True)
        if "client_reference_id" in query:
            items = [s for s in items if s.get("client_reference_id") == query["client_reference_id"]]
        if "status" in query:
            if query["status"] not in STATUSES:
                return stripe_error(400, f"Invalid status: {query['status']}", param="status")
            items = [s for s in items if s["status"] == query["status"]]
        for bound, keep in (("gte", int.__ge__), ("gt", int.__gt__), ("lte", int.__le__), ("lt", int.__lt__)):
            if f"created[{bound}]" in query:
                limit_at = int(query[f"created[{bound}]"])
                items = [s for s in items if keep(s["created"], limit_at)]
        after = query.get("starting_after")
        if after:
            ids = [s["id"] for s in items]
            if after not in ids:
                return stripe_error(400, f"No such verification session: '{after}'", param="starting_after")
            items = items[ids.index(after) + 1 :]
        page = items[:limit]
        return FakeResponse(
            200,
            {"object": "list", "url": SESSIONS, "has_more": len(items) > limit, "data": [self.view(s) for s in page]},
        )

    def cancel_session(self, request: FakeRequest) -> FakeResponse:
        session = self.find(request)
        if isinstance(session, FakeResponse):
            return session
        if session["status"] != "requires_input":
            return stripe_error(
                400,
                f"This VerificationSession cannot be canceled because it has status {session['status']}.",
                code="session_invalid_status",
            )
        session["status"] = "canceled"
        self.record_event(session, "canceled")
        return FakeResponse(200, self.view(session))

    def redact_session(self, request: FakeRequest) -> FakeResponse:
        session = self.find(request)
        if isinstance(session, FakeResponse):
            return session
        if session["status"] not in ("requires_input", "verified"):
            return stripe_error(
                400,
                f"This VerificationSession cannot be redacted because it has status {session['status']}.",
                code="session_invalid_status",
            )
        if session["status"] == "requires_input":
            session["status"] = "canceled"
            self.record_event(session, "canceled")
        # the fake redacts at once (Stripe reports ``processing`` first, then ``redacted``)
        session["redaction"] = {"status": "redacted"}
        session["metadata"] = {}
        if session.get("verified_outputs"):
            session["verified_outputs"] = dict.fromkeys(session["verified_outputs"], "[redacted]")
        if session.get("provided_details"):
            session["provided_details"] = dict.fromkeys(session["provided_details"], "[redacted]")
        for report in self.reports.values():
            if report["verification_session"] == session["id"] and report.get("document"):
                for field in ("first_name", "last_name", "number", "dob", "address"):
                    report["document"][field] = "[redacted]"
        self.record_event(session, "redacted")
        return FakeResponse(200, self.view(session))

    def get_report(self, request: FakeRequest) -> FakeResponse:
        report = self.reports.get(request.params["report"])
        if report is None:
            return stripe_error(
                404, f"No such verification report: '{request.params['report']}'", param="id", code="resource_missing"
            )
        return FakeResponse(200, copy.deepcopy(report))

    # --- events (the back office fills them in) ------------------------------------------------------
    def record_event(self, session: dict[str, Any], name: str) -> dict[str, Any]:
        raise NotImplementedError

    def show_hosted_page(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError

    def submit_hosted_page(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError
