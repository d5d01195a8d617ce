"""AML screening: start a check (on the applicant, a wallet or a transaction), run it through its backend and
record its hits.

A check the provider is still working on is ``running`` and polled by the sweeper through
``backend.fetch_aml``. Reviewers resolve the hits through :func:`django_kyc.services.review.decide_hit` (the
one door, with four-eyes), which settles the check once the last hit is resolved. Every step is audited.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from django_kyc.backends import get_backend
from django_kyc.backends.base import AmlResult
from django_kyc.backends.capabilities import Capability
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import (
    KycConfigurationError,
    PermanentProviderError,
    ProviderError,
    UnsupportedFeature,
)
from django_kyc.models import AmlCheck, AmlHit, Applicant
from django_kyc.models.aml import AmlCheckType, AmlSubject
from django_kyc.queue import enqueue_on_commit
from django_kyc.services import dismissals, events, transitions
from django_kyc.services.audit import Change, audit
from django_kyc.services.retry import next_attempt_at, provider_call_lease
from django_kyc.status import AmlStatus, AuditAction, Source

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

logger = logging.getLogger("django_kyc.aml")

TX_HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
#: Which backend capability each subject needs.
CAPABILITY: dict[str, Capability] = {
    AmlSubject.APPLICANT: Capability.AML,
    AmlSubject.WALLET: Capability.CRYPTO_AML,
    AmlSubject.TRANSACTION: Capability.CRYPTO_AML,
}
#: What a backend without the capability cannot do, as the API tells the client.
SCREENING: dict[str, StrOrPromise] = {
    AmlSubject.APPLICANT: gettext_lazy("AML screening of a person"),
    AmlSubject.WALLET: gettext_lazy("AML screening of a crypto wallet"),
    AmlSubject.TRANSACTION: gettext_lazy("AML screening of a crypto transaction"),
}


def validate_subject(subject: str, blockchain: str = "", address: str = "", tx_hash: str = "") -> None:
    """Reject an impossible subject before anything is stored or sent: a wallet check needs a chain and an
    address, a transaction check a chain and a 64-hex hash, and a person check neither."""
    errors: dict[str, str] = {}  # in the active language: the API answers a client with them
    if subject not in CAPABILITY:
        errors["subject"] = _("Unknown subject %(subject)s.") % {"subject": repr(subject)}
    elif subject == AmlSubject.APPLICANT:
        for name, value in (("blockchain", blockchain), ("address", address), ("tx_hash", tx_hash)):
            if value:
                errors[name] = _("Only wallet and transaction checks take this field.")
    else:
        if not blockchain:
            errors["blockchain"] = _("Required for wallet and transaction checks.")
        if subject == AmlSubject.WALLET:
            if not address:
                errors["address"] = _("Required for a wallet check.")
            if tx_hash:
                errors["tx_hash"] = _("A wallet check takes an address, not a transaction hash.")
        else:
            if not TX_HASH.match(tx_hash or ""):
                errors["tx_hash"] = _("A transaction hash is 64 hexadecimal characters (optionally 0x-prefixed).")
            if address:
                errors["address"] = _("A transaction check takes a hash, not an address.")
    if errors:
        raise ValidationError(errors)


def default_alias(subject: str = AmlSubject.APPLICANT) -> str:
    """The backend a screening started without one goes through: ``AML_BACKEND`` for a person (the local lists
    in the example project), ``DEFAULT_BACKEND`` otherwise and when it is unset."""
    if subject == AmlSubject.APPLICANT and kyc_settings.AML_BACKEND:
        return str(kyc_settings.AML_BACKEND)
    return str(kyc_settings.DEFAULT_BACKEND)


def start_check(
    applicant: Applicant,
    change: Change,
    backend: str | None = None,
    check_type: str = "initial",
    *,
    subject: str = AmlSubject.APPLICANT,
    blockchain: str = "",
    address: str = "",
    tx_hash: str = "",
) -> AmlCheck:
    alias = backend or default_alias(subject)
    validate_subject(subject, blockchain, address, tx_hash)
    chosen = get_backend(alias)
    if not chosen.supports(CAPABILITY[subject]):
        raise UnsupportedFeature(alias, SCREENING[subject])
    check = AmlCheck(
        applicant=applicant,
        backend=alias,
        check_type=check_type,
        subject=subject,
        blockchain=blockchain,
        address=address,
        tx_hash=tx_hash,
    )
    try:
        chosen.check_aml_subject(check)
    except PermanentProviderError as exc:
        raise ValidationError(exc.message) from exc
    with transaction.atomic():
        check.save()
        audit(change, obj=check, applicant_id=applicant.pk, action=AuditAction.CREATED, to_status=check.status)
        enqueue_on_commit("run_aml_check", str(check.pk))
    return check


def run_check(check_id: Any) -> None:
    """Task body: screen a pending check, or poll a running one. Transient failures back off, permanent
    ones end in ``error``; a second run while one is in flight does nothing (the lease)."""
    with transaction.atomic():
        check = AmlCheck.objects.select_for_update().get(pk=check_id)
        if check.status not in (AmlStatus.PENDING, AmlStatus.RUNNING):
            return
        if check.next_attempt_at and check.next_attempt_at > timezone.now():
            return
        check.attempts += 1
        # a lease, as for submissions: the sweeper must not start a second screening while this one runs
        check.next_attempt_at = timezone.now() + provider_call_lease(check.backend)
        check.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    change = Change.provider(check.backend, Source.TASK)
    backend = get_backend(check.backend)
    try:
        if check.status == AmlStatus.RUNNING:
            result = backend.fetch_aml(check)
        elif check.check_type == AmlCheckType.ONGOING and backend.supports(Capability.AML_MONITORING):
            result = backend.enrol_monitoring(check)  # the provider screens them from now on
        else:
            result = backend.screen(check)
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
    apply_result(check.pk, result, change)


def apply_result(check_id: Any, result: AmlResult, change: Change) -> AmlCheck:
    """Record what the provider found. ``running`` keeps the check polled; anything else settles it."""
    updates: dict[str, Any] = {
        "provider_status": result.provider_status[:128],
        "provider_check_id": result.provider_check_id[:128],
        "provider_data": dict(result.data),
        "score": result.score,
        "risk_level": result.risk_level[:32],
        "monitored": result.monitored,
        "last_error": "",
    }
    with transaction.atomic():
        check = AmlCheck.objects.select_for_update().get(pk=check_id)
        if result.status == AmlStatus.RUNNING:
            age = (timezone.now() - check.created_at).total_seconds()
            if age > float(kyc_settings.AML_RUNNING_TIMEOUT_SECONDS):
                # a provider that never finishes must end visibly, not be polled forever
                message = f"the provider had not finished the screening after {int(age)} s"
                return transitions.transition_aml_check(
                    check.pk,
                    AmlStatus.ERROR,
                    change,
                    updates={**updates, "last_error": message, "next_attempt_at": None},
                )
            # not a failure (the attempt budget counts consecutive errors); polls thin out as the check ages
            delay = min(float(kyc_settings.RETRY_MAX_SECONDS), max(float(kyc_settings.RETRY_BASE_SECONDS), age / 10))
            updates.update(attempts=0, next_attempt_at=timezone.now() + timedelta(seconds=delay))
            if check.status == AmlStatus.RUNNING:
                AmlCheck.objects.filter(pk=check.pk).update(**updates, updated_at=timezone.now())
                return check
            return transitions.transition_aml_check(check.pk, AmlStatus.RUNNING, change, updates=updates)
        status = result.status
        hits = list(result.hits)
        if check.subject == AmlSubject.APPLICANT and hits:
            hits, left_out = dismissals.apply_dismissals(check.applicant, check.backend, hits)
            if left_out:
                # the provider's answer as it came, and what a reviewer's earlier "not a match" kept back
                updates["provider_data"] = {**updates["provider_data"], "dismissed_matches": left_out}
                if not hits and status == AmlStatus.POTENTIAL_MATCH:
                    status = AmlStatus.CLEAR
        for hit in hits:
            row, created = AmlHit.objects.get_or_create(
                aml_check=check,
                entity_id=hit.entity_id[:255],
                defaults={
                    "caption": hit.caption[:255],
                    "score": hit.score,
                    "topics": list(hit.topics),
                    "datasets": list(hit.datasets),
                    "details": dict(hit.details),
                },
            )
            if created:
                # the topics say what the entity is listed for; its name and details stay here
                events.emit(
                    "aml.hit_created",
                    row,
                    {
                        "hit_id": str(row.pk),
                        "aml_check_id": str(check.pk),
                        "applicant_id": str(check.applicant_id),
                        "topics": [str(topic)[:64] for topic in hit.topics],
                    },
                )
        updates.update(screened_at=timezone.now(), next_attempt_at=None)
        return transitions.transition_aml_check(check.pk, status, change, updates=updates)
