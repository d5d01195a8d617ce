"""After a load: the approved applicants a changed entry could match are made due, only when the ``lists``
backend is the one re-screenings use; and the daily schedule that runs it all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from django_kyc.models import Applicant
from django_kyc.sanctions.load import refresh_all
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList
from django_kyc.sanctions.rescreen import lists_backend_in_use, rescreen_changed
from django_kyc.sanctions.store import load_version
from django_kyc.schedules import SANCTIONS_LISTS_SCHEDULE_NAME, install_sanctions_lists_schedule
from django_kyc.status import ApplicantStatus
from django_kyc.tasks import refresh_sanctions_lists
from tests.sanctions.conftest import SAMPLES
from tests.support.kyc_settings import kyc_settings_with, suite_backends

pytestmark = pytest.mark.django_db

LISTS_CLASS = "django_kyc.backends.lists.ListsBackend"


def lists_settings(**changes: object) -> dict[str, object]:
    backends = suite_backends(lists={"CLASS": LISTS_CLASS})
    return kyc_settings_with(**{"BACKENDS": backends, "RESCREENING_BACKEND": "lists", **changes})


def approved(make_applicant: Callable[..., Applicant], first: str, last: str) -> Applicant:
    applicant = make_applicant(last_name=last, with_document=False)
    later = timezone.now() + timedelta(days=300)
    Applicant.objects.filter(pk=applicant.pk).update(
        first_name=first, status=ApplicantStatus.VERIFIED, next_screening_at=later, verified_at=timezone.now()
    )
    return Applicant.objects.get(pk=applicant.pk)


def test_the_lists_backend_is_recognised_by_its_class_path() -> None:
    assert not lists_backend_in_use()  # the suite's default is the sandbox
    with override_settings(DJANGO_KYC=lists_settings()):
        assert lists_backend_in_use()
    with override_settings(DJANGO_KYC=lists_settings(RESCREENING_BACKEND=None, DEFAULT_BACKEND="lists")):
        assert lists_backend_in_use()
    with override_settings(
        DJANGO_KYC=kyc_settings_with(BACKENDS=suite_backends(x={"CLASS": "no.such.Backend"}), RESCREENING_BACKEND="x")
    ):
        assert not lists_backend_in_use()


def test_applicants_a_changed_entry_could_match_become_due(make_applicant: Callable[..., Applicant]) -> None:
    karim = approved(make_applicant, "Karim", "Fenwardy")  # a phonetic key meets "FENWARD"
    other = approved(make_applicant, "Olga", "Pemberton")
    pending = make_applicant(last_name="Fenward", with_document=False)  # not approved: left alone
    parsed = ParsedList([ListedEntry("1", "person", [ListedName("KARIM FENWARD")])])
    version = load_version("un_sc", parsed)
    assert rescreen_changed(version) == 0  # the sandbox screens re-screenings: our lists change nothing there
    with override_settings(DJANGO_KYC=lists_settings()):
        assert rescreen_changed(version) == 1
        unchanged = load_version("un_sc", parsed)
        assert rescreen_changed(unchanged) == 0  # nothing added or changed
    karim.refresh_from_db()
    other.refresh_from_db()
    assert karim.next_screening_at is not None
    assert karim.next_screening_at <= timezone.now()
    assert other.next_screening_at is not None
    assert other.next_screening_at > timezone.now()
    assert Applicant.objects.get(pk=pending.pk).next_screening_at is None


def test_the_daily_task_loads_the_configured_lists_and_makes_applicants_due(
    make_applicant: Callable[..., Applicant],
) -> None:
    boris = approved(make_applicant, "Boris", "Kestrelov")
    urls = {"UK-Sanctions-List.xml": (SAMPLES / "UK-Sanctions-List.xml").as_uri()}
    with override_settings(DJANGO_KYC=lists_settings(SANCTIONS_LISTS={"uk_sl": urls})):
        summary = refresh_sanctions_lists()
        assert "uk_sl: version" in summary
        assert "1 applicant(s) due" in summary
        assert "unchanged" in refresh_sanctions_lists()
    boris.refresh_from_db()
    assert boris.next_screening_at is not None
    assert boris.next_screening_at <= timezone.now()


def test_one_failing_list_does_not_stop_the_others() -> None:
    run = refresh_all(
        ["un_sc", "uk_sl"],
        urls={
            "un_sc": {"consolidated.xml": "file:///nonexistent.xml"},
            "uk_sl": {"UK-Sanctions-List.xml": str(SAMPLES / "UK-Sanctions-List.xml")},
        },
    )
    assert list(run.failures) == ["un_sc"]
    assert [result.source for result in run.results] == ["uk_sl"]
    assert "un_sc: FAILED" in run.summary()


def test_the_schedule_is_installed_and_can_be_turned_off() -> None:
    assert Schedule.objects.filter(name=SANCTIONS_LISTS_SCHEDULE_NAME).exists()  # by migrate
    assert install_sanctions_lists_schedule() is False
    schedule = Schedule.objects.get(name=SANCTIONS_LISTS_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("django_kyc.tasks.refresh_sanctions_lists", Schedule.DAILY)
    with override_settings(DJANGO_KYC=kyc_settings_with(SANCTIONS_LISTS_SCHEDULE=False)):
        assert install_sanctions_lists_schedule() is None
    assert not Schedule.objects.filter(name=SANCTIONS_LISTS_SCHEDULE_NAME).exists()
