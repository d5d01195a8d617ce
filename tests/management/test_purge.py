"""``kyc_purge`` and the daily purge schedule."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from django_kyc import tasks
from django_kyc.management.commands.kyc_purge import progress_bar
from django_kyc.models import Applicant, AuditEvent
from django_kyc.schedules import PURGE_SCHEDULE_NAME, install_purge_schedule
from django_kyc.services import retention
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db


def run(*args: Any, **options: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def lapsed(make_applicant: Callable[..., Applicant], count: int) -> list[Applicant]:
    people = [make_applicant(last_name=f"Smith{n}") for n in range(count)]
    for person in people:
        retention.end_relationship(person, timezone.now() - timedelta(days=6 * 366))
    return people


def test_progress_bar() -> None:
    assert progress_bar(0, 4, width=8) == "[........] 0/4 applicants"
    assert progress_bar(2, 4, width=8) == "[####....] 2/4 applicants"
    assert progress_bar(0, 0, width=4) == "[####] 0/0 applicants"


def test_purge_command_works_in_batches_with_a_progress_bar(make_applicant: Callable[..., Applicant]) -> None:
    people = lapsed(make_applicant, 3)
    make_applicant(last_name="Current")  # relationship ongoing: never touched

    output = run("kyc_purge", "--batch-size", "2")

    lines = output.splitlines()
    assert lines[0].endswith("] 2/3 applicants")
    assert lines[1].endswith("] 3/3 applicants")
    assert lines[-1] == "3 applicant(s) due: purged=3; under legal hold=0."
    assert all(Applicant.objects.get(pk=p.pk).pii_redacted_at for p in people)
    assert Applicant.objects.get(last_name="Current").pii_redacted_at is None
    assert run("kyc_purge").splitlines()[-1] == "0 applicant(s) due: nothing due; under legal hold=0."  # idempotent


def test_purge_command_dry_run_changes_nothing(make_applicant: Callable[..., Applicant]) -> None:
    people = lapsed(make_applicant, 2)
    audit_rows = AuditEvent.objects.count()

    output = run("kyc_purge", "--dry-run")

    assert output.splitlines()[-1] == "Dry run: 2 applicant(s) due: would_purge=2; under legal hold=0."
    assert AuditEvent.objects.count() == audit_rows
    assert not any(Applicant.objects.get(pk=p.pk).pii_redacted_at for p in people)


def test_the_daily_task_purges(make_applicant: Callable[..., Applicant]) -> None:
    lapsed(make_applicant, 1)
    assert tasks.purge_expired() == "1 applicant(s) due: purged=1; under legal hold=0 outbound_events=0"


def test_purge_schedule_is_installed_once() -> None:
    assert Schedule.objects.filter(name=PURGE_SCHEDULE_NAME).exists()  # by migrate
    Schedule.objects.filter(name=PURGE_SCHEDULE_NAME).delete()

    output = run("kyc_install_schedules")
    assert f"Created schedule {PURGE_SCHEDULE_NAME!r}." in output
    assert install_purge_schedule() is False
    assert f"Updated schedule {PURGE_SCHEDULE_NAME!r}." in run("kyc_install_schedules")

    schedule = Schedule.objects.get(name=PURGE_SCHEDULE_NAME)
    assert schedule.func == "django_kyc.tasks.purge_expired"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1
    assert Schedule.objects.filter(func="django_kyc.tasks.purge_expired").count() == 1


def test_purge_schedule_can_be_turned_off() -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(RETENTION_PURGE_SCHEDULE=False)):
        assert "Removed schedule" in run("kyc_install_schedules")
    assert not Schedule.objects.filter(name=PURGE_SCHEDULE_NAME).exists()
