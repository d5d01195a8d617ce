"""Screening approved applicants again: on a schedule by risk level, and when their name, date of birth or
nationality changes (``docs/rescreening.md``).

Each approved applicant carries ``next_screening_at``; :meth:`Applicant.save` keeps it in step (scheduled on
approval, re-paced when the risk level changes, due at once when a screened field changes, with a task
enqueued on commit). This module starts the screenings that are due: the daily job (:func:`rescreen_due`)
walks them in keyset-paginated batches, and :func:`rescreen` handles one applicant under its row lock, so two
runs (or the job and a change's task) never start two checks. Checks go through
:func:`django_kyc.services.aml.start_check`, so retries, outages and hits behave as for any AML check; a
backend that offers ongoing monitoring (``Capability.AML_MONITORING``) gets an enrolment check instead of a
screening. A match a re-screening finds, once a reviewer confirms it, raises the applicant's risk and opens a
review (:func:`open_screening_review`).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from django_kyc import signals
from django_kyc.backends.capabilities import Capability
from django_kyc.backends.registry import get_backend
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycConfigurationError, UnsupportedFeature
from django_kyc.models import AmlCheck, AmlHit, Applicant
from django_kyc.models.aml import AmlCheckType, AmlSubject
from django_kyc.models.screening import next_screening_after
from django_kyc.services import aml, review_policy, risk
from django_kyc.services.audit import Change
from django_kyc.status import AmlHitStatus, AmlStatus, ApplicantStatus, ReviewReason, Source

logger = logging.getLogger("django_kyc.rescreening")

#: The check types a re-screening starts: a screening, or an enrolment in the provider's monitoring.
RESCREENING_TYPES = frozenset({AmlCheckType.RESCREENING, AmlCheckType.ONGOING})
#: A person screening in these is still under way: the applicant is not screened a second time meanwhile.
ACTIVE = (AmlStatus.PENDING, AmlStatus.RUNNING)


class Outcome(enum.Enum):
    SCREENED = "screened"  # a re-screening check was started
    ENROLLED = "enrolled"  # an enrolment in the provider's ongoing monitoring was started
    SKIPPED = "skipped"  # not due (any more), not approved, or a screening is under way
    FAILED = "failed"  # the check could not be started (configuration, a backend without AML); stays due


@dataclass
class RescreeningRun:
    screened: int = 0
    enrolled: int = 0
    skipped: int = 0
    failed: int = 0
    batches: int = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def summary(self) -> str:
        return (
            f"screened={self.screened} enrolled={self.enrolled} skipped={self.skipped} failed={self.failed} "
            f"batches={self.batches}"
        )


def _person_checks() -> QuerySet[AmlCheck]:
    return AmlCheck.objects.filter(applicant=OuterRef("pk"), subject=AmlSubject.APPLICANT)


def due(now: datetime) -> QuerySet[Applicant]:
    """Approved applicants whose screening is due at ``now`` (the purged ones have nothing left to screen)."""
    return Applicant.objects.filter(
        status=ApplicantStatus.VERIFIED, next_screening_at__lte=now, pii_redacted_at__isnull=True
    )


def make_due(applicant_ids: Iterable[Any], *, now: datetime | None = None) -> int:
    """Make these approved applicants due for re-screening at ``now`` (the next run screens them), e.g.
    because a sanctions list changed an entry they could match. Returns how many moved; those due already, not
    approved or purged are left as they are."""
    now = now or timezone.now()
    return (
        Applicant.objects.filter(
            pk__in=list(applicant_ids), status=ApplicantStatus.VERIFIED, pii_redacted_at__isnull=True
        )
        .filter(Q(next_screening_at__gt=now) | Q(next_screening_at__isnull=True))
        .update(next_screening_at=now)
    )


def rescreen_due(*, now: datetime | None = None, batch_size: int | None = None) -> RescreeningRun:
    """The daily job: start a re-screening for every applicant due at ``now``.

    Batches of ``RESCREENING_BATCH_SIZE`` ids are read in ``(next_screening_at, id)`` order after the last one
    seen (keyset pagination: no offset, no list of every due applicant), so memory and each batch's queries
    stay the same however many applicants there are, and an applicant left due (a check under way, a failure)
    is passed over rather than read again. Running it twice starts nothing the second time: a started
    applicant's ``next_screening_at`` has moved past ``now``.
    """
    now = now or timezone.now()
    size = max(1, int(batch_size or kyc_settings.RESCREENING_BATCH_SIZE))
    run = RescreeningRun()
    # the backend of each applicant's latest person screening, read with the batch rather than per applicant
    latest_backend = Subquery(_person_checks().order_by("-created_at").values("backend")[:1])
    after: tuple[datetime | None, Any] | None = None
    while True:
        batch = due(now).order_by("next_screening_at", "pk")
        if after is not None:
            batch = batch.filter(Q(next_screening_at__gt=after[0]) | Q(next_screening_at=after[0], pk__gt=after[1]))
        rows = list(
            batch.annotate(latest_backend=latest_backend).values_list("pk", "next_screening_at", "latest_backend")[
                :size
            ]
        )
        if not rows:
            break
        run.batches += 1
        for pk, _at, latest in rows:
            run.count(rescreen(pk, now=now, reason="scheduled", latest_backend=latest or ""))
        after = (rows[-1][1], rows[-1][0])
        if len(rows) < size:
            break
    if run.screened or run.enrolled or run.failed:
        logger.info("re-screening run: %s", run.summary())
    return run


def screening_backend(latest_backend: str = "") -> str:
    """The alias a re-screening goes through: ``RESCREENING_BACKEND``, else the backend that screened the
    applicant last (a provider screens its own customers: ARGOS reads the submission it verified), else
    ``AML_BACKEND``, else ``DEFAULT_BACKEND``."""
    return str(
        kyc_settings.RESCREENING_BACKEND or latest_backend or kyc_settings.AML_BACKEND or kyc_settings.DEFAULT_BACKEND
    )


def rescreen(
    applicant_id: Any, *, now: datetime | None = None, reason: str = "scheduled", latest_backend: str | None = None
) -> Outcome:
    """Start one applicant's re-screening if it is still due at ``now``, under the applicant's row lock (the
    lock and the moved ``next_screening_at`` are what make a second run, or the job racing a change's task,
    start nothing). ``reason`` is recorded on the check's audit row: ``scheduled``, or the changed fields."""
    now = now or timezone.now()
    active = _person_checks().filter(status__in=ACTIVE)
    try:
        with transaction.atomic():
            applicant = due(now).select_for_update(of=("self",)).filter(pk=applicant_id).exclude(Exists(active)).first()
            if applicant is None:
                return Outcome.SKIPPED
            if latest_backend is None:
                latest_backend = (
                    AmlCheck.objects.filter(applicant=applicant, subject=AmlSubject.APPLICANT)
                    .order_by("-created_at")
                    .values_list("backend", flat=True)
                    .first()
                ) or ""
            alias = screening_backend(latest_backend)
            enrol = get_backend(alias).supports(Capability.AML_MONITORING)
            change = Change.system(Source.TASK, reason=f"re-screening: {reason}"[:255])
            check_type = AmlCheckType.ONGOING if enrol else AmlCheckType.RESCREENING
            aml.start_check(applicant, change, backend=alias, check_type=check_type)
            Applicant.objects.filter(pk=applicant.pk).update(
                next_screening_at=next_screening_after(now, applicant.risk_level)
            )
    except (KycConfigurationError, UnsupportedFeature, ValidationError) as exc:
        # left due: the next run tries again once the configuration is fixed (a system check names the key)
        logger.warning("applicant %s could not be re-screened: %s", applicant_id, exc)
        return Outcome.FAILED
    return Outcome.ENROLLED if enrol else Outcome.SCREENED


