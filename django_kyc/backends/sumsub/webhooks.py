"""Sumsub's webhooks: the ``X-Payload-Digest`` signature and what a delivery asks us to do.

The digest is the hex HMAC of the raw body, keyed by the webhook's secret key (not the app token's), with the
algorithm ``X-Payload-Digest-Alg`` names. Deliveries carry no personal data and only part of the review, and
"final" answers can be followed by another, so each delivery is an event whose state is fetched from Sumsub
before it is applied. No timestamp is signed: the signed ``createdAtMs`` orders events and the event id
de-duplicates redeliveries (``docs/providers/sumsub.md``, "Webhooks").
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from datetime import timezone as dt_timezone

from django_kyc.backends.base import InboundWebhook, ProviderEvent
from django_kyc.backends.parsing import text
from django_kyc.backends.signing import hmac_hex, verify_hmac
from django_kyc.exceptions import WebhookAuthenticationError

logger = logging.getLogger("django_kyc.sumsub")

DIGEST_HEADER = "X-Payload-Digest"
ALGORITHM_HEADER = "X-Payload-Digest-Alg"
#: ``X-Payload-Digest-Alg`` → hashlib name.
ALGORITHMS = {"HMAC_SHA1_HEX": "sha1", "HMAC_SHA256_HEX": "sha256", "HMAC_SHA512_HEX": "sha512"}
#: Events about an applicant's data at Sumsub being gone: nothing left to fetch, nothing for us to apply.
GONE = frozenset({"applicantDeleted", "applicantPersonalDataDeleted"})


def sign(body: bytes, secret: str | bytes, algorithm: str = "HMAC_SHA256_HEX") -> str:
    """The ``X-Payload-Digest`` Sumsub sends with ``body`` under ``algorithm``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac_hex(key, body, ALGORITHMS[algorithm])


def authenticate(webhook: InboundWebhook, secrets: Sequence[bytes], default_algorithm: str) -> None:
    """Refuse a delivery whose digest is not the HMAC of its bytes under one of ``secrets``, with the algorithm
    the delivery names (``default_algorithm`` when it names none). An algorithm outside the three Sumsub
    documents is refused, never guessed."""
    digest = webhook.signature_header(DIGEST_HEADER)
    named = webhook.header(ALGORITHM_HEADER).strip().upper() or default_algorithm
    algorithm = ALGORITHMS.get(named)
    if algorithm is None:
        raise WebhookAuthenticationError(f"{ALGORITHM_HEADER} {named[:40]!r} is not one Sumsub documents")
    verify_hmac(secrets=secrets, message=webhook.body, signature=digest, algorithm=algorithm, encoding="hex")


def created_at(value: object) -> datetime | None:
    """``createdAtMs`` (``"2020-02-21 13:23:19.321"``, UTC) as a datetime; ``None`` if unusable."""
    raw = text(value).strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt_timezone.utc)


def parse(webhook: InboundWebhook) -> list[ProviderEvent]:
    """One fetch-on-notify event per delivery about an applicant.

    Every field is under the signature, so the event id is built from them and held at once: the type, the
    applicant and ``createdAtMs`` identify an event across Sumsub's resends (the body hash when a field is
    missing). Test deliveries from the Dashboard (``testMode``), deliveries without an applicant and the
    deletion notices are acknowledged and ignored.
    """
    payload = webhook.json_object("Sumsub webhook")
    event_type = text(payload.get("type")) or "unknown"
    applicant_id = text(payload.get("applicantId"))
    if payload.get("testMode") is True:
        logger.info("sumsub: test delivery %s acknowledged and ignored", event_type)
        return []
    if not applicant_id or event_type in GONE:
        logger.info("sumsub: %s delivery acknowledged; nothing to apply", event_type)
        return []
    stamp = text(payload.get("createdAtMs"))
    event_id = f"{event_type}:{applicant_id}:{stamp}" if stamp else "sha256:" + hashlib.sha256(webhook.body).hexdigest()
    return [
        ProviderEvent(
            event_id=event_id[:255],
            event_type=event_type,
            provider_ref=applicant_id,
            occurred_at=created_at(stamp),
            state=None,  # fetched before it is applied: see the module docstring
        )
    ]
