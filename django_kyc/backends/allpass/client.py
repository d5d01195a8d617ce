"""Allpass's Open API over the shared HTTP client: the ``x-private-app-key`` header, the response envelope, and
one wrapper per endpoint (paths and fields as in ``docs/providers/allpass.md``, "Operations").

Every answer is ``{"status", "statusCode", "data", "time"}``. :meth:`AllpassClient.decode` is the one place
that reads it: ``status: false`` raises the error its ``statusCode`` calls for even under HTTP 200, a body that
is not an envelope is transient (a proxy's page, most likely; every call here is safe to repeat), and ``data``
that comes as a string is decrypted with the application's keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from django_kyc.backends.allpass.crypto import SIGNATURE_HEADER, ApplicationKeys
from django_kyc.backends.http import ProviderHttpClient, error_for_status, error_message_from
from django_kyc.backends.parsing import iso_datetime
from django_kyc.exceptions import PermanentProviderError, TransientProviderError

PROVIDER = "allpass"
AUTH_HEADER = "x-private-app-key"
#: Allpass documents no error catalogue, so "there is no such applicant" may come as 404 or as a 400 / 422
#: whose message says so; these are the phrasings taken for it (anything else is a real error).
NOT_FOUND_MESSAGE = re.compile(
    r"not\s+(?:been\s+)?found|does\s*(?:not|n't)\s+exists?|not\s+exists?|no\s+(?:such\s+)?applicant",
    re.IGNORECASE,
)


def _sentence_in_data(payload: Any) -> str:
    """``data`` when it is a plain sentence; never an encrypted blob (those have no spaces)."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    return data.strip() if isinstance(data, str) and " " in data.strip() else ""


#: Where an error envelope's message sits. Allpass publishes no error catalogue; these are the fields a NestJS
#: API (which the envelope and the validation messages suggest) fills: ``message`` (a string or a list of
#: validation messages), ``error``, or the same inside ``data``.
MESSAGE_FIELDS = ("message", "data.message", "error", "data.error", _sentence_in_data)
#: The HTTP client's error hook: the envelope's message, else the HTTP reason.
allpass_error_message = error_message_from(*MESSAGE_FIELDS)


def is_not_found(error: PermanentProviderError) -> bool:
    """Whether Allpass answered "no such applicant": HTTP 404, or 400 / 422 with a message saying so."""
    if error.status_code == 404:
        return True
    return error.status_code in (400, 422) and bool(NOT_FOUND_MESSAGE.search(error.message))


def path(*parts: str) -> str:
    """An Open API path; each part quoted, since our references and Allpass's ids go into it."""
    return "/api/public/" + "/".join(quote(str(part), safe="") for part in parts)