def rescreen_after_change(applicant_id: Any, fields: str = "") -> Outcome:
    """The task :meth:`Applicant.save` enqueues when a screened field of an approved applicant changed (it made
    them due at once). A screening already under way leaves them due for the next daily run."""
    return rescreen(applicant_id, reason=f"changed {fields}" if fields else "changed personal data")


def open_screening_review(check: AmlCheck, change: Change) -> Applicant:
    """A reviewer confirmed a match a re-screening found: raise the applicant's risk to what the confirmed
    matches imply (through the risk service: audited, and read by four-eyes from now on) and open a review of
    the applicant: due now in the due-for-review queue (reason "screening hit",
    :func:`review_policy.open_review`), and :data:`django_kyc.signals.screening_review_opened` after the commit.

    Called inside the resolution's transaction, after the last hit is resolved. The risk is only ever raised
    here: lowering it is a person's decision of its own.
    """
    with transaction.atomic():
        applicant = Applicant.objects.select_for_update().get(pk=check.applicant_id)
        previous = applicant.risk_level
        confirmed = AmlHit.objects.filter(aml_check=check, status=AmlHitStatus.TRUE_POSITIVE).select_related(
            "aml_check__applicant"
        )
        level = risk.highest([previous, *(hit.risk for hit in confirmed)])
        if level != previous:  # the most severe of the two: only ever a raise
            reason = f"confirmed match in AML re-screening {check.pk}"
            applicant = risk.set_risk_level(
                applicant.pk, level, dataclasses.replace(change, reason=change.reason or reason)
            )
        # the due-for-review queue shows it from now, under "screening hit"
        applicant = review_policy.open_review(applicant.pk, ReviewReason.SCREENING_HIT, change)
        opened = {
            "applicant": applicant,
            "aml_check": check,
            "risk_level": applicant.risk_level,
            "previous_risk_level": previous,
            "reason": ReviewReason.SCREENING_HIT.value,
        }
        signals.send_after_commit(signals.screening_review_opened, Applicant, **opened)
    return applicant
