"""The daily review run at scale: a fixed number of statements per page whatever the size of the book (the
100,000-applicant run is ``bench.bulk``'s ``review``), keyset paging, the schedule and the command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_kyc.models import Applicant, AuditEvent
from django_kyc.schedules import REVIEW_SCHEDULE_NAME, install_on_migrate, install_review_schedule
from django_kyc.services import due_diligence
from django_kyc.status import ApplicantStatus, AuditAction
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db

PAGE = 5


def seed(count: int, *, due_in: timedelta, offset: int = 0) -> None:
    """``count`` verified applicants whose review falls due ``due_in`` from now (set-up, written directly)."""
    now = timezone.now()
    Applicant.objects.bulk_create(
        Applicant(
            first_name="A",
            last_name=f"N{offset + i}",
            status=ApplicantStatus.VERIFIED,
            next_review_at=now + due_in + timedelta(seconds=i % 3),  # ties on the date: the id breaks them
            review_reason="periodic",
        )
        for i in range(count)
    )


def queries_per_page(django_capture_on_commit_callbacks: Any) -> tuple[due_diligence.ReviewReport, list[int]]:
    """Run once; the statements each page took (read from the progress callback after every page)."""
    marks: list[int] = []
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        report = due_diligence.run_reviews(batch_size=PAGE, progress=lambda _r: marks.append(len(queries)))
    return report, [after - before for before, after in zip([0, *marks], marks, strict=False)]


def test_statements_per_page_do_not_grow_with_the_book(django_capture_on_commit_callbacks: Any) -> None:
    seed(3 * PAGE, due_in=timedelta(days=-1))  # due: noticed, then lapsed
    seed(400, due_in=timedelta(days=400), offset=100)  # the rest of the book, not due
    small, small_counts = queries_per_page(django_capture_on_commit_callbacks)
    assert (small.noticed, small.lapsed, small.pages) == (3 * PAGE, 3 * PAGE, 6)

    seed(9 * PAGE, due_in=timedelta(days=-2), offset=1000)
    seed(2000, due_in=timedelta(days=800), offset=5000)
    large, large_counts = queries_per_page(django_capture_on_commit_callbacks)
    assert (large.noticed, large.lapsed, large.pages) == (9 * PAGE, 9 * PAGE, 18)

    notice_small, lapse_small = small_counts[:3], small_counts[3:]
    notice_large, lapse_large = large_counts[:9], large_counts[9:]
    # every page of a pass costs the same, in a small book and a large one (the lapse pass's first page also
    # carries the notice pass's last, empty read)
    assert len(set(notice_small + notice_large)) == 1, (notice_small, notice_large)
    assert len(set(lapse_small[1:] + lapse_large[1:])) == 1, (lapse_small, lapse_large)
    assert lapse_small[0] == lapse_large[0]
    # and few: the notice is a read, an UPDATE, one INSERT of audit rows and one read of the event endpoints
    # (plus the page's transaction); the lapse adds the status UPDATE and the reads of the endpoints for its two
    # event types (applicant.status_changed, applicant.reverification_required), in a savepoint
    assert notice_small[0] <= 6, notice_small
    assert lapse_small[1] <= 13, lapse_small
    assert AuditEvent.objects.filter(action=AuditAction.REVIEW_DUE).count() == 12 * PAGE


def test_keyset_paging_visits_rows_left_behind_once(django_capture_on_commit_callbacks: Any) -> None:
    """Applicants the lapse pass cannot move (a re-verification holds them in review) stay in the filter; the
    keyset steps past them instead of reading them again on every page."""
    seed(2 * PAGE, due_in=timedelta(days=-1))
    report = due_diligence.run_reviews(batch_size=PAGE)
    assert report.lapsed == 2 * PAGE
    seed(2 * PAGE + 1, due_in=timedelta(days=-1), offset=50)
    real = due_diligence.transitions.require_reverification
    seen: list[Any] = []

    def refuse(ids: list[Any], change: Any) -> list[Any]:
        seen.extend(ids)
        return []

    due_diligence.transitions.require_reverification = refuse  # type: ignore[assignment]
    try:
        report = due_diligence.run_reviews(batch_size=PAGE)
    finally:
        due_diligence.transitions.require_reverification = real  # type: ignore[assignment]
    assert report.lapsed == 0
    assert len(seen) == len(set(seen)) == 2 * PAGE + 1


def test_a_second_run_finds_nothing(django_capture_on_commit_callbacks: Any) -> None:
    seed(7, due_in=timedelta(days=10))
    assert due_diligence.run_reviews(batch_size=PAGE).noticed == 7
    again = due_diligence.run_reviews(batch_size=PAGE)
    assert (again.noticed, again.lapsed) == (0, 0)


def test_the_daily_schedule_is_installed_on_migrate_and_removed_when_off() -> None:
    from django_q.models import Schedule

    install_on_migrate(sender=None)
    schedule = Schedule.objects.get(name=REVIEW_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "django_kyc.tasks.run_reviews",
        Schedule.DAILY,
        -1,
    )
    assert install_review_schedule() is False  # idempotent: updated, not a second one
    assert Schedule.objects.filter(name=REVIEW_SCHEDULE_NAME).count() == 1
    with override_settings(DJANGO_KYC=kyc_settings_with(REVIEW_SCHEDULE=False)):
        assert install_review_schedule() is None
    assert not Schedule.objects.filter(name=REVIEW_SCHEDULE_NAME).exists()


def test_the_task_and_the_command_run_the_same_service(capsys: pytest.CaptureFixture[str]) -> None:
    from django_kyc import tasks

    seed(3, due_in=timedelta(days=-1))
    assert tasks.run_reviews() == "review notices=3 lapsed=3 verifications started=0 pages=2"
    call_command("kyc_review", "--progress", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "Done: review notices=0 lapsed=0" in out


def test_notices_and_lapses_are_events_for_the_sites_services(django_capture_on_commit_callbacks: Any) -> None:
    from django_kyc.models import OutboundEvent
    from tests.services.test_events import endpoint

    endpoint(types=["applicant.review_due", "applicant.reverification_required", "applicant.status_changed"])
    seed(2, due_in=timedelta(days=-1))
    with django_capture_on_commit_callbacks(execute=False):
        due_diligence.run_reviews(batch_size=PAGE)
    applicants = {str(pk) for pk in Applicant.objects.values_list("pk", flat=True)}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in OutboundEvent.objects.order_by("occurred_at"):
        by_type.setdefault(event.event_type, []).append(event.data)
    assert {data["applicant_id"] for data in by_type["applicant.review_due"]} == applicants
    assert {data["reason"] for data in by_type["applicant.review_due"]} == {"periodic"}
    assert {data["applicant_id"] for data in by_type["applicant.reverification_required"]} == applicants
    assert [(data["from_status"], data["to_status"]) for data in by_type["applicant.status_changed"]] == [
        ("verified", "reverification_required")
    ] * 2
