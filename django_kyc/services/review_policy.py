"""The review policy: when an approved applicant must be reviewed again, and the one writer of that date.

Customer due diligence does not end at approval (EU AML Regulation Art. 26: data brought up to date at least
every year for high-risk customers and every five years for the others, and whenever circumstances change),
and an identity document that expires no longer identifies anyone. So every applicant with a standing
approval carries ``next_review_at``: the earlier of

* the periodic date: the approval plus ``REVIEW_INTERVAL_MONTHS`` for the applicant's risk level (per country
  in ``REVIEW_INTERVAL_MONTHS_BY_COUNTRY``), and
* the document date: the earliest expiry date of the identity documents that approval relied on (ours, or
  the provider's reading when it differs), plus ``DOCUMENT_EXPIRY_GRACE_DAYS``.

:func:`reschedule` recomputes it when a verification is decided (the transition service calls it) and when
the risk level changes (:func:`django_kyc.services.risk.set_risk_level`); :func:`open_review` brings it
forward for a reason found elsewhere (a screening hit). Both write an audit row for every change. What
happens when the date comes is the daily run's (:mod:`django_kyc.services.due_diligence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from django_kyc.conf import kyc_settings
from django_kyc.models import Applicant, Document, Verification
from django_kyc.services.audit import Change, audit
from django_kyc.status import (
    VERIFICATION_DECISIONS,
    ApplicantStatus,
    AuditAction,
    DocumentStatus,
    ReviewReason,
    RiskLevel,
    VerificationStatus,
)

#: What made :func:`reschedule` run, recorded on its audit row.
TRIGGER_VERIFICATION = "verification"
TRIGGER_RISK = "risk_change"

#: Documents that identify the person: their expiry ends what a verification established. (A utility bill or
#: a selfie does not expire in that sense.)
IDENTITY_DOCUMENT_TYPES = ("passport", "id_card", "driving_licence", "residence_permit")
#: Documents no longer on file as evidence: their expiry says nothing about the current approval.
DEAD_DOCUMENT_STATUSES = (DocumentStatus.REJECTED, DocumentStatus.EXPIRED, DocumentStatus.PURGED)
#: The provider's reading of a document (``transitions.DOCUMENT_READINGS``; not imported, to keep this module
#: below the transition service).
DOCUMENT_READINGS = "document_readings"
#: Where the applicant has nothing that a review could take away, there is no review date.
NO_REVIEW = frozenset({ApplicantStatus.UNVERIFIED, ApplicantStatus.REJECTED})


# --- the policy (settings → dates) -------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months; a day the target month lacks becomes its last day (31 Jan + 1 → 28/29 Feb)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=min(moment.day, day))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {moment}")  # pragma: no cover - day 28 always exists


def interval_months(risk_level: str, country: str = "") -> int | None:
    """The review interval for a risk level in a country; ``None`` for a level with none (``prohibited``)."""
    intervals: dict[str, Any] = dict(kyc_settings.REVIEW_INTERVAL_MONTHS)
    by_country = kyc_settings.REVIEW_INTERVAL_MONTHS_BY_COUNTRY
    if isinstance(by_country, Mapping) and country and isinstance(by_country.get(country.upper()), Mapping):
        intervals.update(by_country[country.upper()])
    value = intervals.get(risk_level)
    return int(value) if value is not None and risk_level != RiskLevel.PROHIBITED else None


def notice_period() -> timedelta:
    return timedelta(days=int(kyc_settings.REVIEW_NOTICE_DAYS))


def notice_opens_at(due: datetime) -> datetime:
    """When the person is asked to act for a review due at ``due``."""
    return due - notice_period()


def document_lapses_at(expiry: date) -> datetime:
    """The moment a document expiring on ``expiry`` stops counting: the start of its expiry date (in the current
    time zone) plus the grace period. With no grace, a document is not relied on on the day it expires."""
    day = expiry + timedelta(days=int(kyc_settings.DOCUMENT_EXPIRY_GRACE_DAYS))
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def action_required(applicant: Applicant, now: datetime | None = None) -> bool:
    """Whether the person is asked to do something now: resubmit, verify again after a lapsed review, or
    verify again because a review's notice period has opened. Reads only the row (no query per API row)."""
    if applicant.status in (ApplicantStatus.ACTION_REQUIRED, ApplicantStatus.REVERIFICATION_REQUIRED):
        return True
    return review_notice_open(applicant, now)


