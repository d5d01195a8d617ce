"""The fake Persona's API: ``/api/v1/inquiries`` under an API key, as Persona serves it.

Strict where Persona is: the key as a Bearer token (401 otherwise), JSON:API bodies (``{"data": {"attributes":
…}}``, ``application/json``, unknown attributes refused), the ``Persona-Version`` format, kebab-case keys, and
``Idempotency-Key`` semantics on every POST (the first answer, a 5xx included, replayed for the same key and
body; another body under a used key is refused with a 409; 401 and 429 answers are never stored, Persona's
rate limiter and authentication run before its idempotency layer). Errors come in Persona's body,
``{"errors": [{"title", "details"}]}``.
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import re
import secrets
import string
import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

API = "/api/v1"
INQUIRIES = f"{API}/inquiries"
_ID = "[A-Za-z0-9_]+"
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
#: What the create call accepts (``data.attributes``), in kebab case.
TEMPLATE_ATTRIBUTES = ("inquiry-template-id", "inquiry-template-version-id", "template-id")
CREATE_ATTRIBUTES = frozenset(
    {
        *TEMPLATE_ATTRIBUTES,
        "reference-id",
        "account-id",
        "note",
        "fields",
        "tags",
        "redirect-uri",
        "theme-id",
        "expiration-after-create-interval-seconds",
        "expiration-after-start-interval-seconds",
        "expiration-after-resume-interval-seconds",
        "one-time-link-expiration-seconds",
    }
)
#: Persona's published limit the fake announces in ``RateLimit-*`` headers.
RATE_LIMIT = 300
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def persona_error(status: int, details: str, *, title: str = "", pointer: str = "") -> FakeResponse:
    """Persona's error body: ``{"errors": [{"title", "details", "source"?}]}``."""
    error: dict[str, Any] = {"title": title or TITLES.get(status, "Error"), "details": details}
    if pointer:
        error["source"] = {"pointer": pointer}
    return FakeResponse(status, {"errors": [error]})


