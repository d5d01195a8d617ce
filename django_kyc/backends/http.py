"""The one HTTP client every provider backend uses.

It owns the things that are easy to get wrong in each backend separately: a reused session, connect and
read timeouts on every call, the split between transient errors (retried) and permanent ones (not), and
logging that records method, path, status and timing but never headers, bodies or query strings, which
carry credentials and personal data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from django_kyc import __version__
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import PermanentProviderError, TransientProviderError

logger = logging.getLogger("django_kyc.http")

#: Turns an error response into a short, PII-free message (each provider formats errors differently).
ErrorMessage = Callable[[requests.Response], str]


def default_error_message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.reason or "error"
    if isinstance(payload, Mapping):
        for key in ("message", "error", "detail", "errors"):
            if payload.get(key):
                return str(payload[key])[:500]
    return response.reason or "error"


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ProviderHttpClient:
    """A ``requests.Session`` bound to one provider's base URL and authentication headers."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: tuple[float, float] | None = None,
        error_message: ErrorMessage = default_error_message,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.error_message = error_message
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"django-kyc/{__version__}"
        self.session.headers.update(headers or {})
        if auth:
            self.session.auth = auth

    def _timeout(self) -> tuple[float, float]:
        if self.timeout:
            return self.timeout
        return (float(kyc_settings.HTTP_CONNECT_TIMEOUT), float(kyc_settings.HTTP_READ_TIMEOUT))

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request; return the response on 2xx, raise a transient or permanent error otherwise."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        log_path = urlsplit(url).path
        kwargs.setdefault("timeout", self._timeout())
        started = time.monotonic()
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            logger.warning("%s %s %s timed out", self.provider, method, log_path)
            raise TransientProviderError("request timed out", provider=self.provider) from exc
        except requests.ConnectionError as exc:
            logger.warning("%s %s %s connection failed", self.provider, method, log_path)
            raise TransientProviderError("connection failed", provider=self.provider) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s %s -> %s in %.0f ms", self.provider, method, log_path, response.status_code, elapsed_ms)
        if response.status_code < 400:
            return response
        message = self.error_message(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientProviderError(
                message,
                provider=self.provider,
                status_code=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise PermanentProviderError(message, provider=self.provider, status_code=response.status_code)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()
