"""A fake PassportReader API: ``POST /api/v1/session.create|get|state`` under HTTP Basic auth.

It follows the vendor's API reference (https://passportreader.app/reference; what we rely on is in
``docs/providers/passportreader.md``): POST only, a JSON body (an empty one is fine, unknown properties are
ignored, wrong types are refused), flat JSON answers, 64-bit integer ids, ISO-8601 UTC timestamps, errors as
``{"error_message": ..., "error_name": ...}`` with 400 / 401 / 404. Callbacks are unsigned, as the
provider's are: ``{"session_id", "session_state", "session_reference"}``.

``decide(session_id, state)`` plays the person and the provider's back office: any state can be set,
including ones PassportReader never sends, so the backend's fallback can be tested. From ``COMPLETED`` on,
the session carries chip data (override any field with keyword arguments).

Command line (the demo)::

    python -m django_kyc.testing passportreader --port 8104 \
        --option public_key=public-key-demo --option secret=secret-demo --auto-decide APPROVED
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

logger = logging.getLogger("django_kyc.testing")

#: States seen from the real provider; ``decide`` accepts any other string too.
STATES = ("CREATED", "INITIATED", "COMPLETED", "APPROVED", "REJECTED", "FAILED", "ABORTED")
#: A state PassportReader does not send (for the unknown-state fallback).
UNKNOWN_STATE = "ON_HOLD"
#: States in which the chip has been read.
SCANNED = frozenset({"COMPLETED", "APPROVED", "REJECTED"})
SESSION_LIFETIME = timedelta(hours=1)

ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}

#: What a (specimen) passport chip yields; ``decide(..., **fields)`` overrides any of it.
SPECIMEN = {
    "given_names": "ANNA MARIA",
    "surname": "DE VRIES",
    "nationality": "NL",
    "sex": "FEMALE",
    "date_of_birth": "1985-03-10",
    "personal_number": "999999990",
    "document_type": "PASSPORT",
    "document_number": "SPECI2024",
    "issuing_country": "NL",
    "issuer": "Burg. van Stad en Dorp",
}
# the first bytes of a JPEG: enough to stand in for the chip portrait (DG2)
PORTRAIT = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 48).decode()
PERSON_FIELDS = (*SPECIMEN, "expiry_date", "portrait", "face")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakePassportReader(FakeProviderServer):
    """Sessions in memory, keyed by their integer id."""

    provider = "passportreader"
    #: The person opens the app and the chip is read before the outcome (the sequence the provider sends).
    AUTO_STEPS = ("INITIATED", "COMPLETED")
    routes = [
        ("POST", r"/api/v1/session\.create", "session_create"),
        ("POST", r"/api/v1/session\.get", "session_get"),
        ("POST", r"/api/v1/session\.state", "session_state"),
    ]

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        public_key: str = "public-key-test",
        secret: str = "secret-test",
    ) -> None:
        super().__init__(host, port)
        self.public_key = public_key
        self.secret = secret
        self.sessions: dict[int, dict[str, Any]] = {}
        #: request bodies of session.create, in order (for tests of the request shape)
        self.created_with: list[dict[str, Any]] = []

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v1/"

    # --- provider behaviour ----------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        name = str(extra.pop("name", "") or ERROR_NAMES.get(status, "Error"))
        return FakeResponse(status, {"error_message": message, "error_name": name})

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        scheme, _, encoded = request.header("Authorization").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            user = password = ""
        if scheme.lower() != "basic" or not (
            secrets.compare_digest(user.encode(), self.public_key.encode())
            and secrets.compare_digest(password.encode(), self.secret.encode())
        ):
            return self.error(401, "No valid API credentials were provided", name="Unauthorized")
        return None

    def _properties(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        """The body's properties: an omitted body is ``{}``; anything but a JSON object is refused."""
        if not request.body.strip():
            return {}
        body = request.json()
        if not isinstance(body, dict):
            return self.error(400, "The request body must be a JSON object", name="InvalidRequest")
        return body

    def _typed(self, body: dict[str, Any], name: str, kind: type, required: bool = False) -> FakeResponse | None:
        """400 for a missing required property or one of the wrong type, like the provider."""
        if name not in body or body[name] is None:
            if required:
                return self.error(400, f"Missing required property: {name}", name="MissingProperty")
            return None
        value = body[name]
        wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        if wrong:
            type_name = {int: "integer", str: "string", bool: "boolean"}[kind]
            return self.error(400, f"Property {name} must be of type {type_name}", name="InvalidProperty")
        return None

    def _session_for(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        body = self._properties(request)
        if isinstance(body, FakeResponse):
            return body
        problem = self._typed(body, "id", int, required=True)
        if problem:
            return problem
        session = self.sessions.get(body["id"])
        if session is None:
            return self.error(404, f"No session found with id: {body['id']}", name="SessionNotFound")
        return session

    def session_create(self, request: FakeRequest) -> FakeResponse:
        body = self._properties(request)
        if isinstance(body, FakeResponse):
            return body
        for name, kind in (("callback_url", str), ("face_verification", bool), ("reference", str)):
            problem = self._typed(body, name, kind)
            if problem:
                return problem
        session_id = secrets.randbelow(2**63 - 10**15) + 10**15  # a 64-bit id, like the provider's
        created = _now()
        self.sessions[session_id] = {
            "id": session_id,
            "created": _iso(created),
            "expires": _iso(created + SESSION_LIFETIME),
            "state": "CREATED",
            "reference": body.get("reference") or "",
            "user_ip": None,
            "user_agent": None,
            **dict.fromkeys(PERSON_FIELDS),
            # kept by the provider, not returned by session.get
            "_token": secrets.token_urlsafe(32),
            "_callback_url": body.get("callback_url") or "",
            "_face_verification": bool(body.get("face_verification")),
        }
        self.created_with.append(dict(body))
        self.schedule_auto_decision(str(session_id))
        return FakeResponse(200, {"id": session_id, "token": self.sessions[session_id]["_token"]})

    def session_get(self, request: FakeRequest) -> FakeResponse:
        session = self._session_for(request)
        if isinstance(session, FakeResponse):
            return session
        return FakeResponse(200, {k: v for k, v in session.items() if not k.startswith("_")})

    def session_state(self, request: FakeRequest) -> FakeResponse:
        session = self._session_for(request)
        if isinstance(session, FakeResponse):
            return session
        return FakeResponse(200, {"state": session["state"]})

    # --- back office -----------------------------------------------------------------------------------
    def session(self, ref: str) -> dict[str, Any]:
        return self.sessions[int(ref)]

    def token_for(self, ref: str) -> str:
        return str(self.session(ref)["_token"])

    def decide(self, ref: str, outcome: str, **fields: Any) -> None:
        """Move session ``ref`` to state ``outcome``; from COMPLETED on it carries chip data."""
        with self.lock:
            session = self.session(ref)
            session["state"] = outcome
            if outcome != "CREATED" and session["user_ip"] is None:
                session["user_ip"] = "192.0.2.10"
                session["user_agent"] = "IrisID/2.4 (Android 14)"
            if outcome in SCANNED and session["document_number"] is None:
                expiry = (_now() + timedelta(days=5 * 365)).date().isoformat()
                session.update(SPECIMEN, expiry_date=expiry, portrait=PORTRAIT)
                if session["_face_verification"]:
                    session["face"] = PORTRAIT
            for name, value in fields.items():
                if name not in PERSON_FIELDS:
                    raise ValueError(f"not a session field: {name}")
                session[name] = value

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The callback as PassportReader sends it: the current state and our reference, nothing signed."""
        if outcome is not None:
            self.decide(ref, outcome)
        with self.lock:
            session = self.session(ref)
            body = {
                "session_id": session["id"],
                "session_state": session["state"],
                "session_reference": session["reference"],
            }
        return json.dumps(body).encode(), {"Content-Type": "application/json"}

    def callback_url(self, ref: str) -> str:
        return str(self.session(ref)["_callback_url"])

    def applicant_count(self) -> int:
        return len(self.sessions)


SERVER = FakePassportReader
