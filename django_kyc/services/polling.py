"""Asking providers for the state of verifications whose webhook is late or never came."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.capabilities import Capability
from django_kyc.exceptions import KycError
from django_kyc.models import Verification
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.services.transitions import Outcome
from django_kyc.status import Source

logger = logging.getLogger("django_kyc.polling")


def poll_verification(verification_id: Any) -> Outcome | None:
    """Task body: fetch and apply the provider's current state. Failures wait for the next poll."""
    verification = Verification.objects.filter(pk=verification_id).first()
    if verification is None or verification.is_terminal:
        return None
    Verification.objects.filter(pk=verification.pk).update(last_polled_at=timezone.now())
    backend = get_backend(verification.backend)
    if not backend.supports(Capability.POLLING):
        return None
    try:
        state = backend.fetch_verification(verification)
    except KycError as exc:
        logger.warning("polling verification %s failed: %s", verification.pk, type(exc).__name__)
        return None
    return transitions.apply_provider_state(verification.pk, state, Change.provider(verification.backend, Source.POLL))
