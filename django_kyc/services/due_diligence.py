"""The daily review run: ask people to verify again before their review falls due, and take ``verified`` away
when it lapses.

Two passes over the index on ``(next_review_at, id)`` (dates are :mod:`~django_kyc.services.review_policy`'s):

1. **Notice**: verified applicants whose review falls due within ``REVIEW_NOTICE_DAYS`` and who have not been
   told yet. Each gets ``review_notified_at`` (the API's ``action_required`` turns true and a re-verification
   may start), a ``review_due`` audit row and the ``review_due`` signal; with ``REVIEW_STARTS_VERIFICATION``
   a new verification is started on the backend of the applicant's last approval too.
2. **Lapse**: verified applicants whose review date has passed leave ``verified`` through the transition
   service (:func:`~django_kyc.services.transitions.require_reverification`), with the
   ``reverification_required`` signal. They are now overdue in the admin's "due for review" queue.

Each pass reads one page of ``REVIEW_BATCH_SIZE`` rows at a time, keyset-paged (``WHERE (next_review_at, id) >
last`` on the index, never ``OFFSET``), and handles it in one transaction with a fixed number of statements
(the notice: one read, one UPDATE, one INSERT of audit rows; the lapse: the transition service's batch). So
memory and queries per page do not grow with the book, and a run over 100,000 due applicants holds one page at
a time (``bench.bulk``'s ``review`` measures it). A second run the same day finds nothing to do: the notice is
recorded on the row, and a lapsed applicant is no longer ``verified``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from django_kyc import signals
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycConfigurationError, KycError
from django_kyc.models import Applicant
from django_kyc.services import events, review_policy, submission, transitions
from django_kyc.services.audit import Change, audit_each
from django_kyc.status import ApplicantStatus, AuditAction, Source

logger = logging.getLogger("django_kyc.due_diligence")

#: What one page reads: enough for the audit rows and the signals, not the encrypted date of birth (the run
#: would decrypt it 100,000 times to do nothing with it). A receiver reading other fields loads them itself.
PAGE_FIELDS = (
    "id",
    "user_id",
    "reference",
    "external_id",
    "status",
    "risk_level",
    "country",
    "nationality",
    "next_review_at",
    "review_reason",
    "review_notified_at",
    "reverification_required_at",
)


@dataclass
class ReviewReport:
    """What one run did."""

    noticed: int = 0
    lapsed: int = 0
    started: int = 0
    pages: int = 0

    def summary(self) -> str:
        return (
            f"review notices={self.noticed} lapsed={self.lapsed} verifications started={self.started} "
            f"pages={self.pages}"
        )


# --- the one place the review events leave the package --------------------------------------------------


def announce_review_due(page: Sequence[Applicant]) -> None:
    """Tell the site a page of reviews has fallen into its notice period: ``applicant.review_due`` for its
    services, written in the current transaction (an outbox), and the ``review_due`` signal (the site's
    e-mail) after the commit."""
    events.emit_many(
        "applicant.review_due",
        [(a, {"applicant_id": str(a.pk), "reason": a.review_reason, "due_at": _iso(a.next_review_at)}) for a in page],
    )
    for applicant in page:
        signals.send_after_commit(
            signals.review_due,
            Applicant,
            applicant=applicant,
            reason=applicant.review_reason,
            due_at=applicant.next_review_at,
        )


def announce_reverification(moved: Sequence[Applicant]) -> None:
    """Tell the site these applicants left ``verified``: ``applicant.reverification_required`` in the current
    transaction, the ``reverification_required`` signal after the commit."""
    events.emit_many(
        "applicant.reverification_required",
        [(a, {"applicant_id": str(a.pk), "reason": a.review_reason, "verification_id": None}) for a in moved],
    )
    for applicant in moved:
        signals.send_after_commit(
            signals.reverification_required, Applicant, applicant=applicant, reason=applicant.review_reason
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- the run ---------------------------------------------------------------------------------------------


def run_reviews(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    progress: Callable[[ReviewReport], None] | None = None,
) -> ReviewReport:
    """Both passes (see the module doc). Safe to run concurrently and to run twice."""
    now = now or timezone.now()
    size = max(1, int(batch_size or kyc_settings.REVIEW_BATCH_SIZE))
    report = ReviewReport()
    change = Change.system(Source.TASK, reason="review policy")

    def notify(page: list[Applicant]) -> None:
        report.noticed += _notify(page, now, change, report)

    def lapse(page: list[Applicant]) -> None:
        with transaction.atomic():  # the lapse and its announcement commit together
            moved = transitions.require_reverification([applicant.pk for applicant in page], change)
            announce_reverification([applicant for applicant, _from_status in moved])
        report.lapsed += len(moved)

    for handle, queryset, lock in ((notify, notice_due(now), True), (lapse, lapse_due(now), False)):
        for _page in _pages(queryset, size, handle, lock=lock):
            report.pages += 1
            if progress is not None:
                progress(report)
    return report


def notice_due(now: datetime) -> QuerySet[Applicant]:
    """Verified applicants whose review's notice period has opened and who have not been told."""
    return Applicant.objects.filter(
        status=ApplicantStatus.VERIFIED,
        review_notified_at__isnull=True,
        next_review_at__lte=now + review_policy.notice_period(),
    )


