"""AML screening: create a check, run it through its backend, record hits."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import (
    KycConfigurationError,
    PermanentProviderError,
    ProviderError,
    UnsupportedFeature,
)
from django_kyc.models import AmlCheck, AmlHit, Applicant
from django_kyc.queue import enqueue_on_commit
from django_kyc.services import transitions
from django_kyc.services.retry import next_attempt_at, provider_call_lease
from django_kyc.services.transitions import Change
from django_kyc.status import AmlStatus, Source

logger = logging.getLogger("django_kyc.aml")


def start_check(
    applicant: Applicant, change: Change, backend: str | None = None, check_type: str = "initial"
) -> AmlCheck:
    alias = backend or kyc_settings.DEFAULT_BACKEND
    if not get_backend(alias).supports("aml"):
        raise UnsupportedFeature(alias, "AML screening")
    with transaction.atomic():
        check = AmlCheck.objects.create(applicant=applicant, backend=alias, check_type=check_type)
        transitions.audit(change, obj=check, applicant_id=applicant.pk, action="created", to_status=check.status)
        enqueue_on_commit("run_aml_check", str(check.pk))
    return check


def run_check(check_id: Any) -> None:
    """Task body: screen once; transient failures back off, permanent ones end in ``error``."""
    with transaction.atomic():
        check = AmlCheck.objects.select_for_update().get(pk=check_id)
        if check.status != AmlStatus.PENDING:
            return
        if check.next_attempt_at and check.next_attempt_at > timezone.now():
            return
        check.attempts += 1
        # a lease, as for submissions: the sweeper must not start a second screening while this one runs
        check.next_attempt_at = timezone.now() + provider_call_lease(check.backend)
        check.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    change = Change.provider(check.backend, Source.TASK)
    try:
        result = get_backend(check.backend).screen(check)
    except (PermanentProviderError, KycConfigurationError, UnsupportedFeature) as exc:
        transitions.transition_aml_check(
            check.pk, AmlStatus.ERROR, change, updates={"last_error": str(exc), "next_attempt_at": None}
        )
        return
    except Exception as exc:
        # Outages and unexpected failures alike back off and end visibly in ``error`` if they persist.
        if not isinstance(exc, ProviderError):
            logger.exception("AML check %s failed unexpectedly", check.pk)
            exc = ProviderError(f"unexpected error: {type(exc).__name__}")
        if check.attempts >= int(kyc_settings.MAX_ATTEMPTS):
            transitions.transition_aml_check(
                check.pk, AmlStatus.ERROR, change, updates={"last_error": str(exc), "next_attempt_at": None}
            )
        else:
            AmlCheck.objects.filter(pk=check.pk).update(
                next_attempt_at=next_attempt_at(check.attempts, exc.retry_after), last_error=str(exc)
            )
        return
    with transaction.atomic():
        for hit in result.hits:
            AmlHit.objects.get_or_create(
                aml_check=check,
                entity_id=hit.entity_id,
                defaults={
                    "caption": hit.caption[:255],
                    "score": hit.score,
                    "topics": list(hit.topics),
                    "datasets": list(hit.datasets),
                    "details": dict(hit.details),
                },
            )
        transitions.transition_aml_check(
            check.pk,
            result.status,
            change,
            updates={
                "provider_status": result.provider_status,
                "provider_check_id": result.provider_check_id,
                "provider_data": dict(result.data),
                "screened_at": timezone.now(),
                "next_attempt_at": None,
                "last_error": "",
            },
        )
