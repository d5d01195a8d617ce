"""Stripe's webhook deliveries: the ``Stripe-Signature`` header and the ``identity.verification_session.*`` events.

The header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>…]`` (plus a ``v0=`` Stripe adds in test mode, ignored);
each ``v1`` is the hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with an endpoint secret, and a delivery is
Stripe's when any ``v1`` matches any of our secrets and ``t`` is within the tolerance of our clock
(``docs/providers/stripe_identity.md``, "Webhooks", with the worked example the tests check).

The event id (``evt_…``) lies inside the signed body, so it is the de-duplication key from the start. Stripe does
not promise the order of its events and retries them for days, so by default a delivery only says "look again":
the session is retrieved and what Stripe says now is applied (``OPTIONS["WEBHOOK_STATE"] = "fetch"``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django_kyc.backends.parsing import mapping, text, uuid_text
from django_kyc.backends.signing import hmac_hex, verify_timestamped
from django_kyc.backends.stripe_identity.state import session_state, unix_time
from django_kyc.backends.stripe_identity.statuses import EVENT_PREFIX, META_VERIFICATION
from django_kyc.backends.values import InboundWebhook, ProviderEvent

logger = logging.getLogger("django_kyc.stripe_identity")

SIGNATURE_HEADER = "Stripe-Signature"


def sign(body: bytes, secret: str | bytes, timestamp: int) -> str:
    """The ``Stripe-Signature`` value Stripe sends with ``body`` at ``timestamp`` (one ``v1``)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return f"t={timestamp},v1={hmac_hex(key, f'{timestamp}.'.encode() + body)}"


def authenticate(webhook: InboundWebhook, secrets: Sequence[bytes], tolerance: float) -> None:
    """Refuse a delivery unless a ``v1`` matches one of ``secrets`` and ``t`` is within ``tolerance``."""
    verify_timestamped(
        webhook.signature_header(SIGNATURE_HEADER), webhook.body, secrets, tolerance=tolerance, signature_key="v1"
    )


def parse(webhook: InboundWebhook, map_status: Callable[[str, str], str], *, with_state: bool) -> list[ProviderEvent]:
    """One event per ``identity.verification_session.*`` delivery about a session of ours (its
    ``client_reference_id`` or metadata names one of our verifications); any other event type (an endpoint that
    also listens to payments, say), or a session another integration of the account made, is acknowledged and
    yields nothing. ``with_state``: the session in the event
    is applied as it was at the event's ``created``; otherwise the session is fetched."""
    payload = webhook.json_object("Stripe event")
    event_type = text(payload.get("type"))
    event_id = text(payload.get("id"))
    session = mapping(mapping(payload.get("data")).get("object"))
    if not event_type.startswith(EVENT_PREFIX) or text(session.get("object")) != "identity.verification_session":
        logger.info("stripe_identity: %s event acknowledged and ignored", event_type or "untyped")
        return []
    session_id = text(session.get("id"))
    if not event_id or not session_id:
        logger.info("stripe_identity: %s event without an event or session id ignored", event_type)
        return []
    our_ref = uuid_text(session.get("client_reference_id")) or uuid_text(
        mapping(session.get("metadata")).get(META_VERIFICATION)
    )
    if not our_ref:
        # every session we create names our verification; this one belongs to another integration of the account
        logger.info("stripe_identity: %s for session %s not created by django-kyc ignored", event_type, session_id)
        return []
    occurred_at = unix_time(payload.get("created"))
    return [
        ProviderEvent(
            event_id=event_id,
            event_type=event_type[:128],
            provider_ref=session_id,
            our_ref=our_ref,
            occurred_at=occurred_at,
            state=session_state(session, map_status, occurred_at) if with_state else None,
        )
    ]