def lapse_due(now: datetime) -> QuerySet[Applicant]:
    """Verified applicants whose review date has come."""
    return Applicant.objects.filter(status=ApplicantStatus.VERIFIED, next_review_at__lte=now)


def _pages(
    queryset: QuerySet[Applicant], size: int, handle: Callable[[list[Applicant]], None], *, lock: bool
) -> Iterator[int]:
    """Hand ``queryset`` to ``handle`` a page at a time, in ``(next_review_at, id)`` order, each page in its own
    transaction; yields each page's size once it is committed.

    Keyset-paged: each page starts after the last row of the one before, so rows a page leaves as they were
    (another run holds them, or they cannot move) are not read again, and nothing is skipped when handled
    rows drop out of the filter. With ``lock`` a page is read ``FOR UPDATE SKIP LOCKED``: two runs at once
    split the work instead of both sending the notice.
    """
    last: tuple[datetime, Any] | None = None
    while True:
        ordered = queryset.order_by("next_review_at", "pk").only(*PAGE_FIELDS)
        if last is not None:
            ordered = ordered.filter(Q(next_review_at__gt=last[0]) | Q(next_review_at=last[0], pk__gt=last[1]))
        with transaction.atomic():
            page = list((ordered.select_for_update(skip_locked=True) if lock else ordered)[:size])
            if page:
                handle(page)
        if not page:
            return
        yield len(page)
        tail = page[-1]
        assert tail.next_review_at is not None  # the filters above all require a date
        last = (tail.next_review_at, tail.pk)


def _notify(page: list[Applicant], now: datetime, change: Change, report: ReviewReport) -> int:
    """Record and announce the notice for one locked page: one UPDATE, one INSERT, then the signals."""
    ids = [applicant.pk for applicant in page]
    Applicant.objects.filter(pk__in=ids).update(review_notified_at=now, updated_at=now)
    audit_each(
        change,
        [
            (
                applicant,
                "",
                "",
                {"reason": applicant.review_reason, "due": applicant.next_review_at.isoformat()}
                if applicant.next_review_at
                else None,
            )
            for applicant in page
        ],
        action=AuditAction.REVIEW_DUE,
    )
    for applicant in page:
        applicant.review_notified_at = now
    announce_review_due(page)
    if kyc_settings.REVIEW_STARTS_VERIFICATION:
        for applicant in page:
            report.started += _start_reverification(applicant, change)
    return len(page)


def _start_reverification(applicant: Applicant, change: Change) -> int:
    """Start a verification on the backend of the applicant's last approval; a refusal (one already under way,
    a backend no longer configured) is logged and leaves the person to start it through the API."""
    approval = review_policy.standing_approval(applicant)
    try:
        with transaction.atomic():
            submission.start_verification(applicant, change, backend=approval.backend if approval else None)
    except (KycError, KycConfigurationError, ValidationError) as exc:
        logger.info("no re-verification started for applicant %s: %s", applicant.pk, type(exc).__name__)
        return 0
    return 1
