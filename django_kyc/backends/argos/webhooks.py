"""ARGOS's webhooks: unsigned deliveries believed only as "go and look" signals (``docs/providers/argos.md``,
"Webhooks").

ARGOS signs nothing. Authenticity rests on (1) the source address: ARGOS sends from a fixed egress IP per
project, checked against ``ALLOWED_IPS`` on ``REMOTE_ADDR`` (``X-Forwarded-For`` only when the site opts in with
``TRUST_FORWARDED_FOR``), (2) optionally, the body being AES-256-ECB ciphertext under a key only ARGOS and we
hold, and (3) fetch-on-notify: every state is read back over the authenticated API before anything is applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django_kyc.backends.argos.crypto import open_json
from django_kyc.backends.argos.statuses import DECISION_MAP, event_type, parse_timestamp
from django_kyc.backends.parsing import iso_datetime, mapping, uuid_text
from django_kyc.backends.signing import check_source_ip, source_ip
from django_kyc.backends.values import InboundWebhook, ProviderEvent, ProviderState
from django_kyc.exceptions import WebhookAuthenticationError, WebhookPayloadError

logger = logging.getLogger("django_kyc.argos")


def read_delivery(webhook: InboundWebhook, key: bytes | None) -> dict[str, Any]:
    """The delivery as a JSON object, decrypted with ``key`` when encryption is on (``None``: off). With
    encryption a plain body is refused, and so is one that does not decrypt with our key."""
    payload = webhook.json_object()
    if key is not None:
        if not isinstance(payload.get("data"), str) or "webhook_trigger" in payload:
            raise WebhookAuthenticationError("ENCRYPTION is on but the webhook body is not encrypted")
        try:
            payload = open_json(key, payload["data"])
        except ValueError as exc:
            raise WebhookAuthenticationError("webhook body does not decrypt with our key") from exc
        if not isinstance(payload, dict):
            raise WebhookAuthenticationError("decrypted webhook body is not a JSON object")
    if not isinstance(payload.get("webhook_trigger"), str) or not payload["webhook_trigger"]:
        raise WebhookPayloadError("webhook has no webhook_trigger")
    return payload


def authenticate(
    webhook: InboundWebhook, *, alias: str, allowed_ips: Sequence[str], trusted_proxies: int, key: bytes | None
) -> None:
    """Source address first (the only real control), then the body (decryption when configured), then the
    ``userid``: when it is one of our ids it must name a verification of this alias."""
    address = source_ip(webhook.remote_addr, webhook.header("X-Forwarded-For"), trusted_proxies)
    check_source_ip(address, allowed_ips)
    our_ref = uuid_text(read_delivery(webhook, key).get("userid"))
    if our_ref:
        from django_kyc.models import Verification

        if not Verification.objects.filter(pk=our_ref, backend=alias).exists():
            # our links carry our verification ids: one we never issued is not a delivery for us
            raise WebhookAuthenticationError("webhook names no verification of this backend")


def parse(payload: Mapping[str, Any]) -> list[ProviderEvent]:
    """One event per (submission, trigger, update time). ``state`` is always ``None``: the processing task
    fetches the submissions before anything is applied. A delivery for a submission made outside our links (no
    ``userid`` of ours) yields nothing: answered 200, stored nowhere.

    Nothing in the delivery is signed, so the event id is a claim (:attr:`ProviderEvent.claim`): it holds its
    de-duplication key only once the fetched submissions show that submission updated that late (and, for
    ``approved`` / ``rejected``, with that result). A forged delivery naming a future update therefore cannot
    make the genuine one look like a repeat."""
    trigger = str(payload["webhook_trigger"])
    submission_id = str(payload.get("submission_id") or "")
    our_ref = uuid_text(payload.get("userid"))
    if not our_ref:
        logger.info("argos webhook %s for a submission not made through our links: ignored", trigger)
        return []
    result = mapping(payload.get("kyc_result"))
    updated = str(result.get("updated_at") or payload.get("updated_at") or "")
    claim = {"submission_id": submission_id, "trigger": trigger, "updated_at": updated}
    return [
        ProviderEvent(
            event_id=f"{submission_id or our_ref}:{trigger}:{updated}",
            event_type=event_type(trigger),
            provider_ref=submission_id,
            our_ref=our_ref,
            occurred_at=parse_timestamp(updated),
            state=None,
            claim=json.dumps(claim, sort_keys=True, separators=(",", ":")),
        )
    ]


def claim_confirmed(event: ProviderEvent, state: ProviderState) -> bool:
    """The fetched submissions include the delivery's submission, updated at least as late as it says, and
    with the result an ``approved`` / ``rejected`` trigger names."""
    try:
        claim = json.loads(event.claim)
    except ValueError:
        return False
    if not isinstance(claim, Mapping) or not claim.get("submission_id"):
        return False
    submissions = mapping(state.data.get("argos")).get("submissions") or []
    found = next(
        (
            item
            for item in submissions
            if isinstance(item, Mapping) and item.get("submission_id") == claim["submission_id"]
        ),
        None,
    )
    if found is None:
        return False
    if claim.get("trigger") in DECISION_MAP.values() and found.get("result") != claim["trigger"]:
        return False
    claimed_at = parse_timestamp(claim.get("updated_at"))
    if claimed_at is None:
        return True
    updated_at = iso_datetime(found.get("updated_at"))
    return updated_at is not None and updated_at >= claimed_at
