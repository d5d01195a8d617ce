"""Retention and erasure: how long KYC records are kept, the erasure-request register, and the purge.

Anti-money-laundering rules (FATF R.11, EU AMLD Art. 40) require customer due-diligence records to be kept
for years after the business relationship ends, and that obligation overrides a GDPR erasure request
(Art. 17(3)(b)) until the period lapses. Storage limitation (Art. 5(1)(e)) then requires the data to go. So:

* ``retention_until`` is computed from ``relationship_ended_at`` and the ``RETENTION_*`` settings; while the
  relationship lasts there is no date and nothing is purged.
* An erasure request is always recorded. Outside the retention period (or when there was never a decision,
  so nothing AML law asks us to keep) it is executed at once; inside it, it waits, ``due_at`` says until
  when, and the purge executes it when the period lapses.
* A legal hold blocks every purge.
* The purge redacts personal data and deletes document files but keeps the *decision skeleton* (statuses,
  decisions, reasons, dates, provider ids, document hashes) and every audit row, so a decision stays
  reconstructable without identifying the person.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from django_kyc.backends import get_backend
from django_kyc.backends.capabilities import Capability
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import (
    InvalidTransition,
    KycConfigurationError,
    ProviderError,
    TransientProviderError,
    UnsupportedFeature,
)
from django_kyc.models import (
    AmlCheck,
    Applicant,
    AuditEvent,
    Document,
    DocumentFile,
    ErasureRequest,
    ErasureSource,
    ErasureStatus,
    Verification,
    WebhookEvent,
)
from django_kyc.pii import APPLICANT_PII_FIELDS
from django_kyc.services import transitions
from django_kyc.services.audit import Change, audit
from django_kyc.services.events import emit as emit_event
from django_kyc.status import (
    VERIFICATION_ACTIVE,
    VERIFICATION_DECISIONS,
    AuditAction,
    DocumentStatus,
    Source,
    VerificationStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

logger = logging.getLogger("django_kyc.retention")

#: Applicant fields blanked by the purge: the person's identity, contact and address, plus the site's own id
#: (which links back to an account). Nationality and country of residence stay: alone they identify nobody
#: and they are part of the risk picture a decision was based on.
REDACTED_APPLICANT_FIELDS = (*APPLICANT_PII_FIELDS, "external_id")

# Purge outcomes, as counted in reports.
PURGED = "purged"
WOULD_PURGE = "would_purge"
ALREADY_PURGED = "already_purged"
LEGAL_HOLD = "legal_hold"
RETAINED = "retained"
PROVIDER_FAILED = "provider_failed"
#: The provider asked us to wait (its request budget is used up, or it answered 429 with ``Retry-After``).
PROVIDER_PACED = "provider_paced"


# --- retention dates (the date rule itself: django_kyc.models.retention.compute_retention_until) ----------


def has_cdd_record(applicant: Applicant) -> bool:
    """Whether there is anything AML record-keeping obliges us to keep: a verification that was ever decided
    (the append-only audit remembers decisions later reopened) or a completed screening."""
    decided = AuditEvent.objects.filter(
        applicant=applicant, object_type="verification", to_status__in=list(VERIFICATION_DECISIONS)
    ).exists()
    return decided or AmlCheck.objects.filter(applicant=applicant, screened_at__isnull=False).exists()


def retention_lapsed(applicant: Applicant, now: datetime | None = None) -> bool:
    """Whether the retention period is over (or never began, because no decision was ever reached)."""
    if applicant.retention_until is not None:
        return applicant.retention_until <= (now or timezone.now())
    return not has_cdd_record(applicant)


def end_relationship(applicant: Applicant, ended_at: datetime | None = None) -> Applicant:
    """Record the end of the relationship, which starts the retention period."""
    applicant.relationship_ended_at = ended_at or timezone.now()
    applicant.save(update_fields=["relationship_ended_at", "updated_at"])
    sync_due_dates(applicant)
    return applicant


def sync_due_dates(applicant: Applicant) -> int:
    """Point waiting erasure requests at the current retention date (after the relationship end changed)."""
    if applicant.retention_until is None:
        return 0
    return ErasureRequest.objects.filter(applicant=applicant, status=ErasureStatus.SCHEDULED).update(
        due_at=applicant.retention_until
    )


# --- erasure requests ------------------------------------------------------------------------------------


def request_erasure(
    applicant: Applicant,
    *,
    source: str = ErasureSource.SUBJECT,
    user: AbstractBaseUser | AnonymousUser | None = None,
    note: str = "",
    execute: bool = True,
    change: Change | None = None,
) -> ErasureRequest:
    """Record an erasure request and honour it as far as the law allows.

    Outside retention the purge runs at once when ``execute`` (callers without the ``purge_applicant``
    permission pass ``False``: the request is then due now and the daily purge executes it). Inside
    retention, or under a legal hold, it is scheduled. A second request while one is open returns the open
    one, so a repeated click or API call records one request.
    """
    change = change or (
        Change.by_user(user, Source.ADMIN) if user is not None else Change.system(Source.API, reason=note)
    )
    now = timezone.now()
    run_now = False
    with transaction.atomic():
        locked = Applicant.objects.select_for_update().get(pk=applicant.pk)
        existing = ErasureRequest.objects.filter(
            applicant=locked, status__in=[ErasureStatus.REQUESTED, ErasureStatus.SCHEDULED]
        ).first()
        if existing is not None:
            return existing
        request = ErasureRequest.objects.create(
            applicant=locked,
            source=source,
            requested_by=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
            note=note,
        )
        if locked.pii_redacted_at is not None:
            request.status, request.completed_at = ErasureStatus.DONE, locked.pii_redacted_at
            request.note = _append(request.note, "Personal data had already been purged.")
        elif locked.legal_hold:
            request.status, request.due_at = ErasureStatus.SCHEDULED, locked.retention_until
            request.note = _append(request.note, "Waiting: the applicant is under legal hold.")
        elif retention_lapsed(locked, now):
            request.status, request.due_at = ErasureStatus.SCHEDULED, now
            run_now = execute
        else:
            request.status, request.due_at = ErasureStatus.SCHEDULED, locked.retention_until
            request.note = _append(
                request.note,
                "Waiting: records are kept until the retention period lapses"
                + ("." if locked.retention_until else " (the relationship has not ended)."),
            )
        request.save(update_fields=["status", "due_at", "completed_at", "note"])
        audit(
            change,
            obj=locked,
            applicant_id=locked.pk,
            action=AuditAction.ERASURE_REQUESTED,
            to_status=request.status,
            data={"erasure_request": str(request.pk), "source": source},
        )
    if run_now:
        purge(locked.pk, change=change)
        request.refresh_from_db()
    return request


def refuse_erasure(request: ErasureRequest, reason: str, change: Change) -> ErasureRequest:
    """Refuse a request (e.g. the requester's identity could not be confirmed); the reason is recorded."""
    if not reason:
        raise InvalidTransition(
            _("Erasure request"), request.status, ErasureStatus.REFUSED, _("refusal needs a reason")
        )
    with transaction.atomic():
        locked = ErasureRequest.objects.select_for_update().get(pk=request.pk)
        if not locked.is_open:
            raise InvalidTransition(_("Erasure request"), locked.status, ErasureStatus.REFUSED)
        old = locked.status
        locked.status, locked.completed_at = ErasureStatus.REFUSED, timezone.now()
        locked.note = _append(locked.note, f"Refused: {reason}")
        locked.save(update_fields=["status", "completed_at", "note"])
        audit(
            change,
            obj=locked.applicant,
            applicant_id=locked.applicant_id,
            action=AuditAction.ERASURE_REFUSED,
            from_status=old,
            to_status=locked.status,
            data={"erasure_request": str(locked.pk)},
        )
    return locked


def _append(note: str, line: str) -> str:
    return f"{note}\n{line}" if note else line


# --- the purge -------------------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    """What :func:`purge` did (or, in a dry run, would do) to one applicant."""

    applicant_id: Any
    outcome: str
    documents: int = 0
    files: int = 0
    verifications: int = 0
    webhook_events: int = 0
    providers: dict[str, str] = field(default_factory=dict)


def provider_aliases(applicant: Applicant) -> list[str]:
    """Every backend that holds data about the applicant: those that verified or screened them."""
    aliases = set(Verification.objects.filter(applicant=applicant).values_list("backend", flat=True))
    aliases |= set(AmlCheck.objects.filter(applicant=applicant).values_list("backend", flat=True))
    return sorted(alias for alias in aliases if alias)


def purge(
    applicant_id: Any, *, dry_run: bool = False, change: Change | None = None, now: datetime | None = None
) -> PurgeResult:
    """Redact one applicant's personal data, if retention allows it. Idempotent.

    Provider deletion comes first and outside any transaction (it is HTTP): if a provider fails, or asks us to
    wait (``provider_paced``: a deletion budget used up), nothing is redacted locally and the applicant stays
    due, so the next run retries the whole erasure. A backend
    without deletion (``UnsupportedFeature``) or no longer configured is noted in the audit, not a failure.
    """
    change = change or Change.system(Source.TASK, reason="retention period lapsed")
    now = now or timezone.now()
    applicant = Applicant.objects.get(pk=applicant_id)
    blocked = _blocked(applicant, now)
    if blocked:
        return PurgeResult(applicant.pk, blocked)
    documents = Document.objects.filter(applicant=applicant).exclude(status=DocumentStatus.PURGED)
    files = DocumentFile.objects.filter(document__applicant=applicant).exclude(file="")
    verifications = Verification.objects.filter(applicant=applicant)
    events = WebhookEvent.objects.filter(verification__applicant=applicant)  # body may be encrypted: no filter
    result = PurgeResult(
        applicant.pk,
        WOULD_PURGE,
        documents=documents.count(),
        files=files.count(),
        verifications=verifications.count(),
        webhook_events=events.count(),
    )
    if dry_run:
        result.providers = dict.fromkeys(provider_aliases(applicant), "would delete")
        return result

    for alias in provider_aliases(applicant):
        outcome = _delete_at_provider(alias, applicant)
        result.providers[alias] = outcome
        if outcome.startswith(("failed", "paced")):
            audit(
                change,
                obj=applicant,
                applicant_id=applicant.pk,
                action=AuditAction.PROVIDER_ERASURE,
                data={alias: outcome},
            )
            result.outcome = PROVIDER_PACED if outcome.startswith("paced") else PROVIDER_FAILED
            return result

    with transaction.atomic():
        applicant = Applicant.objects.select_for_update().get(pk=applicant.pk)
        blocked = _blocked(applicant, now)  # a hold placed, or another run, while the providers were called
        if blocked:
            return PurgeResult(applicant.pk, blocked)
        for verification in verifications.filter(status__in=list(VERIFICATION_ACTIVE)):
            # the person is gone: a half-finished verification must not carry on with blanked data
            transitions.transition_verification(verification.pk, VerificationStatus.CANCELLED, change)
        applicant.refresh_from_db()  # the cancellations refreshed the status aggregate
        for row in files.select_related("document"):
            row.file.storage.delete(row.file.name)
            DocumentFile.objects.filter(pk=row.pk).update(file="")
        for document in documents.select_for_update():
            document.number = ""
            document.save(update_fields=["number", "updated_at"])
            transitions.transition_document(document, DocumentStatus.PURGED, change)
        verifications.update(provider_data={}, client_token="", client_link="", updated_at=now)
        events.update(body=b"")
        AmlCheck.objects.filter(applicant=applicant).update(provider_data={}, address="", tx_hash="", updated_at=now)
        for name in REDACTED_APPLICANT_FIELDS:
            setattr(applicant, name, None if getattr(Applicant._meta.get_field(name), "null", False) else "")
        applicant.user = None
        applicant.pii_redacted_at = now
        applicant.save(update_fields=[*REDACTED_APPLICANT_FIELDS, "user", "pii_redacted_at", "updated_at"])
        ErasureRequest.objects.filter(
            applicant=applicant, status__in=[ErasureStatus.REQUESTED, ErasureStatus.SCHEDULED]
        ).update(status=ErasureStatus.DONE, completed_at=now)
        for alias, outcome in result.providers.items():
            audit(
                replace(change, reason=f"{alias}: {outcome}"),
                obj=applicant,
                applicant_id=applicant.pk,
                action=AuditAction.PROVIDER_ERASURE,
                data={alias: outcome},
            )
        audit(
            change,
            obj=applicant,
            applicant_id=applicant.pk,
            action=AuditAction.PII_PURGED,
            data={
                "documents": result.documents,
                "files": result.files,
                "verifications": result.verifications,
                "webhook_events": result.webhook_events,
            },
        )
        emit_event("applicant.erased", applicant, {"applicant_id": str(applicant.pk), "erased_at": now.isoformat()})
    result.outcome = PURGED
    return result


def _blocked(applicant: Applicant, now: datetime) -> str:
    if applicant.pii_redacted_at is not None:
        return ALREADY_PURGED
    if applicant.legal_hold:
        return LEGAL_HOLD
    if not retention_lapsed(applicant, now):
        return RETAINED
    return ""


UNSUPPORTED_ERASURE = "unsupported: the provider offers no deletion; erase there by hand if needed"


def _delete_at_provider(alias: str, applicant: Applicant) -> str:
    """Ask the provider to erase the applicant where it can (capability ``delete``); otherwise say so, for the
    audit trail, so a person knows the provider may still hold the data."""
    try:
        backend = get_backend(alias)
        if not backend.supports(Capability.DELETE):
            return UNSUPPORTED_ERASURE
        backend.delete_applicant(applicant)
    except UnsupportedFeature:
        return UNSUPPORTED_ERASURE
    except KycConfigurationError:
        return "not configured: the backend is no longer in DJANGO_KYC; erase there by hand if needed"
    except TransientProviderError as exc:
        if exc.retry_after is None:
            logger.warning(
                "provider erasure failed for applicant %s at %s: %s", applicant.pk, alias, type(exc).__name__
            )
            return f"failed: {exc}"[:500]
        # a deletion budget (e.g. a few a day) is not a failure: the applicant stays due and a later run goes on
        logger.info("provider erasure paced for applicant %s at %s: %.0f s", applicant.pk, alias, exc.retry_after)
        return f"paced: retry after {math.ceil(exc.retry_after)} s ({exc})"[:500]
    except ProviderError as exc:
        logger.warning("provider erasure failed for applicant %s at %s: %s", applicant.pk, alias, type(exc).__name__)
        return f"failed: {exc}"[:500]
    return "deleted"


# --- the sweep -------------------------------------------------------------------------------------------


def due_applicants(now: datetime | None = None) -> QuerySet[Applicant]:
    """Applicants the purge should handle: retention lapsed, or an erasure request due, and no legal hold."""
    now = now or timezone.now()
    due = Q(retention_until__lte=now) | Q(
        erasure_requests__status=ErasureStatus.SCHEDULED, erasure_requests__due_at__lte=now
    )
    return Applicant.objects.filter(due, pii_redacted_at__isnull=True, legal_hold=False).distinct()


@dataclass
class PurgeReport:
    """Counts by outcome over one run, plus how many lapsed applicants a legal hold kept."""

    total: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    held: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        detail = ", ".join(f"{name}={count}" for name, count in sorted(self.outcomes.items())) or "nothing due"
        prefix = "dry run: " if self.dry_run else ""
        return f"{prefix}{self.total} applicant(s) due: {detail}; under legal hold={self.held}"


def purge_due(
    *,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> PurgeReport:
    """Purge every due applicant, ``batch_size`` ids at a time (keyset-paged, so applicants that stay due —
    a failing provider, a dry run — are never visited twice). Safe to run concurrently: each purge locks
    its applicant and re-checks."""
    now = now or timezone.now()
    size = max(1, int(batch_size or kyc_settings.RETENTION_PURGE_BATCH_SIZE))
    due = due_applicants(now)
    report = PurgeReport(total=due.count(), dry_run=dry_run)
    report.held = Applicant.objects.filter(
        retention_until__lte=now, legal_hold=True, pii_redacted_at__isnull=True
    ).count()
    done, last = 0, None
    while True:
        page = due.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:size])
        if not ids:
            break
        for pk in ids:
            result = purge(pk, dry_run=dry_run, now=now)
            report.outcomes[result.outcome] += 1
            done += 1
        last = ids[-1]
        if progress is not None:
            progress(min(done, report.total), report.total)
    return report
