"""Allpass deliveries: the response envelope with ``data`` encrypted, and ``x-allpass-signature``.

A delivery is Allpass's only if its signature verifies (CBC: the HMAC) *and* its data decrypts (GCM: the tag is
checked by decryption). Retries can deliver an older event after a newer one and Allpass requires integrators
to ignore the older one: the envelope ``time`` becomes ``ProviderState.occurred_at``, so the transition service
drops any event older than the last one applied. Sources: ``docs/providers/allpass.md`` ("Webhooks").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from django_kyc.backends.allpass.crypto import SIGNATURE_HEADER, ApplicationKeys
from django_kyc.backends.allpass.statuses import PROGRESS_EVENTS, status_for_event, warnings_from
from django_kyc.backends.parsing import iso_datetime, text
from django_kyc.backends.values import InboundWebhook, ProviderEvent, ProviderState
from django_kyc.exceptions import WebhookAuthenticationError

logger = logging.getLogger("django_kyc.allpass")

HMAC_INPUTS = ("data", "body")
#: Where the event name may sit in a decrypted payload (Allpass does not say; ``type`` is likeliest).
EVENT_FIELDS = ("type", "event", "eventName", "eventType", "webhookType")
_HEX = re.compile(r"[0-9a-fA-F]+")


def envelope_of(body: bytes) -> tuple[dict[str, Any], str]:
    """(the envelope, its hex ``data``); anything else is not a delivery of Allpass's."""
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise WebhookAuthenticationError("delivery is not an Allpass envelope") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), str) or not envelope["data"]:
        raise WebhookAuthenticationError("delivery carries no encrypted data")
    blob = envelope["data"].strip()
    if len(blob) % 2 or not _HEX.fullmatch(blob):
        raise WebhookAuthenticationError("encrypted data is not hexadecimal")
    return envelope, blob


def open_delivery(
    webhook: InboundWebhook,
    keys: ApplicationKeys,
    *,
    verify: bool,
    hmac_input: str = "data",
    app_key: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(envelope, decrypted payload). ``verify`` checks the CBC HMAC and the ``appKey`` too (GCM always
    authenticates: decryption checks the tag). ``hmac_input`` says what the HMAC covers: the encrypted ``data``
    string or the raw ``body``."""
    envelope, blob = envelope_of(webhook.body)
    if verify or keys.mode == "gcm":
        signature = webhook.signature_header(SIGNATURE_HEADER)
    else:
        signature = webhook.header(SIGNATURE_HEADER)
    if verify and keys.mode == "cbc-hmac":
        keys.verify_hmac(webhook.body if hmac_input == "body" else blob.encode(), signature)
    try:
        payload = keys.decrypt(blob, signature)
    except ValueError as exc:
        raise WebhookAuthenticationError(f"delivery does not decrypt: {exc}") from exc
    sender = text(payload.get("appKey"))
    if verify and app_key and sender and sender != app_key:
        raise WebhookAuthenticationError("delivery belongs to another Allpass application")
    return envelope, payload


def event_name(payload: Mapping[str, Any], configured_field: str = "") -> str:
    """The event's name: ``configured_field`` (``OPTIONS["EVENT_FIELD"]``) first, then :data:`EVENT_FIELDS`."""
    for field_name in (*((configured_field,) if configured_field else ()), *EVENT_FIELDS):
        if isinstance(payload.get(field_name), str) and payload[field_name]:
            return str(payload[field_name])
    return ""


def events_from(
    envelope: Mapping[str, Any],
    payload: Mapping[str, Any],
    map_status: Callable[[str], str],
    configured_field: str = "",
) -> list[ProviderEvent]:
    """One event per delivery, id ``<applicant id>:<event>:<time>`` (a redelivery repeats all three).

    The state comes from the event itself, timed with the envelope's ``time``. ``applicantStepPassed`` and
    events without a name carry no status: the applicant is read back instead.
    """
    applicant_id = text(payload.get("id"))
    if not applicant_id:
        logger.info("allpass: delivery without an applicant id acknowledged and ignored")
        return []
    event = event_name(payload, configured_field)
    time_text = text(envelope.get("time"))
    occurred_at = iso_datetime(time_text)
    state: ProviderState | None = None
    if event and event not in PROGRESS_EVENTS:
        raw = status_for_event(event)
        reasons = warnings_from(payload.get("warnings"))
        state = ProviderState(
            status=map_status(raw),
            provider_status=raw or event,
            reasons=reasons,
            occurred_at=occurred_at,
            data={
                "allpass_event": {
                    "event": event,
                    "time": time_text,
                    "warnings": reasons,
                    "stepName": payload.get("stepName"),
                }
            },
        )
    return [
        ProviderEvent(
            event_id=f"{applicant_id}:{event or 'unnamed'}:{time_text}",
            event_type=(event or "unnamed")[:128],
            provider_ref=applicant_id,
            occurred_at=occurred_at,
            state=state,
        )
    ]
