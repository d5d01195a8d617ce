"""Onfido's webhooks: the signature, and which object a delivery is about.

Onfido signs the raw body with HMAC-SHA256 under the webhook's ``token`` (the secret ``POST /webhooks``
answers with) and sends the lowercase hex digest in ``X-SHA2-Signature``. Nothing else is signed and there is no
timestamp, so a replay is stopped by the de-duplication key alone, made of signed fields.

Deliveries are thin (``{"payload": {"resource_type", "action", "object": {"id", "status", ...}}}``): every
event is fetch-on-notify, the current run or check is read from Onfido before anything is applied.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.signing import hmac_hex, verify_hmac
from django_kyc.backends.values import InboundWebhook, ProviderEvent
from django_kyc.exceptions import WebhookPayloadError

logger = logging.getLogger("django_kyc.onfido")

SIGNATURE_HEADER = "X-SHA2-Signature"
#: What decides a verification in each mode: Studio runs (and their tasks), or classic checks. A Studio
#: workflow runs checks of its own, whose events no verification of ours names: in workflow mode they are
#: dropped like every other resource, and in the classic modes runs are.
DECIDING = {"workflow": frozenset({"workflow_run", "workflow_task"}), "classic": frozenset({"check"})}


def sign(body: bytes, token: str | bytes) -> str:
    """The ``X-SHA2-Signature`` Onfido sends with ``body``."""
    return hmac_hex(token.encode() if isinstance(token, str) else token, body, "sha256")


def authenticate(webhook: InboundWebhook, tokens: Sequence[bytes], header: str = SIGNATURE_HEADER) -> None:
    """Refuse a delivery not signed with one of ``tokens`` (each compared in constant time)."""
    verify_hmac(secrets=tokens, message=webhook.body, signature=webhook.signature_header(header))


def parse(webhook: InboundWebhook, deciding: frozenset[str] = DECIDING["workflow"]) -> list[ProviderEvent]:
    """One fetch-on-notify event for a run or a run's task, or for a check (``deciding`` says which); nothing
    for the rest.

    A task's run is named in ``resource.workflow_run_id`` (and ``object.workflow_run_id``). Reports belong to a
    check whose own events follow (``check.completed`` once every report is done), and the other resource
    types (audit logs, monitors, evidence files) change no verification: they are acknowledged and dropped.
    Onfido's schema lists ``resource_id`` and ``event`` as required but describes ``action`` and ``object``;
    only the described fields are read.
    """
    payload = mapping(webhook.json_object("Onfido webhook").get("payload"))
    if not payload:
        raise WebhookPayloadError("Onfido webhook has no payload object")
    resource_type = text(payload.get("resource_type"))
    action = text(payload.get("action"))
    thing = mapping(payload.get("object"))
    object_id = text(thing.get("id"))
    if resource_type not in deciding:
        logger.info("onfido: %s webhook acknowledged and ignored", action or resource_type or "untyped")
        return []
    if resource_type == "workflow_task":
        ref = text(mapping(payload.get("resource")).get("workflow_run_id") or thing.get("workflow_run_id"))
    else:
        ref = object_id
    if not ref:
        raise WebhookPayloadError(f"Onfido {action or resource_type} webhook names no object id")
    when = text(thing.get("completed_at_iso8601") or thing.get("started_at_iso8601"))
    # every part is signed; a redelivery of the same event carries the same values
    event_id = ":".join((action or resource_type, object_id, text(thing.get("status")), when))
    return [
        ProviderEvent(
            event_id=event_id,
            event_type=action or resource_type,
            provider_ref=ref,
            occurred_at=iso_datetime(when),
            state=None,
        )
    ]
