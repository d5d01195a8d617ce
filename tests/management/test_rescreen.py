"""The daily re-screening schedule and ``kyc_rescreen``."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from django_kyc import tasks
from django_kyc.models import AmlCheck, Applicant
from django_kyc.schedules import RESCREENING_SCHEDULE_NAME, install_rescreening_schedule
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_schedule_is_installed_once_and_runs_the_daily_task() -> None:
    assert Schedule.objects.filter(name=RESCREENING_SCHEDULE_NAME).exists()  # by migrate
    Schedule.objects.filter(name=RESCREENING_SCHEDULE_NAME).delete()
    assert f"Created schedule {RESCREENING_SCHEDULE_NAME!r}." in run("kyc_install_schedules")
    assert install_rescreening_schedule() is False
    schedule = Schedule.objects.get(name=RESCREENING_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "django_kyc.tasks.rescreen_due",
        Schedule.DAILY,
        -1,
    )
    assert Schedule.objects.filter(func="django_kyc.tasks.rescreen_due").count() == 1


def test_the_schedule_can_be_turned_off() -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(RESCREENING_SCHEDULE=False)):
        assert f"Removed schedule {RESCREENING_SCHEDULE_NAME!r}" in run("kyc_install_schedules")
    assert not Schedule.objects.filter(name=RESCREENING_SCHEDULE_NAME).exists()


def test_the_command_starts_what_is_due(make_applicant: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    applicant = make_applicant()
    make_verification(applicant, "approved")
    transitions.refresh_applicant(applicant.pk, Change.system())
    time_machine.move_to(timezone.now() + timedelta(days=366), tick=False)
    assert run("kyc_rescreen", "--batch-size", "10").strip() == (
        "Re-screening: screened=1 enrolled=0 skipped=0 failed=0 batches=1."
    )
    assert AmlCheck.objects.filter(applicant=applicant, check_type="rescreening").count() == 1
    assert tasks.rescreen_due().startswith("screened=0")
    assert Applicant.objects.get(pk=applicant.pk).next_screening_at > timezone.now()
