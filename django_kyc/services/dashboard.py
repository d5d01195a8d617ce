"""Numbers for the review dashboard, from aggregate queries over a window of days.

Kept apart from the admin view so they can be tested on known data and reused (a report command, an API).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, Q, Sum, Value, When
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from django_kyc.models import Applicant, RejectionReason, Verification, WebhookRejection
from django_kyc.status import ApplicantStatus, ReviewReason, VerificationStatus

V = VerificationStatus


@dataclass(frozen=True)
class BackendStats:
    """Outcomes of one backend in the window: decisions are verifications approved or declined in it."""

    backend: str
    approved: int
    declined: int
    median_seconds: float | None

    @property
    def decided(self) -> int:
        return self.approved + self.declined

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.decided if self.decided else None


def window_start(days: int, now: datetime | None = None) -> datetime:
    """Midnight (current time zone) ``days - 1`` days ago, so the window is ``days`` whole calendar days."""
    now = timezone.localtime(now or timezone.now())
    return (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def status_series(days: int, now: datetime | None = None) -> tuple[list[date], dict[str, list[int]]]:
    """Verifications created per day, split by their current status: one grouped query.

    Only statuses that occur get a series, in the order of :class:`VerificationStatus`.
    """
    start = window_start(days, now)
    first = start.date()
    dates = [first + timedelta(days=i) for i in range(days)]
    rows = (
        Verification.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[date, str], int] = {(row["day"], row["status"]): row["n"] for row in rows}
    present = {status for _, status in counts}
    series = {status: [counts.get((day, status), 0) for day in dates] for status in V.values if status in present}
    return dates, series


def median_seconds(durations: list[timedelta]) -> float | None:
    """The median of durations in seconds (the mean of the middle two for an even count), or ``None``."""
    return statistics.median(d.total_seconds() for d in durations) if durations else None


def backend_stats(days: int, now: datetime | None = None) -> list[BackendStats]:
    """Approval rate and median time to decision per backend, for decisions made in the window.

    Time to decision runs from the verification's creation to its ``decided_at``. The counts are one
    aggregate query; the median reads only the two timestamps of decided rows in the window, because a
    portable median (SQLite has no ``percentile_cont``) cannot be done in SQL.
    """
    start = window_start(days, now)
    decided = Verification.objects.filter(status__in=[V.APPROVED, V.DECLINED], decided_at__gte=start)
    counts = (
        decided.values("backend")
        .annotate(approved=Count("pk", filter=Q(status=V.APPROVED)), declined=Count("pk", filter=Q(status=V.DECLINED)))
        .order_by("backend")
    )
    durations: dict[str, list[timedelta]] = {}
    for backend, created_at, decided_at in decided.values_list("backend", "created_at", "decided_at").order_by():
        if decided_at is not None:  # always set for these statuses; the check is for the type checker
            durations.setdefault(backend, []).append(decided_at - created_at)
    return [
        BackendStats(
            backend=row["backend"],
            approved=row["approved"],
            declined=row["declined"],
            median_seconds=median_seconds(durations.get(row["backend"], [])),
        )
        for row in counts
    ]


@dataclass(frozen=True)
class RejectionTotal:
    """Refused webhook deliveries of one endpoint for one reason, summed over the window."""

    backend: str  # "" for aliases that are not configured
    reason: str
    count: int

    @property
    def reason_label(self) -> str:
        return str(RejectionReason(self.reason).label) if self.reason in RejectionReason.values else self.reason


def rejection_totals(days: int, now: datetime | None = None) -> list[RejectionTotal]:
    """Refused webhook deliveries per endpoint and reason over the window, most frequent first: one query over
    the daily counters (the counters are dated in ``TIME_ZONE``)."""
    first = window_start(days, now).date()
    rows = (
        WebhookRejection.objects.filter(day__gte=first)
        .values("backend", "reason")
        .annotate(total=Sum("count"))
        .order_by("-total", "backend", "reason")
    )
    return [RejectionTotal(row["backend"], row["reason"], row["total"]) for row in rows]


def humanise_seconds(seconds: float | None) -> str:
    """``"42s"``, ``"17m"``, ``"3.5h"``, ``"2.1d"``: short enough for a chart label, in the active language's
    number format and units."""
    if seconds is None:
        return gettext("n/a")
    if seconds < 60:
        return gettext("%(value)ss") % {"value": number_format(seconds, 0)}
    if seconds < 3600:
        return gettext("%(value)sm") % {"value": number_format(seconds / 60, 0)}
    if seconds < 86400:
        return gettext("%(value)sh") % {"value": number_format(seconds / 3600, 1)}
    return gettext("%(value)sd") % {"value": number_format(seconds / 86400, 1)}


#: The upcoming-reviews chart's first column: everything already past its date.
OVERDUE = "overdue"


def upcoming_reviews(months: int = 12, now: datetime | None = None) -> tuple[list[str], dict[str, list[int]]]:
    """Reviews falling due per calendar month (``"2027-08"``) from this month on, split by reason, with the
    overdue ones (still unresolved, whatever month they fell due) in a first column: one grouped query.

    Rejected applicants have nothing left to review; everyone else with a date is counted.
    """
    now = timezone.localtime(now or timezone.now())
    first = now.date().replace(day=1)
    keys = []
    year, month = first.year, first.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = timezone.make_aware(datetime(year, month, 1), timezone.get_current_timezone())
    rows = (
        Applicant.objects.exclude(status=ApplicantStatus.REJECTED)
        .filter(next_review_at__lt=end)
        .annotate(
            month=TruncMonth("next_review_at", tzinfo=timezone.get_current_timezone()),
            overdue=Case(When(next_review_at__lte=now, then=Value(True)), default=Value(False)),
        )
        .values("month", "overdue", "review_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        key = OVERDUE if row["overdue"] else f"{row['month']:%Y-%m}"
        counts[(key, row["review_reason"])] = counts.get((key, row["review_reason"]), 0) + row["n"]
    labels = [OVERDUE, *keys]
    present = {reason for _, reason in counts}
    series = {
        reason: [counts.get((label, reason), 0) for label in labels]
        for reason in ReviewReason.values
        if reason in present
    }
    return labels, series
