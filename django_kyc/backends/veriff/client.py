"""Veriff's Public API v1 over the shared HTTP client: the two auth headers, the error body and one method per
endpoint the backend uses.

Every call carries ``X-AUTH-CLIENT`` (the integration's API key). Every call but ``POST /v1/sessions`` also
carries ``X-HMAC-SIGNATURE``: the lowercase hex HMAC-SHA256, keyed by the integration's shared secret, of the
request body for ``POST`` / ``PATCH`` and of the session id for ``GET`` / ``DELETE``. Bodies are encoded here,
so the bytes signed are the bytes sent (``docs/providers/veriff.md``, "Authentication").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.backends.signing import hmac_hex
from django_kyc.exceptions import PermanentProviderError

PROVIDER = "veriff"
#: The host most integrations show; the Customer Portal shows each integration's own ("Base URL").
DEFAULT_BASE_URL = "https://stationapi.veriff.com"
AUTH_HEADER = "X-AUTH-CLIENT"
SIGNATURE_HEADER = "X-HMAC-SIGNATURE"

#: Veriff's error body is ``{"status": "fail", "code": "1102", "message": "…"}``.
veriff_error_message = error_message_from("message", "error", "code")


def sign(secret: str | bytes, material: str | bytes) -> str:
    """``X-HMAC-SIGNATURE`` of ``material`` (a request body, a session id or a webhook body)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac_hex(key, material.encode() if isinstance(material, str) else material, "sha256")


def encode(body: Mapping[str, Any]) -> bytes:
    """Compact JSON: what is signed is exactly what is sent."""
    return json.dumps(dict(body), separators=(",", ":")).encode()


class VeriffClient(ProviderHttpClient):
    """One method per Veriff endpoint the backend uses; session ids in, JSON out."""

    def __init__(self, *, api_key: str, shared_secret: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session.headers[AUTH_HEADER] = api_key
        self.shared_secret = shared_secret

    def call(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None, signed: str | bytes | None = None
    ) -> requests.Response:
        """A request with a JSON ``body`` (signed when ``signed`` is ``None``) or none (``signed`` names what is
        signed: the session id); ``signed=b""`` sends no signature (creating a session needs none)."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = encode(body)
            headers["Content-Type"] = "application/json"
        material = data if signed is None else signed
        if material:
            headers[SIGNATURE_HEADER] = sign(self.shared_secret, material)
        return self.request(method, self.base_url + path, data=data, headers=headers)

    def call_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return dict(self.decode(self.call(method, path, **kwargs), dict))

    @staticmethod
    def path(session_id: str, tail: str = "") -> str:
        return f"/v1/sessions/{quote(session_id, safe='')}{tail}"

    # --- sessions ------------------------------------------------------------------------------------
    def create_session(self, verification: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/sessions``: ``verification.id`` and ``.url`` come back."""
        return self.call_json("POST", "/v1/sessions", body={"verification": dict(verification)}, signed=b"")

    def upload_media(self, session_id: str, image: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/sessions/{id}/media``: one base64 image (``{"image": {"context", "content"}}``)."""
        return self.call_json("POST", self.path(session_id, "/media"), body={"image": dict(image)})

    def submit(self, session_id: str) -> dict[str, Any]:
        """``PATCH /v1/sessions/{id}`` with ``{"verification": {"status": "submitted"}}``: the only update Veriff
        takes, once, while the session is ``created`` or ``started``."""
        return self.call_json("PATCH", self.path(session_id), body={"verification": {"status": "submitted"}})

    def decision(self, session_id: str) -> dict[str, Any]:
        """``GET /v1/sessions/{id}/decision``: ``verification`` is null until Veriff has decided."""
        return self.call_json("GET", self.path(session_id, "/decision"), signed=session_id)

    def delete_session(self, session_id: str) -> None:
        """``DELETE /v1/sessions/{id}`` (enabled per integration by Veriff; 10 per 24 h, 5 per hour)."""
        self.call("DELETE", self.path(session_id), signed=session_id)


def created_id(payload: Mapping[str, Any], provider: str = PROVIDER) -> tuple[str, str]:
    """(session id, session url) of a ``POST /v1/sessions`` answer."""
    verification = payload.get("verification")
    session = verification if isinstance(verification, Mapping) else {}
    session_id = str(session.get("id") or "")
    if not session_id:
        raise PermanentProviderError("Veriff answered the session call without a session id", provider=provider)
    return session_id, str(session.get("url") or "")