def random_id(length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_token(inquiry_id: str, expires: int) -> str:
    """A JWT-shaped session token (the fake's own signature, which nobody checks) with ``exp``."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"inquiry_id": inquiry_id, "session_id": f"iqse_{random_id(20)}", "exp": expires}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{random_id(43)}"


class PersonaApi(FakeProviderServer):
    """Inquiries in memory, served as Persona serves them."""

    provider = "persona"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", INQUIRIES, "create_inquiry"),
        ("GET", INQUIRIES, "list_inquiries"),
        ("GET", f"{INQUIRIES}/(?P<inquiry>{_ID})", "get_inquiry"),
        ("DELETE", f"{INQUIRIES}/(?P<inquiry>{_ID})", "redact_inquiry"),
        ("POST", f"{INQUIRIES}/(?P<inquiry>{_ID})/resume", "resume_inquiry"),
        ("POST", f"{INQUIRIES}/(?P<inquiry>{_ID})/generate-one-time-link", "generate_one_time_link"),
        ("GET", "/verify", "show_hosted_page"),
        ("POST", "/verify", "submit_hosted_page"),
    ]

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "persona_sandbox_fake",
        webhook_secrets: str | list[str] = "wbhsec_fake",
        webhook_url: str = "",
    ) -> None:
        super().__init__(host, port)
        self.api_key = api_key
        given = webhook_secrets.split(",") if isinstance(webhook_secrets, str) else list(webhook_secrets)
        #: Persona signs each delivery once per active secret (two while a secret is rotated).
        self.webhook_secrets = [secret for secret in given if secret]
        self.webhook_url = webhook_url
        self.inquiries: dict[str, dict[str, Any]] = {}
        #: one-time link code → inquiry id (each code works once)
        self.codes: dict[str, str] = {}
        #: Idempotency-Key → (method, path, body, the stored answer)
        self.idempotency: dict[str, tuple[str, str, Any, FakeResponse]] = {}
        #: ``(method, path, Idempotency-Key)`` of every POST, in order (tests check every POST has one).
        self.posts: list[tuple[str, str, str]] = []
        #: The ``Persona-Version`` of every API call, in order (tests check the pin).
        self.versions: list[str] = []
        self._clock = 0.0

    @property
    def api_url(self) -> str:
        """The ``BASE_URL`` a backend uses with this fake."""
        return self.base_url + API

    # --- conventions ---------------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        return persona_error(status, message)

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if not request.path.startswith(API):
            return None  # the person's browser on the hosted flow
        scheme, _, key = request.header("Authorization").partition(" ")
        if scheme != "Bearer" or not key.strip():
            return persona_error(401, "Must provide an API key in the Authorization header as a Bearer token.")
        if not hmac.compare_digest(key.strip(), self.api_key):
            return persona_error(401, "The API key provided is invalid.")
        version = request.header("Persona-Version")
        if version and not _VERSION.fullmatch(version):
            return persona_error(400, f"Invalid Persona-Version: {version}")
        inflection = request.header("Key-Inflection")
        if inflection and inflection != "kebab":
            return persona_error(400, f"The fake answers in kebab case only, not {inflection}.")
        if request.method == "POST":
            content_type = request.header("Content-Type").split(";")[0].strip()
            if request.body and content_type != "application/json":
                return persona_error(400, f"Unsupported Content-Type {content_type or '(none)'}; send JSON.")
        return None

    def respond(self, request: FakeRequest) -> FakeResponse:
        """Persona's idempotency layer around every POST: the first answer under a key (once the endpoint ran,
        failures included) answers every repeat with the same body."""
        if request.path.startswith(API):
            with self.lock:
                self.versions.append(request.header("Persona-Version"))
        key = request.header("Idempotency-Key")
        if request.method == "POST" and request.path.startswith(API):
            with self.lock:
                self.posts.append((request.method, request.path, key))
        if request.method != "POST" or not key or self.authenticate(request) is not None:
            return self._with_rate_headers(super().respond(request))
        body = request.json()
        with self.lock:
            stored = self.idempotency.get(key)
        if stored is not None:
            method, path, first_body, answer = stored
            if (method, path, first_body) != (request.method, request.path, body):
                return persona_error(409, f"Idempotency-Key {key} was already used with different request parameters.")
            replay = copy.deepcopy(answer)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        answer = self._with_rate_headers(super().respond(request))
        if answer.status not in (401, 429):
            with self.lock:
                self.idempotency[key] = (request.method, request.path, body, copy.deepcopy(answer))
        return answer

    @staticmethod
    def _with_rate_headers(answer: FakeResponse) -> FakeResponse:
        answer.headers.setdefault("RateLimit-Limit", str(RATE_LIMIT))
        answer.headers.setdefault("RateLimit-Remaining", str(RATE_LIMIT - 1))
        answer.headers.setdefault("RateLimit-Reset", "60")
        return answer

    def tick(self) -> float:
        """Seconds, strictly increasing across the fake's events (two events never share a ``created-at``)."""
        self._clock = max(self._clock + 0.001, time.time())
        return self._clock

    # --- inquiries -----------------------------------------------------------------------------------
    def document(self, inquiry: dict[str, Any]) -> dict[str, Any]:
        """An inquiry as Persona answers with it: ``data`` and its verifications in ``included``."""
        shown = copy.deepcopy({key: value for key, value in inquiry.items() if not key.startswith("_")})
        return {"data": shown, "included": copy.deepcopy(inquiry["_verifications"])}

    def create_inquiry(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        attributes = body.get("data", {}).get("attributes") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict) or not isinstance(attributes, dict):
            return persona_error(400, "param is missing or the value is empty: data", title="Parameter missing")
        unknown = sorted(set(attributes) - CREATE_ATTRIBUTES)
        if unknown:
            return persona_error(
                400, f"found unpermitted parameter: {unknown[0]}", pointer=f"/data/attributes/{unknown[0]}"
            )
        templates = [name for name in TEMPLATE_ATTRIBUTES if attributes.get(name)]
        if len(templates) != 1:
            return persona_error(
                422, "Exactly one of inquiry-template-id, inquiry-template-version-id or template-id is required."
            )
        template = str(attributes[templates[0]])
        prefix = {"inquiry-template-id": "itmpl_", "inquiry-template-version-id": "itmplv_", "template-id": "tmpl_"}
        if not template.startswith(prefix[templates[0]]):
            return persona_error(404, f"Could not find the template {template}")
        for name in [a for a in attributes if a.startswith("expiration-") or a == "one-time-link-expiration-seconds"]:
            if isinstance(attributes[name], bool) or not isinstance(attributes[name], int) or attributes[name] < 1:
                return persona_error(400, f"{name} must be a positive integer", pointer=f"/data/attributes/{name}")
        reference = attributes.get("reference-id")
        if reference is not None and not isinstance(reference, str):
            return persona_error(400, "reference-id must be a string", pointer="/data/attributes/reference-id")
        inquiry_id = f"inq_{random_id(24)}"
        now = self.tick()
        inquiry: dict[str, Any] = {
            "type": "inquiry",
            "id": inquiry_id,
            "attributes": {
                "status": "created",
                "reference-id": reference,
                "note": attributes.get("note"),
                "tags": [],
                "created-at": iso(now),
                "started-at": None,
                "completed-at": None,
                "failed-at": None,
                "expired-at": None,
                "decisioned-at": None,
                "marked-for-review-at": None,
                "redacted-at": None,
                "name-first": None,
                "name-last": None,
                "birthdate": None,
                "fields": {},
            },
            "relationships": {
                "account": {"data": {"type": "account", "id": f"act_{random_id(24)}"}},
                "inquiry-template": {"data": {"type": "inquiry-template", "id": template}},
                "verifications": {"data": []},
            },
            "_verifications": [],
            "_events": [],
            "_resume_ttl": int(attributes.get("expiration-after-resume-interval-seconds") or 24 * 3600),
        }
        self.inquiries[inquiry_id] = inquiry
        self.record_event(inquiry, "inquiry.created")
        self.schedule_auto_decision(inquiry_id)
        return FakeResponse(201, self.document(inquiry))

    def find(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        inquiry = self.inquiries.get(request.params["inquiry"])
        if inquiry is None:
            return persona_error(404, f"Could not find Inquiry with id {request.params['inquiry']}")
        return inquiry

    def get_inquiry(self, request: FakeRequest) -> FakeResponse:
        inquiry = self.find(request)
        return inquiry if isinstance(inquiry, FakeResponse) else FakeResponse(200, self.document(inquiry))

    def list_inquiries(self, request: FakeRequest) -> FakeResponse:
        query = {key: values[-1] for key, values in request.query.items()}
        unknown = sorted(k for k in query if k not in ("page[size]", "page[after]", "filter[reference-id]"))
        if unknown:
            return persona_error(400, f"Unsupported query parameter: {unknown[0]}")
        try:
            size = int(query.get("page[size]", "10"))
        except ValueError:
            return persona_error(400, "page[size] must be an integer")
        if not 1 <= size <= 100:
            return persona_error(400, "page[size] must be between 1 and 100")
        items = sorted(self.inquiries.values(), key=lambda i: (i["attributes"]["created-at"], i["id"]), reverse=True)
        if "filter[reference-id]" in query:
            items = [i for i in items if i["attributes"]["reference-id"] == query["filter[reference-id]"]]
        after = query.get("page[after]")
        if after:
            ids = [i["id"] for i in items]
            if after not in ids:
                return persona_error(400, f"page[after] {after} is not in the list")
            items = items[ids.index(after) + 1 :]
        page = items[:size]
        more = len(items) > size
        following = {**query, "page[after]": page[-1]["id"]} if more and page else None
        return FakeResponse(
            200,
            {
                "data": [self.document(i)["data"] for i in page],
                "links": {"prev": None, "next": f"{INQUIRIES}?{urlencode(following)}" if following else None},
            },
        )

    def resume_inquiry(self, request: FakeRequest) -> FakeResponse:
        """A session token for a ``created``, ``pending`` or ``expired`` inquiry (an expired one becomes
        ``pending``); anything else, or a redacted inquiry, is a 409."""
        inquiry = self.find(request)
        if isinstance(inquiry, FakeResponse):
            return inquiry
        attributes = inquiry["attributes"]
        if attributes["status"] not in ("created", "pending", "expired") or attributes["redacted-at"]:
            return persona_error(409, f"Cannot resume an inquiry with status {attributes['status']}.")
        if attributes["status"] == "expired":
            attributes["status"] = "pending"
            attributes["expired-at"] = None
            self.record_event(inquiry, "inquiry.transitioned")
        token = session_token(inquiry["id"], int(time.time()) + inquiry["_resume_ttl"])
        return FakeResponse(200, {**self.document(inquiry), "meta": {"session-token": token}})

    def generate_one_time_link(self, request: FakeRequest) -> FakeResponse:
        """A one-time link for a ``created`` or ``pending`` inquiry (an expired one must be resumed first)."""
        inquiry = self.find(request)
        if isinstance(inquiry, FakeResponse):
            return inquiry
        attributes = inquiry["attributes"]
        if attributes["status"] not in ("created", "pending") or attributes["redacted-at"]:
            return persona_error(
                409, f"Cannot generate a one-time link for an inquiry with status {attributes['status']}."
            )
        code = random_id(32)
        self.codes[code] = inquiry["id"]
        link = f"{self.base_url}/verify?{urlencode({'code': code})}"
        return FakeResponse(201, {**self.document(inquiry), "meta": {"one-time-link": link}})

    def redact_inquiry(self, request: FakeRequest) -> FakeResponse:
        """Redaction: the personal attributes and the verifications' details are gone, the status stays and
        ``redacted-at`` is set. Irreversible."""
        inquiry = self.find(request)
        if isinstance(inquiry, FakeResponse):
            return inquiry
        attributes = inquiry["attributes"]
        if not attributes["redacted-at"]:
            attributes["redacted-at"] = iso(self.tick())
            for name in ("name-first", "name-last", "birthdate"):
                attributes[name] = None
            attributes["fields"] = {}
            for verification in inquiry["_verifications"]:
                verification["attributes"] = {
                    "status": verification["attributes"]["status"],
                    "redacted-at": attributes["redacted-at"],
                }
            self.record_event(inquiry, "inquiry.redacted")
        return FakeResponse(200, self.document(inquiry))

    # --- events and the hosted flow (the back office fills them in) ------------------------------------
    def record_event(self, inquiry: dict[str, Any], name: str) -> dict[str, Any]:
        raise NotImplementedError

    def show_hosted_page(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError

    def submit_hosted_page(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError
