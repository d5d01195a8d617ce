"""Re-screening approved applicants: on a schedule by risk level, after a change of name, date of birth or
nationality, through ongoing monitoring where the provider offers it; with a frozen clock moved ahead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_kyc import signals, tasks
from django_kyc.backends.base import AmlResult, Capability
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.models import AmlCheck, Applicant, AuditEvent
from django_kyc.services import aml, rescreening, review, risk, transitions
from django_kyc.services.audit import Change
from django_kyc.services.rescreening import Outcome
from django_kyc.status import AmlHitStatus, AmlStatus, ApplicantStatus, AuditAction, RiskLevel, Source
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with, suite_backends

pytestmark = pytest.mark.django_db

T0 = datetime(2027, 7, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(T0, tick=False)
    return time_machine


def approve(make_applicant: Callable[..., Applicant], level: str = RiskLevel.LOW, **fields: Any) -> Applicant:
    """An applicant approved now: a decided verification, then the aggregate refreshed as a decision does."""
    applicant = make_applicant(**fields)
    Applicant.objects.filter(pk=applicant.pk).update(risk_level=level)  # set-up, not the change under test
    make_verification(applicant, "approved")
    transitions.refresh_applicant(applicant.pk, Change.system())
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.VERIFIED
    return applicant


def rescreenings(applicant: Applicant) -> list[AmlCheck]:
    return list(AmlCheck.objects.filter(applicant=applicant, check_type__in=rescreening.RESCREENING_TYPES))


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


# --- the schedule --------------------------------------------------------------------------------------------


def test_approval_schedules_the_next_screening_by_risk_level(
    clock: Any, make_applicant: Callable[..., Applicant]
) -> None:
    levels = {level: approve(make_applicant, level) for level in (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)}
    assert {level: applicant.next_screening_at for level, applicant in levels.items()} == {
        RiskLevel.LOW: at(365),
        RiskLevel.MEDIUM: at(180),
        RiskLevel.HIGH: at(30),
    }
    assert make_applicant().next_screening_at is None  # not approved: not on a schedule


def test_each_risk_level_is_screened_again_at_its_own_interval_a_year_on(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    low, medium, high = (approve(make_applicant, level) for level in (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH))
    ran: dict[float, tuple[int, int, int]] = {}
    for days in (29, 30, 31, 179, 180, 364, 365):
        clock.move_to(at(days), tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            rescreening.rescreen_due()
        ran[days] = (len(rescreenings(low)), len(rescreenings(medium)), len(rescreenings(high)))
    assert ran == {
        29: (0, 0, 0),
        30: (0, 0, 1),  # high: 30 days
        31: (0, 0, 1),  # screened yesterday: next on day 60
        179: (0, 0, 2),  # overdue since day 60 (no run in between): screened once, next 30 days from now
        180: (0, 1, 2),  # medium: 180 days
        364: (0, 2, 3),  # medium again (day 360), high again (day 209)
        365: (1, 2, 3),  # low: a year
    }
    high.refresh_from_db()
    assert high.next_screening_at == at(364 + 30)
    check = rescreenings(low)[0]
    assert (check.check_type, check.backend, check.status) == ("rescreening", "sandbox", AmlStatus.CLEAR)
    row = AuditEvent.objects.get(object_type="amlcheck", object_id=str(check.pk), action=AuditAction.CREATED)
    assert (row.actor_type, row.source, row.reason) == ("system", Source.TASK, "re-screening: scheduled")
    low.refresh_from_db()
    assert low.next_screening_at == at(365 + 365)


def test_a_higher_risk_level_shortens_the_wait_from_the_last_screening(
    clock: Any, make_applicant: Callable[..., Applicant], reviewer: Any
) -> None:
    applicant = approve(make_applicant, RiskLevel.LOW)
    clock.move_to(at(100), tick=False)
    risk.set_risk_level(applicant.pk, RiskLevel.HIGH, Change.by_user(reviewer, Source.ADMIN, reason_code="OTHER"))
    applicant.refresh_from_db()
    # counted from the approval (the last screening), at the high-risk pace: already due
    assert applicant.next_screening_at == at(30)
    assert rescreening.rescreen_due().screened == 1
    applicant.refresh_from_db()
    assert applicant.next_screening_at == at(130)
    risk.set_risk_level(applicant.pk, RiskLevel.MEDIUM, Change.by_user(reviewer, Source.ADMIN, reason_code="OTHER"))
    applicant.refresh_from_db()
    assert applicant.next_screening_at == at(100 + 180)


def test_an_interval_of_none_takes_a_level_off_the_schedule(
    clock: Any, make_applicant: Callable[..., Applicant]
) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(RESCREENING_INTERVAL_DAYS={"low": None, "high": 7})):
        low = approve(make_applicant, RiskLevel.LOW)
        high = approve(make_applicant, RiskLevel.HIGH)
        medium = approve(make_applicant, RiskLevel.MEDIUM)  # left out: keeps its default
    assert (low.next_screening_at, high.next_screening_at, medium.next_screening_at) == (None, at(7), at(180))


# --- idempotency ------------------------------------------------------------------------------------------


def test_running_the_job_twice_the_same_day_starts_one_check(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    applicant = approve(make_applicant, RiskLevel.HIGH)
    clock.move_to(at(30), tick=False)
    first = rescreening.rescreen_due()
    clock.move_to(at(30) + timedelta(hours=6), tick=False)
    second = rescreening.rescreen_due()
    assert (first.screened, second.screened, second.skipped) == (1, 0, 0)
    assert len(rescreenings(applicant)) == 1
    # the task a change would enqueue finds nothing due either
    assert rescreening.rescreen(applicant.pk) == Outcome.SKIPPED
    assert tasks.rescreen_due() == "screened=0 enrolled=0 skipped=0 failed=0 batches=0"


def test_an_applicant_with_a_screening_under_way_is_skipped_and_stays_due(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    applicant = approve(make_applicant, RiskLevel.HIGH)
    manual = aml.start_check(applicant, Change.system(Source.API), check_type="manual")  # pending: not run
    clock.move_to(at(30), tick=False)
    run = rescreening.rescreen_due()
    assert (run.screened, run.skipped) == (0, 1)
    applicant.refresh_from_db()
    assert applicant.next_screening_at == at(30)  # still due
    aml.run_check(manual.pk)  # the manual screening settles
    clock.move_to(at(31), tick=False)
    assert rescreening.rescreen_due().screened == 1


def test_a_wallet_check_under_way_does_not_hold_back_the_person_screening(
    clock: Any, make_applicant: Callable[..., Applicant]
) -> None:
    applicant = approve(make_applicant, RiskLevel.HIGH)
    aml.start_check(
        applicant, Change.system(Source.API), subject="wallet", blockchain="bitcoin", address="1CleanWallet"
    )
    clock.move_to(at(30), tick=False)
    assert rescreening.rescreen_due().screened == 1


def test_applicants_no_longer_approved_or_purged_are_not_screened(
    clock: Any, make_applicant: Callable[..., Applicant]
) -> None:
    suspended = approve(make_applicant, RiskLevel.HIGH)
    Applicant.objects.filter(pk=suspended.pk).update(status=ApplicantStatus.SUSPENDED)
    purged = approve(make_applicant, RiskLevel.HIGH)
    Applicant.objects.filter(pk=purged.pk).update(pii_redacted_at=T0)
    clock.move_to(at(400), tick=False)
    assert rescreening.rescreen_due().screened == 0
    assert not AmlCheck.objects.exists()


def test_a_backend_that_cannot_screen_is_a_failure_left_due(
    clock: Any, make_applicant: Callable[..., Applicant], caplog: pytest.LogCaptureFixture
) -> None:
    applicant = approve(make_applicant, RiskLevel.HIGH, last_name="Unscreenable")
    clock.move_to(at(30), tick=False)
    with override_settings(DJANGO_KYC=kyc_settings_with(RESCREENING_BACKEND="nowhere")):
        run = rescreening.rescreen_due()
    assert (run.screened, run.failed) == (0, 1)
    applicant.refresh_from_db()
    assert applicant.next_screening_at == at(30)
    assert str(applicant.pk) in caplog.text
    assert "Unscreenable" not in caplog.text  # no personal data in the log


# --- a change of the screened data ---------------------------------------------------------------------------


def test_a_name_change_rescreens_at_once(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    applicant = approve(make_applicant, RiskLevel.LOW)
    clock.move_to(at(40), tick=False)
    applicant.last_name = "Pepper"  # the sandbox finds a PEP under this name
    with django_capture_on_commit_callbacks(execute=True):
        applicant.save()
    (check,) = rescreenings(applicant)
    assert (check.check_type, check.status) == ("rescreening", AmlStatus.POTENTIAL_MATCH)
    row = AuditEvent.objects.get(object_type="amlcheck", object_id=str(check.pk), action=AuditAction.CREATED)
    assert row.reason == "re-screening: changed last_name"
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.REVIEW  # the new hit is in the AML queue; the applicant held
    assert applicant.next_screening_at == at(40 + 365)
    # the scheduled job the same day has nothing to do
    assert rescreening.rescreen_due().screened == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_name", "Janet"), ("date_of_birth", date(1990, 2, 3)), ("nationality", "FR"), ("middle_name", "")],
)
def test_every_screened_field_triggers_a_rescreening(
    clock: Any,
    make_applicant: Callable[..., Applicant],
    django_capture_on_commit_callbacks: Any,
    field: str,
    value: Any,
) -> None:
    applicant = approve(make_applicant, middle_name="Ann", date_of_birth=date(1990, 1, 2))
    setattr(applicant, field, value)
    with django_capture_on_commit_callbacks(execute=True):
        applicant.save(update_fields=[field, "updated_at"])
    assert len(rescreenings(applicant)) == 1


def test_changes_that_are_not_a_new_identity_trigger_nothing(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    applicant = approve(make_applicant)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        applicant.email = "new@example.com"  # not screened
        applicant.city = "Leeds"
        applicant.save()
        same = Applicant.objects.get(pk=applicant.pk)
        same.last_name = "Smith"  # the same value again
        same.save(update_fields=["last_name"])
        same.date_of_birth = date(1980, 5, 6)  # a blank filled in (a provider completing what it read)
        same.save(update_fields=["date_of_birth"])
    assert callbacks == []
    unverified = make_applicant()
    unverified.last_name = "Pepper"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        unverified.save()
    assert callbacks == []  # not approved: the onboarding screening is the site's own
    assert not AmlCheck.objects.exists()


def test_a_change_while_a_screening_runs_is_screened_by_the_next_daily_run(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    applicant = approve(make_applicant, RiskLevel.LOW)
    aml.start_check(applicant, Change.system(Source.API), check_type="manual")  # pending
    applicant.first_name = "Janet"
    with django_capture_on_commit_callbacks(execute=True):
        applicant.save()
    assert rescreenings(applicant) == []
    applicant.refresh_from_db()
    assert applicant.next_screening_at == T0  # due: not forgotten
    AmlCheck.objects.filter(applicant=applicant).update(status=AmlStatus.CLEAR)
    clock.move_to(at(1), tick=False)
    assert rescreening.rescreen_due().screened == 1


# --- a confirmed match ------------------------------------------------------------------------------------


@pytest.fixture
def opened() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receive(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    signals.screening_review_opened.connect(receive)
    yield received
    signals.screening_review_opened.disconnect(receive)


def test_a_confirmed_rescreening_match_raises_the_risk_and_opens_a_review(
    clock: Any,
    make_applicant: Callable[..., Applicant],
    django_capture_on_commit_callbacks: Any,
    reviewer: Any,
    opened: list[dict[str, Any]],
) -> None:
    applicant = approve(make_applicant, RiskLevel.LOW)
    Applicant.objects.filter(pk=applicant.pk).update(last_name="Pep-Sanction")  # the lists changed, not the name
    clock.move_to(at(365), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        rescreening.rescreen_due()
    (check,) = rescreenings(applicant)
    assert check.status == AmlStatus.POTENTIAL_MATCH
    pep, sanction = check.hits.order_by("entity_id")
    with django_capture_on_commit_callbacks(execute=True):
        review.decide_hit(pep.pk, AmlHitStatus.FALSE_POSITIVE, user=reviewer, reason_code="OTHER")
    assert opened == []  # not confirmed yet
    with django_capture_on_commit_callbacks(execute=True):
        review.decide_hit(sanction.pk, AmlHitStatus.TRUE_POSITIVE, user=reviewer, reason_code="SANCTIONS_MATCH")
    applicant.refresh_from_db()
    assert (applicant.risk_level, applicant.status) == (RiskLevel.HIGH, ApplicantStatus.SUSPENDED)
    row = AuditEvent.objects.get(applicant_id=applicant.pk, action=AuditAction.RISK_CHANGED)
    assert (row.from_status, row.to_status, row.actor, row.reason_code) == ("low", "high", reviewer, "SANCTIONS_MATCH")
    assert row.reason == f"confirmed match in AML re-screening {check.pk}"
    # the review is open: due now in the due-for-review queue, for the screening hit
    assert applicant.review_reason == "screening_hit"
    assert applicant.next_review_at is not None
    assert applicant.next_review_at <= timezone.now()
    assert len(opened) == 1
    assert opened[0]["applicant"].pk == applicant.pk
    assert opened[0]["aml_check"].pk == check.pk
    assert (opened[0]["risk_level"], opened[0]["previous_risk_level"], opened[0]["reason"]) == (
        "high",
        "low",
        "screening_hit",
    )


def test_a_confirmed_match_of_the_onboarding_screening_opens_no_screening_review(
    make_applicant: Callable[..., Applicant],
    django_capture_on_commit_callbacks: Any,
    reviewer: Any,
    opened: list[dict[str, Any]],
) -> None:
    applicant = approve(make_applicant, RiskLevel.LOW, last_name="Pepper")
    with django_capture_on_commit_callbacks(execute=True):
        check = aml.start_check(applicant, Change.system(Source.API))
    with django_capture_on_commit_callbacks(execute=True):
        review.decide_hit(check.hits.get().pk, "true_positive", user=reviewer, reason_code="SANCTIONS_MATCH")
    applicant.refresh_from_db()
    assert (applicant.status, applicant.risk_level, opened) == (ApplicantStatus.SUSPENDED, RiskLevel.LOW, [])


def test_a_confirmed_match_never_lowers_the_risk(
    make_applicant: Callable[..., Applicant],
    django_capture_on_commit_callbacks: Any,
    reviewer: Any,
    opened: list[dict[str, Any]],
) -> None:
    applicant = approve(make_applicant, RiskLevel.PROHIBITED, last_name="Pepper")
    Applicant.objects.filter(pk=applicant.pk).update(next_screening_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        rescreening.rescreen_due()
    (check,) = rescreenings(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        review.decide_hit(check.hits.get().pk, "true_positive", user=reviewer, reason_code="SANCTIONS_MATCH")
    applicant.refresh_from_db()
    assert applicant.risk_level == RiskLevel.PROHIBITED
    assert not AuditEvent.objects.filter(action=AuditAction.RISK_CHANGED).exists()
    assert [(o["risk_level"], o["previous_risk_level"]) for o in opened] == [("prohibited", "prohibited")]


# --- ongoing monitoring ------------------------------------------------------------------------------------


class MonitoringSandbox(SandboxBackend):
    """A sandbox whose provider monitors enrolled people: a re-screening must enrol, never screen."""

    capabilities = frozenset({*SandboxBackend.capabilities, Capability.AML_MONITORING})
    enrolled: list[str] = []

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        raise AssertionError("a provider with ongoing monitoring is not screened again")

    def enrol_monitoring(self, aml_check: AmlCheck) -> AmlResult:
        type(self).enrolled.append(str(aml_check.applicant_id))
        return AmlResult(status=AmlStatus.CLEAR, provider_status="monitored", monitored=True)


def test_a_provider_with_ongoing_monitoring_enrols_instead_of_screening_again(
    clock: Any, make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    MonitoringSandbox.enrolled = []
    backends = suite_backends(monitor={"CLASS": f"{__name__}.MonitoringSandbox", "OPTIONS": {"DECISION_DELAY": 0}})
    applicant = approve(make_applicant, RiskLevel.MEDIUM)
    plain = approve(make_applicant, RiskLevel.MEDIUM)
    AmlCheck.objects.create(applicant=applicant, backend="monitor", status=AmlStatus.CLEAR)  # onboarding screening
    clock.move_to(at(180), tick=False)
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = rescreening.rescreen_due()
    assert (run.enrolled, run.screened) == (1, 1)
    assert MonitoringSandbox.enrolled == [str(applicant.pk)]
    (enrolment,) = rescreenings(applicant)
    assert (enrolment.check_type, enrolment.backend, enrolment.monitored, enrolment.status) == (
        "ongoing",
        "monitor",
        True,
        AmlStatus.CLEAR,
    )
    (screening,) = rescreenings(plain)  # screened last by nobody: DEFAULT_BACKEND, which screens
    assert (screening.check_type, screening.backend) == ("rescreening", "sandbox")


# --- constant cost per batch ------------------------------------------------------------------------------


def test_the_queries_per_batch_do_not_grow_with_the_number_of_applicants(
    clock: Any, make_applicant: Callable[..., Applicant]
) -> None:
    """Each batch is one keyset query plus the same few statements per applicant started, however many
    applicants there are (due or not): no query per applicant read, no offset that grows."""

    def queries(**run: Any) -> tuple[int, rescreening.RescreeningRun]:
        with CaptureQueriesContext(connection) as captured:
            result = rescreening.rescreen_due(**run)
        return len(captured), result

    def make(count: int, due_at: datetime) -> None:
        ids = [approve(make_applicant, RiskLevel.HIGH, with_document=False).pk for _ in range(count)]
        Applicant.objects.filter(pk__in=ids).update(next_screening_at=due_at)  # set-up: when each is due

    make(4, T0)
    one_batch, run = queries(batch_size=4)  # four started, then an empty batch ends the run
    assert (run.screened, run.batches) == (4, 1)

    make(40, at(1000))  # not due: never read
    make(4, T0)
    among_many, run = queries(batch_size=4)
    assert run.screened == 4
    assert among_many == one_batch

    make(12, T0)
    three_batches, run = queries(batch_size=4)
    assert (run.screened, run.batches) == (12, 3)
    assert three_batches == 3 * (one_batch - 1) + 1


def test_the_migration_schedules_applicants_approved_before_it(make_applicant: Callable[..., Applicant]) -> None:
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("django_kyc.migrations.0017_rescreening")
    high = approve(make_applicant, RiskLevel.HIGH)
    pending = make_applicant()
    Applicant.objects.filter(pk__in=[high.pk, pending.pk]).update(next_screening_at=None, verified_at=T0)
    migration.schedule_approved(apps, SimpleNamespace(connection=connection))
    high.refresh_from_db()
    pending.refresh_from_db()
    assert (high.next_screening_at, pending.next_screening_at) == (at(30), None)
