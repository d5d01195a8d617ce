"""Sumsub's API over the shared HTTP client: app-token request signing, error messages, one method per endpoint.

Every request carries ``X-App-Token``, ``X-App-Access-Ts`` (Unix seconds) and ``X-App-Access-Sig``: the lowercase
hex HMAC-SHA256, keyed by the secret key, of ``ts + METHOD + path?query + body``. The signature covers the
bytes as sent, so bodies are encoded here (JSON, and multipart for documents) and the path is signed exactly as
it goes on the wire, by :class:`SumsubAuth` as each request leaves. ``docs/providers/sumsub.md``
("Authentication") has the recipe and its worked examples.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import requests
import requests.auth
from urllib3 import encode_multipart_formdata

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.backends.signing import hmac_hex
from django_kyc.exceptions import PermanentProviderError

PROVIDER = "sumsub"
DEFAULT_BASE_URL = "https://api.sumsub.com"
TOKEN_HEADER = "X-App-Token"  # noqa: S105 - a header name
TIMESTAMP_HEADER = "X-App-Access-Ts"
SIGNATURE_HEADER = "X-App-Access-Sig"
#: The answer header of "add ID document" naming the image it stored.
IMAGE_ID_HEADER = "X-Image-Id"

#: Sumsub's error body is ``{"description", "code", "correlationId"}``.
sumsub_error_message = error_message_from("description", "message", "error")


def sign_request(secret: str | bytes, timestamp: int | str, method: str, target: str, body: bytes = b"") -> str:
    """``X-App-Access-Sig`` for a request: ``target`` is the path with its query, as sent (``/resources/…?…``)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac_hex(key, f"{timestamp}{method.upper()}{target}".encode() + body, "sha256")


def is_not_found(exc: PermanentProviderError) -> bool:
    return exc.status_code == 404


class SumsubAuth(requests.auth.AuthBase):
    """Signs each request as it leaves: the prepared request's target (``path_url``, query included) and body are
    exactly the bytes on the wire, and the timestamp is taken then, after any wait for a rate-limit budget."""

    def __init__(self, app_token: str, secret_key: str, clock: Callable[[], float] = time.time) -> None:
        self.app_token = app_token
        self.secret_key = secret_key
        self.clock = clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        timestamp = int(self.clock())
        method = str(request.method or "GET")
        request.headers[TOKEN_HEADER] = self.app_token
        request.headers[TIMESTAMP_HEADER] = str(timestamp)
        request.headers[SIGNATURE_HEADER] = sign_request(self.secret_key, timestamp, method, request.path_url, raw)
        return request


class SumsubClient(ProviderHttpClient):
    """One method per Sumsub endpoint the backend uses; every call signed with the app token's secret key."""

    def __init__(
        self, *, app_token: str, secret_key: str, clock: Callable[[], float] = time.time, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.auth = SumsubAuth(app_token, secret_key, clock)
        self.session.auth = self.auth

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Any = None,
        fields: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """A signed request (see :class:`SumsubAuth`). ``json_body`` is sent as compact JSON, ``fields`` as
        multipart/form-data (a value is a string or a ``(filename, bytes, content type)`` tuple); both are encoded
        here, so the body is bytes that nothing re-encodes between signing and sending."""
        body = b""
        all_headers = {"Accept": "application/json", **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        elif fields is not None:
            body, all_headers["Content-Type"] = encode_multipart_formdata(dict(fields))
        url = self.base_url + path + (f"?{urlencode(query, quote_via=quote)}" if query else "")
        return self.request(method, url, data=body or None, headers=all_headers)

    def call_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return dict(self.decode(self.call(method, path, **kwargs), dict))

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, level_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /resources/applicants?levelName=…``; the level name is case-sensitive and URL-encoded."""
        return self.call_json("POST", "/resources/applicants", query={"levelName": level_name}, json_body=dict(fields))

    def get_applicant(self, applicant_id: str) -> dict[str, Any]:
        return self.call_json("GET", f"/resources/applicants/{quote(applicant_id, safe='')}/one")

    def find_applicant(self, external_user_id: str) -> dict[str, Any] | None:
        """The applicant created with our ``externalUserId``, or ``None`` when Sumsub has none (404)."""
        try:
            return self.call_json(
                "GET", f"/resources/applicants/-;externalUserId={quote(external_user_id, safe='')}/one"
            )
        except PermanentProviderError as exc:
            if is_not_found(exc):
                return None
            raise

    def review_status(self, applicant_id: str) -> dict[str, Any]:
        """``GET …/status``: ``reviewStatus``, ``reviewResult`` and the attempt's dates."""
        return self.call_json("GET", f"/resources/applicants/{quote(applicant_id, safe='')}/status")

    def required_id_docs_status(self, applicant_id: str) -> dict[str, Any]:
        """``GET …/requiredIdDocsStatus``: each verification step with its review and image ids."""
        return self.call_json("GET", f"/resources/applicants/{quote(applicant_id, safe='')}/requiredIdDocsStatus")

    def add_id_doc(
        self, applicant_id: str, metadata: Mapping[str, Any], content: tuple[str, bytes, str] | None
    ) -> tuple[dict[str, Any], str]:
        """``POST …/info/idDoc`` (multipart: the ``metadata`` JSON part and the optional ``content`` file);
        (the document JSON, the ``X-Image-Id`` of the stored image)."""
        fields: dict[str, Any] = {"metadata": json.dumps(dict(metadata), separators=(",", ":"))}
        if content is not None:
            fields["content"] = content
        response = self.call("POST", f"/resources/applicants/{quote(applicant_id, safe='')}/info/idDoc", fields=fields)
        return dict(self.decode(response, dict)), response.headers.get(IMAGE_ID_HEADER, "")

    def request_check(self, applicant_id: str, reason: str = "") -> None:
        """``POST …/status/pending``: the documents are all there, Sumsub may start checking."""
        query = {"reason": reason} if reason else None
        self.call("POST", f"/resources/applicants/{quote(applicant_id, safe='')}/status/pending", query=query)

    def sdk_token(self, user_id: str, level_name: str, ttl: int) -> dict[str, Any]:
        """``POST /resources/accessTokens/sdk``: a WebSDK access token for one applicant and level."""
        body = {"userId": user_id, "levelName": level_name, "ttlInSecs": ttl}
        return self.call_json("POST", "/resources/accessTokens/sdk", json_body=body)

    # --- reviewer decisions and presence --------------------------------------------------------------
    def approve(self, applicant_id: str, note: str = "") -> dict[str, Any]:
        return self.call_json(
            "POST", f"/resources/applicants/{quote(applicant_id, safe='')}/-/approve", json_body={"note": note}
        )

    def reject(self, applicant_id: str, note: str = "") -> dict[str, Any]:
        """Sumsub records our rejection as ``FINAL`` with the label ``EXTERNAL_DECISION_REJECTION``."""
        return self.call_json(
            "POST", f"/resources/applicants/{quote(applicant_id, safe='')}/-/reject", json_body={"note": note}
        )

    def set_presence(self, applicant_id: str, active: bool) -> dict[str, Any]:
        """``PATCH …/presence/deactivated`` (or ``activated``). Deactivating hides the applicant (``deleted:
        true``) and leaves it out of duplicate checks; it erases nothing."""
        state = "activated" if active else "deactivated"
        return self.call_json("PATCH", f"/resources/applicants/{quote(applicant_id, safe='')}/presence/{state}")
