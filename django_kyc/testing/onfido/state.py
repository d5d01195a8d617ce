"""The fake Onfido's state and conventions: its options, what it keeps, credentials and the error body."""

from __future__ import annotations

import hmac
from typing import Any

from django_kyc.testing.onfido.vocabulary import API_PREFIX
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

#: The constructor options, as ``--option key=value`` names them.
OPTIONS = ("api_token", "webhook_token", "callback_url", "workflow_id", "region")


class OnfidoState(FakeProviderServer):
    """What every part of the fake Onfido shares: applicants, documents, checks, reports and workflow runs in
    memory, ``Authorization: Token token=…`` checks and Onfido's ``{"error": {…}}`` bodies."""

    provider = "onfido"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_token: str = "onfido-test-token",
        webhook_token: str = "onfido-webhook-token",
        callback_url: str = "",
        workflow_id: str = "",
        region: str = "eu",
        **options: str,
    ) -> None:
        super().__init__(host, port)
        unknown = [key for key in options if key.lower() not in OPTIONS]
        if unknown:
            raise TypeError(f"{type(self).__name__} has no option {unknown[0]!r}")
        given: dict[str, Any] = {
            "api_token": api_token,
            "webhook_token": webhook_token,
            "callback_url": callback_url,
            "workflow_id": workflow_id,
            "region": region,
            **{key.lower(): value for key, value in options.items()},
        }
        self.api_token: str = given["api_token"]
        #: accepted too, for rotation tests
        self.extra_tokens: list[str] = []
        #: the registered webhook's ``token``: every delivery is signed with it
        self.webhook_token: str = given["webhook_token"]
        self.default_callback_url: str = given["callback_url"]
        #: the only workflow id accepted (any when empty)
        self.workflow_id: str = given["workflow_id"]
        self.region: str = given["region"]
        self.applicants: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.checks: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.sdk_tokens: list[str] = []
        #: webhooks registered with ``POST /webhooks``: each gets every delivery, signed with its own token
        self.webhooks: dict[str, dict[str, Any]] = {}
        #: the webhook body sent for each (object, state), so a state is delivered the same way again
        self.events: dict[tuple[str, str], bytes] = {}

    @property
    def api_url(self) -> str:
        """What a backend's ``BASE_URL`` is: the server with Onfido's version prefix."""
        return f"{self.base_url}{API_PREFIX}"

    def href(self, path: str) -> str:
        return f"https://api.{self.region}.onfido.com{API_PREFIX}{path}"

    # --- provider conventions ------------------------------------------------------------------------
    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if request.path.startswith("/hosted/"):
            return None  # the person's browser, not an API client
        scheme, _, credential = request.header("Authorization").partition(" ")
        name, _, token = credential.partition("=")
        accepted = [self.api_token, *self.extra_tokens]
        if scheme != "Token" or name != "token" or not any(hmac.compare_digest(token, t) for t in accepted if t):
            return self.error(401, "Authorization error: please re-check your credentials", kind="authorization_error")
        return None

    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        """Onfido's error body: ``{"error": {"type", "message", "fields"}}``."""
        default = {401: "authorization_error", 404: "resource_not_found", 422: "validation_error", 429: "rate_limit"}
        kind = str(extra.pop("kind", "") or default.get(status, "internal_server_error"))
        return FakeResponse(status, {"error": {"type": kind, "message": message, "fields": extra.get("fields", {})}})

    def invalid(self, fields: dict[str, list[str]]) -> FakeResponse:
        return self.error(422, "There was a validation error on this request", fields=fields)

    def body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        if not request.header("Content-Type").startswith("application/json"):
            return self.error(415, "Content-Type must be application/json", kind="unsupported_media_type")
        data = request.json()
        if not isinstance(data, dict):
            return self.error(400, "The request body is not a JSON object", kind="bad_request")
        return data

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.applicants)
