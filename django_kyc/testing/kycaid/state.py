"""The fake KYCAID's state and conventions: its options, what it keeps, credentials and error formats."""

from __future__ import annotations

import copy
import hmac
from collections.abc import Sequence
from typing import Any

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

#: The constructor options, as ``--option key=value`` names them (in either case).
OPTIONS = ("api_token", "extra_tokens", "form_id", "callback_url", "verification_attempts")


class KycaidState(FakeProviderServer):
    """What every part of the fake KYCAID shares: applicants, files, documents, verifications and one-time forms
    in memory, ``Authorization: Token`` checks and KYCAID's error bodies."""

    provider = "kycaid"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_token: str = "kycaid-test-token",
        extra_tokens: str | Sequence[str] = (),
        form_id: str = "",
        callback_url: str = "",
        verification_attempts: int | str | None = None,
        **options: str,
    ) -> None:
        super().__init__(host, port)
        # the CLI passes --option KEY=VALUE; accept KYCAID's own upper-case spelling too
        given: dict[str, Any] = {
            "api_token": api_token,
            "extra_tokens": extra_tokens,
            "form_id": form_id,
            "callback_url": callback_url,
            "verification_attempts": verification_attempts,
        }
        for key, value in options.items():
            if key.lower() not in OPTIONS:
                raise TypeError(f"{type(self).__name__} has no option {key!r}")
            given[key.lower()] = value
        self.api_token: str = given["api_token"]
        tokens = given["extra_tokens"]
        self.extra_tokens = [token for token in (tokens.split(",") if isinstance(tokens, str) else tokens) if token]
        self.form_id: str = given["form_id"]
        self.default_callback_url: str = given["callback_url"]
        attempts = given["verification_attempts"]
        self.verification_attempts: int | None = None if attempts is None or attempts in ("", "null") else int(attempts)
        self.applicants: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.verifications: dict[str, dict[str, Any]] = {}
        self.forms: dict[str, dict[str, Any]] = {}
        #: the callback body sent for each (verification, state), so a state is delivered the same way again
        self.events: dict[tuple[str, str], bytes] = {}

    # --- provider conventions ------------------------------------------------------------------------
    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if request.path.startswith("/hosted/"):
            return None  # the person's browser, not an API client
        scheme, _, token = request.header("Authorization").partition(" ")
        accepted = [self.api_token, *self.extra_tokens]
        if scheme != "Token" or not any(hmac.compare_digest(token.strip(), t) for t in accepted if t):
            return self.error(403, "Access denied: invalid API token")
        return None

    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        if status == 422:
            return self.invalid([(str(extra.get("parameter", "request")), message)])
        kind = {401: "unauthorized", 403: "unauthorized", 404: "not_found", 429: "rate_limit"}.get(status, "error")
        return FakeResponse(status, {"type": kind, "message": message})

    @staticmethod
    def invalid(errors: Sequence[tuple[str, str]]) -> FakeResponse:
        """KYCAID's validation error: HTTP 422 with every failing parameter."""
        return FakeResponse(422, {"type": "validation", "errors": [{"parameter": p, "message": m} for p, m in errors]})

    def body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        """The request's JSON object, or KYCAID's answer to a body that is not one."""
        data = request.json()
        if not isinstance(data, dict):
            return self.invalid([("body", "Request body must be a JSON object")])
        return data

    def applicant_view(self, applicant_id: str) -> dict[str, Any]:
        """An applicant as KYCAID shows it: with its documents (and no addresses: the fake keeps none)."""
        applicant = copy.deepcopy(self.applicants[applicant_id])
        applicant["documents"] = [
            copy.deepcopy(doc) for doc in self.documents.values() if doc["applicant_id"] == applicant_id
        ]
        applicant["addresses"] = []
        return applicant

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.applicants)
