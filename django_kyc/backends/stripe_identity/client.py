"""Stripe's REST API (v1) over the shared HTTP client: form-encoded bodies in Stripe's bracket notation, the
secret key, a pinned ``Stripe-Version``, Stripe's error body and its word on retrying, and one method per
Identity endpoint the backend uses. No Stripe SDK: the few calls are plain HTTP (``docs/providers/
stripe_identity.md``, "API").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import requests

from django_kyc.backends.http import ProviderHttpClient, error_for_status, error_message_from, parse_retry_after
from django_kyc.exceptions import PermanentProviderError, ProviderError, TransientProviderError

DEFAULT_BASE_URL = "https://api.stripe.com"
SESSIONS = "/v1/identity/verification_sessions"
REPORTS = "/v1/identity/verification_reports"
#: Stripe's answer header saying whether repeating a failed request can succeed (``true`` / ``false``).
SHOULD_RETRY_HEADER = "Stripe-Should-Retry"
#: Stripe's page size limit for list calls.
MAX_PAGE_SIZE = 100

#: ``{"error": {"type", "code", "message", "param", ...}}``: the message, else the code, else the type. Never
#: the whole object: ``param`` values can echo what we sent.
stripe_error_message = error_message_from("error.message", "error.code", "error.type", "message")


def form_pairs(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``params`` flattened into Stripe's bracket notation: ``{"options": {"document": {"allowed_types":
    ["passport"]}}}`` → ``options[document][allowed_types][0]=passport``. ``None`` is left out, booleans are
    ``true`` / ``false``; an empty mapping is sent as ``key=""`` (how Stripe is told to clear ``metadata``)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        pairs.extend(_flatten(name, value))
    return pairs


def _flatten(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    if isinstance(value, Mapping):
        return form_pairs(value, name) if value else [(name, "")]
    if isinstance(value, list | tuple):
        return [pair for index, item in enumerate(value) for pair in _flatten(f"{name}[{index}]", item)]
    return [(name, str(value))]


class IdempotencyKeyError(TransientProviderError):
    """Stripe's ``idempotency_error``: the key was used before with other parameters (400), or a request under
    it is still running (409). Worth another attempt, but a 400 one needs a new key (see :mod:`.submission`)."""


def error_type(response: requests.Response) -> str:
    """``error.type`` of Stripe's error body (``invalid_request_error``, ``idempotency_error`` …), ``""`` if none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, Mapping) else None
    kind = error.get("type") if isinstance(error, Mapping) else None
    return kind if isinstance(kind, str) else ""


class StripeIdentityClient(ProviderHttpClient):
    """The VerificationSession endpoints, ids in and JSON objects out."""

    def error_for(self, response: requests.Response) -> ProviderError:
        """An ``idempotency_error`` is its own error (:class:`IdempotencyKeyError`). Otherwise Stripe's own
        verdict wins over the status code when it gives one: ``Stripe-Should-Retry: false`` makes even a 5xx
        permanent, ``true`` makes a 4xx (a 409 lock conflict) worth retrying."""
        verdict = response.headers.get(SHOULD_RETRY_HEADER, "").strip().lower()
        message = self.error_message(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if error_type(response) == "idempotency_error":
            return IdempotencyKeyError(message, provider=self.provider, status_code=response.status_code)
        if verdict == "false":
            return PermanentProviderError(message, provider=self.provider, status_code=response.status_code)
        if verdict == "true":
            return TransientProviderError(
                message, provider=self.provider, status_code=response.status_code, retry_after=retry_after
            )
        return error_for_status(self.provider, response.status_code, message, retry_after=retry_after)

    def post_form(self, path: str, params: Mapping[str, Any], *, idempotency_key: str = "") -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        answer: dict[str, Any] = self.json("POST", path, data=form_pairs(params), headers=headers)
        return answer

    # --- sessions ------------------------------------------------------------------------------------
    def create_session(self, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        """``POST /v1/identity/verification_sessions`` under ``idempotency_key``: a repeat with the same key and
        parameters gets the first answer again instead of a second session."""
        return self.post_form(SESSIONS, params, idempotency_key=idempotency_key)

    def get_session(self, session_id: str) -> dict[str, Any]:
        """The session; while it is ``requires_input`` it carries a fresh ``client_secret`` and ``url``."""
        answer: dict[str, Any] = self.json("GET", f"{SESSIONS}/{session_id}")
        return answer

    def get_report(self, report_id: str) -> dict[str, Any]:
        """``GET /v1/identity/verification_reports/{id}``: each check's result and the data read from the document."""
        answer: dict[str, Any] = self.json("GET", f"{REPORTS}/{report_id}")
        return answer

    def iter_sessions(self, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[dict[str, Any]]:
        """``GET /v1/identity/verification_sessions`` with ``filters`` (``client_reference_id``, ``created``),
        every page (``has_more`` / ``starting_after``)."""
        query: list[tuple[str, str]] = [("limit", str(min(page_size, MAX_PAGE_SIZE))), *form_pairs(filters)]
        after = ""
        while True:
            page = self.json("GET", SESSIONS, params=[*query, *([("starting_after", after)] if after else [])])
            items = [item for item in page.get("data") or [] if isinstance(item, dict)]
            yield from items
            if not page.get("has_more") or not items or not items[-1].get("id"):
                return
            after = str(items[-1]["id"])

    def cancel_session(self, session_id: str) -> dict[str, Any]:
        """``POST …/{id}/cancel``: only from ``requires_input``; irreversible. No idempotency key: repeating it
        is harmless (a cancelled session is refused, which the caller reads back)."""
        return self.post_form(f"{SESSIONS}/{session_id}/cancel", {})

    def redact_session(self, session_id: str) -> dict[str, Any]:
        """``POST …/{id}/redact``: from ``requires_input`` (which cancels it) or ``verified``; irreversible.
        No idempotency key: the caller checks ``redaction.status`` before asking again."""
        return self.post_form(f"{SESSIONS}/{session_id}/redact", {})


def is_not_found(exc: ProviderError) -> bool:
    return isinstance(exc, PermanentProviderError) and exc.status_code == 404
