"""Persona's webhook deliveries: the ``Persona-Signature`` header and the ``inquiry.*`` events.

The header is ``t=<unix seconds>,v1=<hex>``; while a webhook secret is being rotated Persona sends one such
group per secret, separated by a space. Each ``v1`` is the hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with a
webhook secret, and a delivery is Persona's when any ``v1`` of any group matches any of our secrets and that
group's ``t`` is within the tolerance of our clock (``docs/providers/persona.md``, "Webhooks", with the worked
example the tests check).

The event id (``evt_…``, ``data.id``) lies inside the signed body, so it is the de-duplication key from the
start. Persona does not promise the order of its events and may send one more than once, so a delivery only
says "look again": the inquiry is fetched and what Persona says now is applied, timed with the event's
``created-at``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.persona.statuses import EVENT_PREFIX
from django_kyc.backends.signing import hmac_hex, verify_timestamped
from django_kyc.backends.values import InboundWebhook, ProviderEvent

logger = logging.getLogger("django_kyc.persona")

SIGNATURE_HEADER = "Persona-Signature"
#: What Persona says about the delivery itself, kept with it for reviewers (how often it was tried, how many
#: tries are left, when the first was): not signed, not needed to apply it.
DELIVERY_HEADERS = (
    "Persona-Webhook-Attempts-Made",
    "Persona-Webhook-Attempts-Left",
    "Persona-Webhook-First-Attempted-At",
)
#: The ``reference-id`` we give every inquiry: an applicant's opaque reference (``Applicant.reference``).
OUR_REFERENCE = re.compile(r"kyc_[0-9a-f]{20}")


def sign(body: bytes, secrets: str | bytes | Sequence[str | bytes], timestamp: int) -> str:
    """The ``Persona-Signature`` value Persona sends with ``body`` at ``timestamp``: one ``t=…,v1=…`` group per
    secret, separated by a space (two while a secret is rotated)."""
    items = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
    groups = []
    for secret in items:
        key = secret.encode() if isinstance(secret, str) else secret
        groups.append(f"t={timestamp},v1={hmac_hex(key, f'{timestamp}.'.encode() + body)}")
    return " ".join(groups)


def authenticate(webhook: InboundWebhook, secrets: Sequence[bytes], tolerance: float) -> None:
    """Refuse a delivery unless a ``v1`` of a group matches one of ``secrets`` and its ``t`` is within
    ``tolerance``."""
    verify_timestamped(
        webhook.signature_header(SIGNATURE_HEADER),
        webhook.body,
        secrets,
        tolerance=tolerance,
        signature_key="v1",
        group_separator=" ",
    )


def parse(webhook: InboundWebhook) -> list[ProviderEvent]:
    """One event per ``inquiry.*`` delivery about an inquiry of ours (its ``reference-id`` is one of our
    applicant references); any other event (``verification.*``, ``report.*``, an endpoint shared with another
    integration) is acknowledged and yields nothing. The inquiry is fetched when the event is applied."""
    payload = webhook.json_object("Persona event")
    event = mapping(payload.get("data"))
    attributes = mapping(event.get("attributes"))
    name = text(attributes.get("name"))
    inquiry = mapping(mapping(attributes.get("payload")).get("data"))
    event_id = text(event.get("id"))
    about_inquiry = name.startswith(EVENT_PREFIX) and text(inquiry.get("type")) == "inquiry"
    if text(event.get("type")) != "event" or not about_inquiry:
        logger.info("persona: %s event acknowledged and ignored", name or "unnamed")
        return []
    inquiry_id = text(inquiry.get("id"))
    if not event_id or not inquiry_id:
        logger.info("persona: %s event without an event or inquiry id ignored", name)
        return []
    reference = text(mapping(inquiry.get("attributes")).get("reference-id"))
    if not OUR_REFERENCE.fullmatch(reference):
        # every inquiry we create carries an applicant reference; this one belongs to another integration
        logger.info("persona: %s for inquiry %s not created by django-kyc ignored", name, inquiry_id)
        return []
    return [
        ProviderEvent(
            event_id=event_id,
            event_type=name[:128],
            provider_ref=inquiry_id,
            occurred_at=iso_datetime(attributes.get("created-at")),
        )
    ]
