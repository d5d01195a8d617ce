"""The one HTTP client every provider backend uses.

It owns the things that are easy to get wrong in each backend separately: a reused session, connect and
read timeouts on every call, the split between transient errors (retried) and permanent ones (not), and
logging that records method, path, status and timing but never headers, bodies or query strings, which
carry credentials and personal data.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

from django_kyc import __version__
from django_kyc.backends.ratelimit import RateLimiter
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import PermanentProviderError, ProviderError, TransientProviderError

logger = logging.getLogger("django_kyc.http")

#: Turns an error response into a short, PII-free message (each provider formats errors differently).
ErrorMessage = Callable[[requests.Response], str]
#: Where an error message may sit in an error body: a path (``"errors[*].message"``), a template over paths
#: (``"{error_name}: {error_message}"``), or a function of the parsed body for shapes no path describes.
MessageField = str | Callable[[Any], str]

#: At most this many characters of a provider's message are kept (``last_error``, logs, API answers).
MESSAGE_LIMIT = 500
#: At most this many list items (``[*]``) make up one message.
MESSAGE_ITEMS = 10
_STEP = re.compile(r"(?P<key>[^.\[\]]+)?(?:\[(?P<index>\*|\d+)\])?")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _walk(node: Any, path: str) -> list[Any]:
    """The values ``path`` reaches in ``node``: ``a.b``, ``a[0].b``, ``a[*].b`` (every item, up to
    :data:`MESSAGE_ITEMS`). Missing keys and wrong types reach nothing."""
    nodes = [node]
    for part in path.split("."):
        step = _STEP.fullmatch(part)
        if step is None or not part:
            return []
        reached: list[Any] = []
        for current in nodes:
            if step["key"] is not None:
                current = current.get(step["key"]) if isinstance(current, Mapping) else None
            if step["index"] is None:
                reached.append(current)
            elif isinstance(current, list):
                if step["index"] == "*":
                    reached.extend(current[:MESSAGE_ITEMS])
                elif int(step["index"]) < len(current):
                    reached.append(current[int(step["index"])])
        nodes = [item for item in reached if item is not None]
    return nodes


def _text(value: Any) -> str:
    """A message fragment: strings and numbers as they are, lists of them joined; never a whole object (it
    could echo what we sent, personal data included)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "; ".join(part for part in (_text(item) for item in value[:MESSAGE_ITEMS]) if part)
    return ""


def _message(payload: Any, field: MessageField) -> str:
    if callable(field):
        return str(field(payload) or "").strip()
    if "{" in field:
        prefix, _, template = field.partition("{")
        template = "{" + template
        nodes = _walk(payload, prefix.rstrip(".")) if prefix else [payload]
        rendered = []
        for node in nodes:
            parts = {name: _message(node, name) for name in _PLACEHOLDER.findall(template)}
            if parts and all(parts.values()):
                rendered.append(_render(template, parts))
        return "; ".join(rendered)
    return "; ".join(part for part in (_text(node) for node in _walk(payload, field)) if part)


def _render(template: str, parts: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)


def error_message_from(*fields: MessageField, limit: int = MESSAGE_LIMIT) -> ErrorMessage:
    """An :data:`ErrorMessage` reading the first non-empty of ``fields`` from a JSON error body.

    Each field is a path (``"message"``, ``"data.message"``, ``"errors[0].message"``, ``"errors[*].message"``
    joins every item's with ``"; "``), a template whose placeholders are paths and which counts only when
    all of them are there (``"{error_name}: {error_message}"``; after a list path it applies to each item:
    ``"errors[*].{parameter}: {message}"``), or a function of the parsed body. Only the named fields are
    read, never a whole object, so a message cannot echo back the personal data we sent. The message is cut
    to ``limit`` characters; a body that is not JSON, or names none of the fields, gives the HTTP reason.

    Examples: Provide's two shapes are ``error_message_from("errors[*].message", "message")``;
    PassportReader's ``error_message_from("{error_name}: {error_message}", "error_name", "error_message")``.
    """

    def message(response: requests.Response) -> str:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        for field in fields:
            text = _message(payload, field) if payload is not None else ""
            if text:
                return text[:limit]
        return response.reason or f"HTTP {response.status_code}"

    return message


#: Common shapes: ``{"message"}``, ``{"error"}``, ``{"detail"}`` (DRF), ``{"errors": [{"message"}]}``.
default_error_message = error_message_from("message", "error", "detail", "errors[*].message", "errors")


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


def error_for_status(
    provider: str, status_code: int, message: str, *, retry_after: float | None = None
) -> TransientProviderError | PermanentProviderError:
    """The one split between errors worth retrying (429 and 5xx) and the rest, for HTTP statuses and for a
    status a provider reports inside a 2xx body."""
    if status_code == 429 or status_code >= 500:
        return TransientProviderError(message, provider=provider, status_code=status_code, retry_after=retry_after)
    return PermanentProviderError(message, provider=provider, status_code=status_code or None)