class AllpassClient(ProviderHttpClient):
    """The shared client, unwrapping Allpass's envelope in :meth:`decode`."""

    def __init__(self, *, keys: ApplicationKeys, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys = keys

    # --- the envelope (the one place) ----------------------------------------------------------------
    def decode(self, response: requests.Response, expect: type | tuple[type, ...] | None = dict) -> Any:
        """``data`` of a 2xx envelope, decrypted if Allpass encrypted it, checked against ``expect``."""
        payload = super().decode(response, None)
        if not isinstance(payload, dict) or "status" not in payload or "data" not in payload:
            raise TransientProviderError("Allpass answered without its response envelope", provider=self.provider)
        code = payload.get("statusCode")
        status_code = code if isinstance(code, int) and not isinstance(code, bool) else response.status_code
        if payload.get("status") is not True or status_code >= 400:
            fallback = f"request failed (statusCode {status_code})"
            message = error_message_from(*MESSAGE_FIELDS, lambda _payload: fallback)(response)
            raise error_for_status(self.provider, status_code if status_code >= 400 else 400, message)
        data = payload["data"]
        if isinstance(data, str):
            data = self._decrypt(data, response.headers.get(SIGNATURE_HEADER, ""))
        return self.check_type(data, expect, _call(response))

    def _decrypt(self, blob: str, signature: str) -> Any:
        """Allpass says Open API data may come encrypted with the application keys, like webhooks."""
        if not self.keys.crypto_keys:
            raise PermanentProviderError(
                "Allpass sent encrypted data but no CRYPTO_KEY is configured", provider=self.provider
            )
        try:
            return self.keys.decrypt(blob, signature)
        except ValueError as exc:
            raise PermanentProviderError(f"cannot decrypt Allpass data: {exc}", provider=self.provider) from exc

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, external_user_id: str, flow_name: str, **optional: Any) -> dict[str, Any]:
        """``POST /applicant``; ``optional`` are ``phone``, ``email``, ``lang``, ``suppliedInfo`` (empty ones
        are not sent)."""
        body: dict[str, Any] = {"externalUserId": external_user_id, "flowName": flow_name}
        body.update({key: value for key, value in optional.items() if value})
        return self.json("POST", path("applicant"), json=body)

    def get_applicant(self, applicant_id: str) -> dict[str, Any]:
        """``GET /applicant/{id}``: ``id`` is Allpass's id *or* our reference (``externalUserId``)."""
        return self.json("GET", path("applicant", applicant_id))

    def find_applicant(self, external_user_id: str) -> dict[str, Any] | None:
        """The applicant created for our reference, or ``None`` if there is none yet (:func:`is_not_found`)."""
        try:
            return self.get_applicant(external_user_id)
        except PermanentProviderError as exc:
            if is_not_found(exc):
                return None
            raise

    def applicant_status(self, applicant_id: str) -> dict[str, Any]:
        """``GET /applicant/{id}/status`` → ``{id, status}``."""
        return self.json("GET", path("applicant", applicant_id, "status"))

    def move_to_flow(self, applicant_id: str, flow_id: str) -> dict[str, Any]:
        """``POST /applicant/{id}/moveToFlow`` ``{flowId}`` → ``{id, status}``: send the person through another
        flow (or the same one again)."""
        return self.json("POST", path("applicant", applicant_id, "moveToFlow"), json={"flowId": str(flow_id)})

    def schedule_deletion(self, applicant_id: str) -> datetime | None:
        """``POST /applicant/{id}/schedule-deletion``: Allpass deletes softly; returns the
        ``scheduledDeletionDate``."""
        data = self.json("POST", path("applicant", applicant_id, "schedule-deletion"))
        return iso_datetime(data.get("scheduledDeletionDate"))

    def restore(self, applicant_id: str) -> None:
        """``POST /applicant/{id}/restore``: undo a scheduled deletion (before its date)."""
        self.json("POST", path("applicant", applicant_id, "restore"))

    def token(self, applicant_id: str, *, ttl: int, flow_name: str, locale: str = "") -> dict[str, Any]:
        """``POST /applicant/{id}/token`` ``{locale, ttl, flowName}`` → ``{transactionId, accessToken, link, …}``."""
        body: dict[str, Any] = {"ttl": ttl, "flowName": flow_name}
        if locale:
            body["locale"] = locale
        return self.json("POST", path("applicant", applicant_id, "token"), json=body)

    def questionnaire(self, questionnaire_id: str) -> dict[str, Any]:
        """``GET /questionnaire/{id}``: a questionnaire step's schema (``name``, ``content``, ``version`` …), to
        render or interpret its answers."""
        return self.json("GET", path("questionnaire", questionnaire_id))

    # --- crypto AML ----------------------------------------------------------------------------------
    def aml_search(self, body: Mapping[str, str]) -> dict[str, Any]:
        """``POST /crypto-aml/search`` ``{blockchain, address | txHash}`` → ``{id, type}``."""
        return self.json("POST", path("crypto-aml", "search"), json=dict(body))

    def aml_details(self, aml_id: str, kind: str) -> dict[str, Any]:
        """``GET /crypto-aml/{id}/details?type=WALLET|TRANSACTION``: the score, entities and flows of funds."""
        return self.json("GET", path("crypto-aml", aml_id, "details"), params={"type": kind})


def _call(response: requests.Response) -> str:
    """Which call answered, for error messages (never what it answered)."""
    if response.request is None or response.url is None:
        return "the call"
    return f"{response.request.method} {urlsplit(response.url).path}"
