"""A fake Provide ``ident`` API: ``/api/v1/kyc_applications`` with bearer auth and signed webhooks.

Shaped after Provide's server (``provideplatform/ident`` ``kyc/handlers.go``, ``provide-go`` ``handlers.go``):
errors rendered by ``provide.RenderError`` are ``{"message": ...}`` (401, 404, 400, a refused create), a failed
update answers 422 ``{"errors": [{"message": ...}]}``; lists are newest first, paginated with ``page`` (from 1)
and ``rpp`` (default 25) and counted in ``X-Total-Results-Count``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from django_kyc.backends.signing import hmac_hex
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

STATUSES = ("pending", "submitted", "review", "remediate", "accepted", "rejected", "failed")
#: ``provide-go``'s ``defaultResultsPerPage``
DEFAULT_RPP = 25
PROVIDERS = ("vouched", "identitymind")


class FakeProvide(FakeProviderServer):
    """Keeps applications in memory. ``decide(id, status)`` plays the gateway's back office; any status,
    including ones Provide does not document, can be set so unknown values can be tested."""

    provider = "provide"
    routes = [
        ("GET", r"/api/v1/kyc_applications", "list_applications"),
        ("POST", r"/api/v1/kyc_applications", "create_application"),
        ("GET", r"/api/v1/kyc_applications/(?P<id>[0-9a-f-]{36})", "get_application"),
        ("PUT", r"/api/v1/kyc_applications/(?P<id>[0-9a-f-]{36})", "update_application"),
    ]

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "provide-token",
        webhook_secret: str = "provide-webhook-secret",
    ) -> None:
        super().__init__(host, port)
        self.token = token
        self.webhook_secret = webhook_secret
        self.applications: dict[str, dict[str, Any]] = {}

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v1/"

    # --- provider behaviour ----------------------------------------------------------------------------
    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        scheme, _, token = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer" or token != self.token:
            return self.error(401, "unauthorized")
        return None

    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        """``provide.RenderError``: ``{"message": ...}``."""
        return FakeResponse(status, {"message": message})

    @staticmethod
    def validation_error(message: str) -> FakeResponse:
        """A failed update: the model's errors, ``{"errors": [{"message": ...}]}``."""
        return FakeResponse(422, {"errors": [{"message": message, "status": 422}]})

    def list_applications(self, request: FakeRequest) -> FakeResponse:
        items = sorted(self.applications.values(), key=lambda item: item["created_at"], reverse=True)
        status = (request.query.get("status") or [""])[0]
        if status:
            items = [item for item in items if item["status"] == status]
        page, rpp = self._number(request, "page", 1), self._number(request, "rpp", DEFAULT_RPP)
        shown = items[(page - 1) * rpp : page * rpp]
        public = [self._public(item) for item in shown]
        return FakeResponse(200, public, headers={"X-Total-Results-Count": str(len(items))})

    @staticmethod
    def _number(request: FakeRequest, name: str, default: int) -> int:
        """Provide's ``Paginate``: a value that does not parse (as a signed 8-bit integer) keeps the default."""
        try:
            value = int((request.query.get(name) or [""])[0])
        except ValueError:
            return default
        return value if 0 < value < 128 else default

    def create_application(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        if not isinstance(body, dict):
            return self.error(400, "failed to parse JSON body")
        provider = body.get("provider", "vouched")
        if provider not in PROVIDERS:
            return self.error(422, f"unsupported KYC provider: {provider}")
        kind = body.get("type", "kyc")
        if kind not in ("kyc", "kyb"):
            return self.error(422, f"invalid KYC application type: {kind}")
        params = body.get("params")
        if not isinstance(params, dict):
            return self.error(422, "params are required")
        missing = [name for name in ("first_name", "last_name") if not params.get(name)]
        if missing:
            return self.error(422, f"missing required params: {', '.join(missing)}")
        application = {
            "id": str(uuid.uuid4()),
            "created_at": datetime.now(timezone.utc).isoformat(),
            "application_id": str(uuid.uuid4()),
            "user_id": body.get("user_id"),
            "provider": provider,
            "identifier": None,
            "type": kind,
            "status": "pending",
            "name": f"{params['first_name']} {params['last_name']}",
            "description": None,
            "params": params,
        }
        self.applications[application["id"]] = application
        self.schedule_auto_decision(application["id"])
        return FakeResponse(201, self._public(application, with_params=True))

    def get_application(self, request: FakeRequest) -> FakeResponse:
        application = self.applications.get(request.params["id"])
        if application is None:
            return self.error(404, "KYC application not found")
        detail = self._public(application)
        detail["provider_representation"] = self._representation(application)
        return FakeResponse(200, detail)

    def update_application(self, request: FakeRequest) -> FakeResponse:
        application = self.applications.get(request.params["id"])
        if application is None:
            return self.error(404, "KYC application not found")
        body = request.json()
        if not isinstance(body, dict):
            return self.error(400, "failed to parse JSON body")
        if "status" in body:
            if body["status"] not in STATUSES:
                return self.validation_error(f"invalid status: {body['status']}")
            application["status"] = body["status"]
        if isinstance(body.get("params"), dict):
            application["params"] = body["params"]
            application["status"] = "pending"  # resubmitted to the provider
        return FakeResponse(202, self._public(application))

    @staticmethod
    def _public(application: dict[str, Any], with_params: bool = False) -> dict[str, Any]:
        public = {key: value for key, value in application.items() if key != "params"}
        if with_params:
            public["params"] = application["params"]
        return public

    @staticmethod
    def _representation(application: dict[str, Any]) -> dict[str, Any]:
        """What Vouched would say about the job (IdentityMind's shape differs; the backend keeps it raw)."""
        status = application["status"]
        return {
            "id": application["identifier"],
            "status": "completed" if status in ("accepted", "rejected", "remediate") else "active",
            "result": {"success": status == "accepted"},
        }

    # --- back office and webhooks ----------------------------------------------------------------------
    def decide(self, ref: str, outcome: str) -> None:
        with self.lock:
            application = self.applications[ref]
            application["status"] = outcome
            application["identifier"] = application["identifier"] or uuid.uuid4().hex[:8]
            application["description"] = "document photo unreadable" if outcome == "remediate" else None

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """Go's encoding/json of a map: sorted keys, compact. Signed over ``"<t>." + body``."""
        status = outcome or self.applications[ref]["status"]
        body = json.dumps({"kyc_application_id": ref, "status": status}, separators=(",", ":"), sort_keys=True)
        timestamp = int(kwargs.get("timestamp") or time.time())
        secret = str(kwargs.get("secret") or self.webhook_secret).encode()
        signature = hmac_hex(secret, f"{timestamp}.".encode() + body.encode())
        return body.encode(), {
            "Content-Type": "application/json",
            "X-Request-Signature": f"t={timestamp},s={signature}",
        }

    def callback_url(self, ref: str) -> str:
        return str(self.applications[ref]["params"].get("webhook_url") or "")

    def applicant_count(self) -> int:
        return len(self.applications)


SERVER = FakeProvide
