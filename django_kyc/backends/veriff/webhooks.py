"""Veriff's webhooks: the ``X-HMAC-SIGNATURE`` signature, an optional source-address allow-list, and what a
delivery asks us to do.

Veriff signs the raw body with HMAC-SHA256 under the integration's shared secret and sends the lowercase hex
digest in ``X-HMAC-SIGNATURE``, with the integration's API key in ``X-AUTH-CLIENT``. Nothing else is signed and
there is no timestamp, so a replay is stopped by the de-duplication key alone, made of signed fields.

Two kinds of delivery change a verification. A decision webhook (``{"status", "verification": {"id", "status",
…}}``) is fetch-on-notify: the session's current decision is read from ``GET /v1/sessions/{id}/decision``
before anything is applied, so an older decision delivered late can never win. An event webhook (``{"id",
"attemptId", "action", "code", …}``) carries progress the decision endpoint does not know, and is applied as
signed. Everything else (watchlist screening, user-defined statuses) is acknowledged and dropped
(``docs/providers/veriff.md``, "Webhooks").
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence

from django_kyc.backends.parsing import text
from django_kyc.backends.signing import check_source_ip, source_ip, verify_hmac
from django_kyc.backends.values import InboundWebhook, ProviderEvent
from django_kyc.backends.veriff.client import AUTH_HEADER, SIGNATURE_HEADER
from django_kyc.backends.veriff.client import sign as sign
from django_kyc.backends.veriff.state import event_state
from django_kyc.exceptions import WebhookAuthenticationError, WebhookPayloadError

logger = logging.getLogger("django_kyc.veriff")

#: Veriff's published egress addresses (US and EU), for ``ALLOWED_IPS``.
VERIFF_IPS = (
    "100.20.120.34",
    "52.25.243.218",
    "54.148.105.103",
    "54.218.205.80",
    "34.254.42.181",
    "34.242.213.89",
    "52.19.226.239",
    "18.98.6.64/27",
    "3.42.137.128/27",
    "3.42.136.96/27",
    "3.251.215.160/27",
)
#: The event webhook's actions.
ACTIONS = frozenset({"started", "submitted"})


def authenticate(
    webhook: InboundWebhook,
    secrets: Sequence[bytes],
    *,
    api_key: str,
    allowed_ips: Sequence[str] = (),
    trusted_proxies: int = 0,
) -> None:
    """Refuse a delivery from outside ``allowed_ips`` (when set), naming another integration's API key, or not
    signed with one of ``secrets``."""
    if allowed_ips:
        check_source_ip(source_ip(webhook.remote_addr, webhook.header("X-Forwarded-For"), trusted_proxies), allowed_ips)
    signature = webhook.signature_header(SIGNATURE_HEADER)
    client = webhook.header(AUTH_HEADER)
    if client and not hmac.compare_digest(client.encode(), api_key.encode()):
        raise WebhookAuthenticationError(f"{AUTH_HEADER} names another integration")
    verify_hmac(secrets=secrets, message=webhook.body, signature=signature)


def parse(webhook: InboundWebhook, map_status: Callable[..., str]) -> list[ProviderEvent]:
    """One event for a decision or a progress event about a session; nothing for the other webhook kinds."""
    payload = webhook.json_object("Veriff webhook")
    decision = payload.get("verification")
    if isinstance(decision, dict) and "status" in decision:
        session_id = text(decision.get("id"))
        if not session_id:
            raise WebhookPayloadError("Veriff decision webhook names no session id")
        status = text(decision.get("status"))
        # every part is signed; a resend of the same decision carries the same values
        parts = ("decision", session_id, text(decision.get("attemptId")), status, text(decision.get("decisionTime")))
        return [
            ProviderEvent(
                event_id=_event_id(parts, webhook.body),
                event_type=f"decision:{status or 'unknown'}"[:128],
                provider_ref=session_id,
                state=None,  # fetched before it is applied: see the module docstring
            )
        ]
    action = text(payload.get("action"))
    if action in ACTIONS and payload.get("id"):
        session_id = text(payload.get("id"))
        return [
            ProviderEvent(
                event_id=_event_id(("event", session_id, text(payload.get("attemptId")), action), webhook.body),
                event_type=f"event:{action}",
                provider_ref=session_id,
                state=event_state(payload, map_status),
            )
        ]
    kind = text(payload.get("eventType") or payload.get("checkType") or action) or "untyped"
    logger.info("veriff: %s webhook acknowledged and ignored", kind[:64])
    return []


def _event_id(parts: tuple[str, ...], body: bytes) -> str:
    """The parts joined; the body's hash when one that identifies the delivery is missing."""
    if all(parts[:3]):
        return ":".join(parts)[:255]
    return "sha256:" + hashlib.sha256(body).hexdigest()