def review_notice_open(applicant: Applicant, now: datetime | None = None) -> bool:
    """A verified applicant whose review falls due within the notice period: a re-verification may start."""
    due = applicant.next_review_at
    return (
        applicant.status == ApplicantStatus.VERIFIED
        and due is not None
        and notice_opens_at(due) <= (now or timezone.now())
    )


# --- computing the date ------------------------------------------------------------------------------


def _standing_approvals(applicant: Applicant) -> QuerySet[Verification]:
    """The approvals the applicant's ``verified`` may rest on, newest first: every approval, unless a review
    lapsed (then only those after the lapse count)."""
    approvals = Verification.objects.filter(
        applicant_id=applicant.pk, status=VerificationStatus.APPROVED, decided_at__isnull=False
    )
    if applicant.reverification_required_at is not None:
        approvals = approvals.filter(decided_at__gte=applicant.reverification_required_at)
    return approvals.order_by("-decided_at")


def standing_approval(applicant: Applicant) -> Verification | None:
    """The approval the applicant's ``verified`` rests on: the newest of :func:`_standing_approvals`."""
    return _standing_approvals(applicant).first()


def relied_on_expiry(applicant: Applicant, approval: Verification) -> date | None:
    """The earliest expiry date among the identity documents ``approval`` relied on: those on file since the
    decision before it (a re-verification with a new passport does not inherit the old one's date), ours or
    the provider's reading of them, whichever is earlier."""
    previous = (
        Verification.objects.filter(
            applicant_id=applicant.pk, status__in=list(VERIFICATION_DECISIONS), decided_at__lt=approval.decided_at
        )
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    documents = Document.objects.filter(
        applicant_id=applicant.pk, type__in=IDENTITY_DOCUMENT_TYPES, expiry_date__isnull=False
    ).exclude(status__in=DEAD_DOCUMENT_STATUSES)
    if previous is not None:
        documents = documents.filter(created_at__gt=previous)
    dates: dict[str, date] = {
        str(pk): expiry for pk, expiry in documents.values_list("pk", "expiry_date") if expiry is not None
    }
    readings = (approval.provider_data or {}).get(DOCUMENT_READINGS) or {}
    for document_id in dates:
        read = ((readings.get(document_id) or {}).get("mismatches") or {}).get("expiry_date")
        parsed = parse_date(str(read)) if read else None
        if parsed is not None:
            dates[document_id] = min(dates[document_id], parsed)
    return min(dates.values(), default=None)


def compute_next_review(
    applicant: Applicant, trigger: str = TRIGGER_VERIFICATION, now: datetime | None = None
) -> tuple[datetime | None, str]:
    """``(next_review_at, review_reason)`` for the applicant as it is now (see the module doc).

    Without a standing approval there is nothing to review, except after a lapse: the date that lapsed stays
    until a new approval (or a decline) settles it, so the queue keeps showing the applicant. A review opened
    on purpose (a screening hit) stands until a verification is decided, even when the policy alone would
    put the date later.
    """
    now = now or timezone.now()
    current = (applicant.next_review_at, applicant.review_reason)
    if applicant.status in NO_REVIEW:
        return None, ""
    # the date needs the approval's decision time and the provider's readings, not the rest of its 54 columns
    approval = _standing_approvals(applicant).only("pk", "applicant_id", "decided_at", "provider_data").first()
    if approval is None or approval.decided_at is None:
        return current if applicant.reverification_required_at is not None else (None, "")
    months = interval_months(applicant.risk_level, applicant.country or applicant.nationality)
    if months is None:
        candidates = [(now, ReviewReason.RISK_CHANGE)]  # a prohibited level is never approved: review now
    else:
        candidates = [(add_months(approval.decided_at, months), ReviewReason.PERIODIC)]
    expiry = relied_on_expiry(applicant, approval)
    if expiry is not None:
        candidates.append((document_lapses_at(expiry), ReviewReason.DOCUMENT_EXPIRY))
    due, reason = min(candidates, key=lambda candidate: candidate[0])
    if trigger == TRIGGER_RISK and reason == ReviewReason.PERIODIC and (current[0] is None or due < current[0]):
        reason = ReviewReason.RISK_CHANGE  # the new level brought the review forward
    if due == current[0]:
        reason = ReviewReason(current[1]) if current[1] in ReviewReason.values else reason
    opened = current[1] == ReviewReason.SCREENING_HIT and current[0] is not None and current[0] < due
    if opened and trigger != TRIGGER_VERIFICATION:
        return current
    return due, str(reason)


# --- writing it (audited) ----------------------------------------------------------------------------


def reschedule(
    applicant_id: Any, change: Change, *, trigger: str = TRIGGER_VERIFICATION, locked: Applicant | None = None
) -> Applicant:
    """Recompute the applicant's next review; a new date (or reason) is saved with an audit row.

    Called inside the transaction of the change that causes it (a decision, a risk change), so the date
    commits or rolls back with that change. A new date resets the notice: the person is asked again when
    the new date's notice period opens. No savepoint of its own, for the same reason: a failure here must
    undo the change that caused it, so there is nothing to roll back to halfway (and every decision saves
    the two round trips).

    ``locked``: the applicant, locked by the caller's transaction and as it last saved it (a decision that
    refreshed the aggregate holds it); it is not read and locked again.
    """
    if locked is not None and not transaction.get_connection().in_atomic_block:
        raise TypeError("reschedule(locked=...) needs the caller's transaction that holds the lock")
    with transaction.atomic(savepoint=False):
        applicant = locked if locked is not None else Applicant.objects.select_for_update().get(pk=applicant_id)
        due, reason = compute_next_review(applicant, trigger)
        _write(applicant, due, reason, change, trigger)
        return applicant


def open_review(applicant_id: Any, reason: str, change: Change, *, due_at: datetime | None = None) -> Applicant:
    """Bring the next review forward to ``due_at`` (default: now) for ``reason`` — for causes the policy
    cannot see, such as a confirmed screening hit. A review already due earlier keeps its date."""
    if reason not in ReviewReason.values:
        raise ValueError(f"unknown review reason {reason!r}")
    due_at = due_at or timezone.now()
    with transaction.atomic():
        applicant = Applicant.objects.select_for_update().get(pk=applicant_id)
        if applicant.status in NO_REVIEW:
            return applicant
        if applicant.next_review_at is not None and applicant.next_review_at <= due_at:
            return applicant
        _write(applicant, due_at, reason, change, "opened")
        return applicant


def _write(applicant: Applicant, due: datetime | None, reason: str, change: Change, trigger: str) -> None:
    old_due, old_reason = applicant.next_review_at, applicant.review_reason
    if (due, reason) == (old_due, old_reason):
        return
    fields = ["next_review_at", "review_reason", "updated_at"]
    applicant.next_review_at, applicant.review_reason = due, reason
    if due != old_due:
        applicant.review_notified_at = None
        fields.append("review_notified_at")
    applicant.save(update_fields=fields)
    audit(
        change,
        obj=applicant,
        applicant_id=applicant.pk,
        action=AuditAction.REVIEW_SCHEDULED,
        from_status=_day(old_due),
        to_status=_day(due),
        data={
            "next_review_at": due.isoformat() if due else None,
            "previous": old_due.isoformat() if old_due else None,
            "reason": reason,
            "previous_reason": old_reason,
            "trigger": trigger,
        },
    )


def _day(moment: datetime | None) -> str:
    return timezone.localdate(moment).isoformat() if moment is not None else ""
