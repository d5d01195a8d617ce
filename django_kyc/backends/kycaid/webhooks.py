"""KYCAID's callbacks: the ``x-data-integrity`` signature and the two callback types.

The signature is the lowercase hex HMAC-SHA512, keyed by the API token, over the *base64 encoding* of the raw
body. Callbacks carry no timestamp, so nothing bounds a replay but ``request_id``, which de-duplicates it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django_kyc.backends.base import InboundWebhook, ProviderEvent, ProviderState
from django_kyc.backends.parsing import text
from django_kyc.backends.signing import hmac_hex, verify_hmac
from django_kyc.status import VerificationStatus

if TYPE_CHECKING:
    from django_kyc.backends.kycaid.backend import KycaidBackend

logger = logging.getLogger("django_kyc.kycaid")

SIGNATURE_HEADER = "x-data-integrity"


def sign(body: bytes, token: str | bytes) -> str:
    """The ``x-data-integrity`` value KYCAID sends with ``body``."""
    key = token.encode() if isinstance(token, str) else token
    return hmac_hex(key, base64.b64encode(body), "sha512")


def authenticate(webhook: InboundWebhook, tokens: Sequence[bytes]) -> None:
    """Refuse a delivery not signed with one of ``tokens`` (compared in constant time, every one of them)."""
    verify_hmac(
        secrets=tokens,
        message=base64.b64encode(webhook.body),
        signature=webhook.signature_header(SIGNATURE_HEADER),
        algorithm="sha512",
        encoding="hex",
    )


def parse(backend: KycaidBackend, webhook: InboundWebhook) -> list[ProviderEvent]:
    """One event per callback that names a verification; ``request_id`` (KYCAID's delivery id) is its key."""
    payload = webhook.json_object("KYCAID callback")
    event_type = text(payload.get("type")).upper() or "UNKNOWN"
    verification_id = text(payload.get("verification_id"))
    # without a request_id, byte-identical redeliveries still de-duplicate
    event_id = text(payload.get("request_id")) or "sha256:" + hashlib.sha256(webhook.body).hexdigest()
    if not verification_id:
        logger.info("kycaid: %s callback without verification_id acknowledged and ignored", event_type)
        return []
    state: ProviderState | None
    if event_type == "VERIFICATION_STATUS_CHANGED":
        attempts = payload.get("verification_attempts_left")
        state = backend.state_from(payload, status_key="verification_status", attempts_left=attempts)
    elif event_type == "VERIFICATION_COMPLETED":
        state = _completed_state(backend, payload)
    else:
        state = None  # a type the reference does not describe: fetch the verification instead of guessing
    return [
        ProviderEvent(
            event_id=event_id, event_type=event_type, provider_ref=verification_id, occurred_at=None, state=state
        )
    ]


def _completed_state(backend: KycaidBackend, payload: Mapping[str, Any]) -> ProviderState | None:
    """The completed state, or ``None`` (fetch on notify) when the decline policy needs the attempts count.

    ``VERIFICATION_COMPLETED`` does not carry ``verification_attempts_left``. In form mode that count is known
    from the form URL answer and ``VERIFICATION_STATUS_CHANGED``, both stored on the verification, so the
    decision is taken when the verification is fetched. In API mode there is no form attempt counter and the
    count is treated as unlimited.
    """
    state = backend.state_from(payload, attempts_left=payload.get("verification_attempts_left"))
    needs_attempts = (
        backend.option("MODE") == "form"
        and "verification_attempts_left" not in payload
        and state.status == VerificationStatus.RESUBMISSION_REQUESTED
    )
    return None if needs_attempts else state