class EnvironmentOnceSession(requests.Session):
    """A ``requests.Session`` that reads the environment's proxy and CA-bundle settings once per scheme and
    host, instead of on every request.

    With ``trust_env`` (the default, kept: a site behind an egress proxy configures it with ``HTTPS_PROXY``
    and ``NO_PROXY``) requests resolves the proxies from ``os.environ`` for each call, a scan of the whole
    environment that cost about a quarter of a millisecond of CPU per provider call, more than anything
    else of ours in the client. The answer depends only on the environment and the URL's scheme and host, so
    it is kept per session: the environment is read when a session first calls a host (a process started
    with other settings, or a new session, reads them afresh). A request's own ``proxies`` (``no_proxy``
    among them) still go through requests unchanged, and redirects are resolved by requests as before.
    """

    #: At most this many hosts' settings are kept (providers call a handful; a full cache starts over).
    HOSTS = 64

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        """requests' merge with the environment's part looked up in :meth:`_environment_for`."""
        if not self.trust_env or (proxies and "no_proxy" in proxies):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        env_proxies, env_verify = self._environment_for(str(url))
        merged = dict(proxies or {})
        for key, value in env_proxies.items():
            merged.setdefault(key, value)
        if verify is True or verify is None:
            verify = env_verify or verify
        return {
            "proxies": merge_setting(merged, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def _environment_for(self, url: str) -> tuple[dict[str, str], str | None]:
        """What requests would read from the environment for ``url``: its proxies (``NO_PROXY`` applied) and
        the CA bundle of ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._environment.get(key)
        if found is None:
            if len(self._environment) >= self.HOSTS:
                self._environment.clear()
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
            found = self._environment[key] = (get_environ_proxies(url), bundle)
        return found


class ProviderHttpClient:
    """A ``requests.Session`` bound to one provider's base URL and authentication headers, and to the
    provider's published request budgets when a ``rate_limiter`` is given (see :mod:`.ratelimit`)."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: tuple[float, float] | None = None,
        error_message: ErrorMessage = default_error_message,
        not_json: type[ProviderError] = TransientProviderError,
        wrong_type: type[ProviderError] = PermanentProviderError,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.provider = provider
        self.rate_limiter = rate_limiter
        self.not_json = not_json
        self.wrong_type = wrong_type
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.error_message = error_message
        self.session: requests.Session = EnvironmentOnceSession()
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
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(method)
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
        raise self.error_for(response)

    def error_for(self, response: requests.Response) -> ProviderError:
        """The error an answer of 400 or more raises: :func:`error_for_status` with the provider's message and
        ``Retry-After``. Override it where the provider says more about retrying than its status code does
        (Stripe's ``Stripe-Should-Retry``)."""
        return error_for_status(
            self.provider,
            response.status_code,
            self.error_message(response),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def json(self, method: str, path: str, *, expect: type | tuple[type, ...] | None = dict, **kwargs: Any) -> Any:
        """:meth:`request`, then the answer decoded by :meth:`decode`: JSON of the ``expect`` type (``dict``,
        ``list``, a tuple of types, or ``None`` for any JSON)."""
        return self.decode(self.request(method, path, **kwargs), expect)

    def decode(self, response: requests.Response, expect: type | tuple[type, ...] | None = dict) -> Any:
        """The JSON of a 2xx answer, checked against ``expect``.

        A body that is not JSON raises ``not_json`` (transient by default: a proxy's or load balancer's page
        is the usual cause, and every call that reaches here is safe to repeat); JSON of another type raises
        ``wrong_type`` (permanent by default: the provider answered, and asking again gets the same answer).
        Both say which call answered, never what it answered (it may hold personal data).

        Override it in a :class:`ProviderHttpClient` subclass when the provider wraps or encodes its answers,
        and call ``super().decode(response, None)`` for the JSON itself. For example, an envelope
        ``{"status": true, "statusCode": 200, "data": …}`` is unwrapped there, ``status: false`` raising the
        error its ``statusCode`` calls for (:func:`error_for_status`), and ``data`` decrypted when it comes as a
        string; a body flagged ``{"isEncrypted": true, "data": "<ciphertext>"}`` is decrypted before the
        ``expect`` check, and an ``errorCode`` in a 2xx body raised as the error it is.
        """
        call = f"{response.request.method} {urlsplit(response.url).path}" if response.request else "the call"
        try:
            payload = response.json()
        except ValueError as exc:
            raise self.not_json(
                f"{call} answered with something that is not JSON",
                provider=self.provider,
                status_code=response.status_code,
            ) from exc
        return self.check_type(payload, expect, call)

    def check_type(self, payload: Any, expect: type | tuple[type, ...] | None, call: str = "the call") -> Any:
        """``payload`` if it is of the ``expect`` type (any when ``None``), else ``wrong_type``."""
        if expect is not None and not isinstance(payload, expect):
            names = " or ".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
            shape = {"dict": "a JSON object", "list": "a JSON array"}.get(names, names)
            raise self.wrong_type(f"{call} answered without {shape}", provider=self.provider)
        return payload

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
