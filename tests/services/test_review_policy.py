"""Periodic review and document expiry, with a frozen clock moved years ahead: when the next review falls due
(by risk level, country and identity documents), the notice, the lapse to ``reverification_required``, and
the way back through a new approval. Runs on SQLite and PostgreSQL (``DATABASE_URL``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_kyc import signals
from django_kyc.backends.base import DocumentResult, ProviderState
from django_kyc.models import Applicant, AuditEvent, Document, Verification
from django_kyc.services import due_diligence, review_policy, risk, submission, transitions
from django_kyc.services.audit import Change
from django_kyc.status import (
    ApplicantStatus,
    AuditAction,
    DocumentStatus,
    ReviewReason,
    RiskLevel,
    Source,
    VerificationStatus,
)
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db

V = VerificationStatus
#: The day the story starts: noon UTC, so a day's arithmetic never crosses a date line by accident.
START = datetime(2027, 7, 12, 12, 0, tzinfo=ZoneInfo("UTC"))
SYSTEM = Change.system(Source.TASK)


@pytest.fixture
def clock(time_machine: Any) -> Callable[[datetime], None]:
    """Freeze the clock at a moment; call again to jump (forward, years at a time)."""

    def move(moment: datetime) -> None:
        time_machine.move_to(moment, tick=False)

    move(START)
    return move


@pytest.fixture
def heard() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The review signals and the applicant's status changes, in order."""
    log: list[tuple[str, dict[str, Any]]] = []

    def listener(name: str) -> Callable[..., None]:
        return lambda sender, **kwargs: log.append((name, kwargs))

    receivers = {name: listener(name) for name in ("review_due", "reverification_required", "applicant_status_changed")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, weak=False)
    yield log
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def approve(applicant: Applicant) -> Verification:
    """A verification decided by a person now, through the transition service."""
    verification = make_verification(applicant, V.REVIEW)
    return transitions.transition_verification(verification.pk, V.APPROVED, SYSTEM)


def passport_expiring(applicant: Applicant, expiry: date) -> Document:
    document = Document.objects.get(applicant=applicant, type="passport")
    document.expiry_date = expiry
    document.save(update_fields=["expiry_date"])
    return document


def run(execute: Any) -> due_diligence.ReviewReport:
    with execute(execute=True):
        return due_diligence.run_reviews()


def fresh(applicant: Applicant) -> Applicant:
    return Applicant.objects.get(pk=applicant.pk)


# --- when the review falls due ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "months"), [(RiskLevel.LOW, 60), (RiskLevel.MEDIUM, 60), (RiskLevel.HIGH, 12)], ids=str
)
def test_an_approval_schedules_the_review_by_risk_level(
    make_applicant: Any, clock: Any, level: str, months: int
) -> None:
    applicant = make_applicant(risk_level=level)
    approve(applicant)
    applicant = fresh(applicant)
    assert applicant.status == ApplicantStatus.VERIFIED
    assert applicant.next_review_at == review_policy.add_months(START, months)
    assert applicant.review_reason == ReviewReason.PERIODIC
    row = AuditEvent.objects.get(applicant=applicant, action=AuditAction.REVIEW_SCHEDULED)
    assert (row.from_status, row.to_status) == ("", applicant.next_review_at.date().isoformat())
    assert row.data["reason"] == "periodic"
    assert row.data["trigger"] == "verification"


def test_a_country_override_replaces_the_interval_of_its_levels_only(make_applicant: Any, clock: Any) -> None:
    overrides = {"GB": {"low": 24}}
    with override_settings(DJANGO_KYC=kyc_settings_with(REVIEW_INTERVAL_MONTHS_BY_COUNTRY=overrides)):
        british = make_applicant(country="GB")
        approve(british)
        french = make_applicant(country="FR", last_name="Martin")
        approve(french)
        high = make_applicant(country="GB", risk_level=RiskLevel.HIGH, last_name="Jones")
        approve(high)
    assert fresh(british).next_review_at == review_policy.add_months(START, 24)
    assert fresh(french).next_review_at == review_policy.add_months(START, 60)
    assert fresh(high).next_review_at == review_policy.add_months(START, 12)


def test_a_country_the_provider_fills_in_counts_for_the_review_of_that_approval(
    make_applicant: Any, clock: Any
) -> None:
    """The review date is computed from the applicant the decision's transaction holds, after the provider's
    reading of the person filled in blanks: a country it supplies picks its interval in the same decision."""
    with override_settings(DJANGO_KYC=kyc_settings_with(REVIEW_INTERVAL_MONTHS_BY_COUNTRY={"DE": {"low": 24}})):
        applicant = make_applicant()  # no country of residence; nationality GB
        verification = make_verification(applicant, V.PROCESSING)
        state = ProviderState(status=V.APPROVED, provider_status="approved", applicant_data={"country": "DE"})
        transitions.apply_provider_state(verification.pk, state, Change.provider("sandbox", Source.WEBHOOK))
    applicant = fresh(applicant)
    assert applicant.country == "DE"
    assert applicant.next_review_at == review_policy.add_months(START, 24)


def test_months_are_calendar_months() -> None:
    assert review_policy.add_months(datetime(2027, 1, 31, 9, 0), 1) == datetime(2027, 2, 28, 9, 0)
    assert review_policy.add_months(datetime(2028, 2, 29), 12) == datetime(2029, 2, 28)
    assert review_policy.add_months(datetime(2027, 11, 30), 3) == datetime(2028, 2, 29)
    assert review_policy.add_months(datetime(2027, 7, 12), 60) == datetime(2032, 7, 12)


def test_a_risk_change_reschedules_and_brings_an_overdue_review_forward_to_now(
    make_applicant: Any, clock: Any, reviewer: Any, django_capture_on_commit_callbacks: Any, heard: Any
) -> None:
    applicant = make_applicant()
    approve(applicant)
    clock(START + timedelta(days=2 * 365))
    change = Change.by_user(reviewer, Source.ADMIN, reason="adverse media", reason_code="VERIFIED_MANUALLY")
    risk.set_risk_level(applicant.pk, RiskLevel.HIGH, change)
    applicant = fresh(applicant)
    assert applicant.next_review_at == review_policy.add_months(START, 12)  # a year after the approval: overdue
    assert applicant.review_reason == ReviewReason.RISK_CHANGE
    row = AuditEvent.objects.filter(applicant=applicant, action=AuditAction.REVIEW_SCHEDULED).latest("id")
    assert row.actor == reviewer
    assert row.data["trigger"] == "risk_change"

    report = run(django_capture_on_commit_callbacks)
    assert (report.noticed, report.lapsed) == (1, 1)
    assert fresh(applicant).status == ApplicantStatus.REVERIFICATION_REQUIRED
    assert [name for name, _ in heard] == ["review_due", "applicant_status_changed", "reverification_required"]
    assert heard[-1][1]["reason"] == ReviewReason.RISK_CHANGE


def test_a_lower_risk_level_moves_the_review_out(make_applicant: Any, clock: Any, reviewer: Any) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    approve(applicant)
    change = Change.by_user(reviewer, Source.ADMIN, reason="reassessed", reason_code="VERIFIED_MANUALLY")
    risk.set_risk_level(applicant.pk, RiskLevel.MEDIUM, change)
    applicant = fresh(applicant)
    assert applicant.next_review_at == review_policy.add_months(START, 60)
    assert applicant.review_reason == ReviewReason.PERIODIC


def test_a_prohibited_level_is_due_at_once(make_applicant: Any, clock: Any, reviewer: Any) -> None:
    applicant = make_applicant()
    approve(applicant)
    change = Change.by_user(reviewer, Source.ADMIN, reason="sanctioned", reason_code="VERIFIED_MANUALLY")
    risk.set_risk_level(applicant.pk, RiskLevel.PROHIBITED, change)
    applicant = fresh(applicant)
    assert applicant.next_review_at == START
    assert applicant.review_reason == ReviewReason.RISK_CHANGE


def test_the_review_is_scheduled_inside_the_decision_without_a_savepoint(make_applicant: Any, clock: Any) -> None:
    """A failure in the scheduling must undo the decision anyway, so a savepoint would only cost two round
    trips on every decision; and if the scheduling fails, nothing of the decision is left."""
    applicant = make_applicant()
    verification = make_verification(applicant, V.REVIEW)
    with CaptureQueriesContext(connection) as queries:
        transitions.transition_verification(verification.pk, V.APPROVED, SYSTEM)
    assert fresh(applicant).next_review_at is not None
    nested = [query["sql"] for query in queries if "SAVEPOINT" in query["sql"].upper()]
    # the test's own transaction makes the service's outermost atomic block a savepoint: that one, no other
    assert len(nested) == 2, nested

    again = make_verification(make_applicant(), V.REVIEW)
    broken = mock.patch.object(review_policy, "compute_next_review", side_effect=RuntimeError("broken policy"))
    with broken, pytest.raises(RuntimeError, match="broken policy"):
        transitions.transition_verification(again.pk, V.APPROVED, SYSTEM)
    assert Verification.objects.get(pk=again.pk).status == V.REVIEW


def test_applicants_without_an_approval_have_no_review(make_applicant: Any, clock: Any, reviewer: Any) -> None:
    applicant = make_applicant()
    verification = make_verification(applicant, V.REVIEW)
    transitions.transition_verification(verification.pk, V.DECLINED, SYSTEM)
    assert fresh(applicant).next_review_at is None
    change = Change.by_user(reviewer, Source.ADMIN, reason="x", reason_code="VERIFIED_MANUALLY")
    risk.set_risk_level(applicant.pk, RiskLevel.HIGH, change)
    assert fresh(applicant).next_review_at is None
    assert not AuditEvent.objects.filter(applicant=applicant, action=AuditAction.REVIEW_SCHEDULED).exists()


def test_a_revoked_approval_clears_the_review(make_applicant: Any, clock: Any, reviewer: Any) -> None:
    applicant = make_applicant()
    verification = approve(applicant)
    change = Change.by_user(reviewer, Source.ADMIN, reason="forged", reason_code="DOCUMENT_FORGED")
    transitions.transition_verification(verification.pk, V.DECLINED, change)
    applicant = fresh(applicant)
    assert (applicant.status, applicant.next_review_at, applicant.review_reason) == (ApplicantStatus.REJECTED, None, "")


# --- the periodic review, years ahead ------------------------------------------------------------------------


def test_the_periodic_review_notices_then_lapses_then_a_new_approval_restores_verified(
    make_applicant: Any, clock: Any, heard: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant = make_applicant()
    approve(applicant)
    due = review_policy.add_months(START, 60)

    clock(due - timedelta(days=31))
    assert run(django_capture_on_commit_callbacks).noticed == 0
    assert not review_policy.action_required(fresh(applicant))

    clock(due - timedelta(days=29))
    report = run(django_capture_on_commit_callbacks)
    assert (report.noticed, report.lapsed) == (1, 0)
    applicant = fresh(applicant)
    assert applicant.status == ApplicantStatus.VERIFIED  # still verified: the notice asks, it takes nothing
    assert applicant.review_notified_at == due - timedelta(days=29)
    assert review_policy.action_required(applicant)
    assert [(name, kwargs["reason"], kwargs["due_at"]) for name, kwargs in heard] == [
        ("review_due", ReviewReason.PERIODIC, due)
    ]
    notice = AuditEvent.objects.get(applicant=applicant, action=AuditAction.REVIEW_DUE)
    assert notice.data == {"reason": "periodic", "due": due.isoformat()}
    assert notice.actor_type == "system"

    assert run(django_capture_on_commit_callbacks).noticed == 0  # told once, not every day
    assert len(heard) == 1

    clock(due + timedelta(hours=1))
    report = run(django_capture_on_commit_callbacks)
    assert (report.noticed, report.lapsed) == (0, 1)
    applicant = fresh(applicant)
    assert applicant.status == ApplicantStatus.REVERIFICATION_REQUIRED
    assert applicant.next_review_at == due  # stays: the queue shows it as overdue
    assert [name for name, _ in heard[1:]] == ["applicant_status_changed", "reverification_required"]
    lapse = AuditEvent.objects.get(applicant=applicant, to_status=ApplicantStatus.REVERIFICATION_REQUIRED)
    assert (lapse.from_status, lapse.action) == (ApplicantStatus.VERIFIED, AuditAction.STATUS_CHANGE)
    assert run(django_capture_on_commit_callbacks).lapsed == 0

    # the person verifies again: in progress, then verified with a review five years from the new approval
    with django_capture_on_commit_callbacks(execute=False):
        verification = submission.start_verification(applicant, SYSTEM)
    assert fresh(applicant).status == ApplicantStatus.IN_PROGRESS
    transitions.transition_verification(verification.pk, V.REVIEW, SYSTEM)
    transitions.transition_verification(verification.pk, V.APPROVED, SYSTEM)
    applicant = fresh(applicant)
    assert applicant.status == ApplicantStatus.VERIFIED
    assert applicant.next_review_at == review_policy.add_months(due + timedelta(hours=1), 60)
    assert applicant.review_notified_at is None
    assert not review_policy.action_required(applicant)


def test_a_re_verification_under_way_at_the_lapse_shows_in_progress_and_a_decline_ends_the_review(
    make_applicant: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    approve(applicant)
    due = review_policy.add_months(START, 12)
    clock(due - timedelta(days=10))
    run(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        verification = submission.start_verification(fresh(applicant), SYSTEM)
    assert fresh(applicant).status == ApplicantStatus.VERIFIED  # under way before the date: still verified

    clock(due)
    assert run(django_capture_on_commit_callbacks).lapsed == 1
    assert fresh(applicant).status == ApplicantStatus.IN_PROGRESS  # no longer verified, already re-verifying
    assert transitions.derive_applicant_status(fresh(applicant)) == ApplicantStatus.IN_PROGRESS

    transitions.transition_verification(verification.pk, V.REVIEW, SYSTEM)
    transitions.transition_verification(verification.pk, V.DECLINED, SYSTEM)
    applicant = fresh(applicant)
    assert (applicant.status, applicant.next_review_at) == (ApplicantStatus.REJECTED, None)


def test_an_old_approval_reopened_and_approved_again_does_not_undo_a_lapse(
    make_applicant: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Only an approval decided after the lapse counts: the aggregate, recomputed for any reason, agrees."""
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    approve(applicant)
    clock(review_policy.add_months(START, 12))
    run(django_capture_on_commit_callbacks)
    applicant = fresh(applicant)
    assert transitions.derive_applicant_status(applicant) == ApplicantStatus.REVERIFICATION_REQUIRED
    transitions.refresh_applicant(applicant.pk, SYSTEM)
    assert fresh(applicant).status == ApplicantStatus.REVERIFICATION_REQUIRED


def test_suspended_and_held_applicants_are_not_moved(
    make_applicant: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    approve(applicant)
    Applicant.objects.filter(pk=applicant.pk).update(status=ApplicantStatus.SUSPENDED)
    clock(review_policy.add_months(START, 13))
    report = run(django_capture_on_commit_callbacks)
    assert (report.noticed, report.lapsed) == (0, 0)
    assert fresh(applicant).status == ApplicantStatus.SUSPENDED


def test_the_notice_can_start_the_verification_on_the_approvals_backend(
    make_applicant: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    approve(applicant)
    clock(review_policy.add_months(START, 12) - timedelta(days=5))
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(REVIEW_STARTS_VERIFICATION=True)),
        django_capture_on_commit_callbacks(execute=False),
    ):
        report = due_diligence.run_reviews()
    assert (report.noticed, report.started) == (1, 1)
    started = Verification.objects.filter(applicant=applicant).latest("created_at")
    assert (started.backend, started.status) == ("sandbox", V.PENDING)
    assert fresh(applicant).status == ApplicantStatus.VERIFIED


# --- document expiry ---------------------------------------------------------------------------------------


def test_a_document_expiring_before_the_periodic_date_dates_the_review(
    make_applicant: Any, clock: Any, heard: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant = make_applicant()
    expiry = date(2029, 3, 1)
    passport_expiring(applicant, expiry)
    approve(applicant)
    applicant = fresh(applicant)
    lapses = datetime(2029, 3, 1, tzinfo=timezone.get_current_timezone())
    assert (applicant.next_review_at, applicant.review_reason) == (lapses, ReviewReason.DOCUMENT_EXPIRY)

    clock(lapses - timedelta(days=30) + timedelta(minutes=1))
    assert run(django_capture_on_commit_callbacks).noticed == 1
    clock(lapses - timedelta(minutes=1))  # the day before the expiry date: still verified
    assert run(django_capture_on_commit_callbacks).lapsed == 0
    clock(lapses + timedelta(minutes=1))  # the expiry date itself
    assert run(django_capture_on_commit_callbacks).lapsed == 1
    assert fresh(applicant).status == ApplicantStatus.REVERIFICATION_REQUIRED
    assert heard[-1][0] == "reverification_required"
    assert heard[-1][1]["reason"] == ReviewReason.DOCUMENT_EXPIRY


def test_the_grace_period_delays_the_lapse(
    make_applicant: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_EXPIRY_GRACE_DAYS=14)):
        applicant = make_applicant()
        passport_expiring(applicant, date(2029, 3, 1))
        approve(applicant)
        lapses = datetime(2029, 3, 15, tzinfo=timezone.get_current_timezone())
        assert fresh(applicant).next_review_at == lapses
        clock(datetime(2029, 3, 14, 23, 0, tzinfo=timezone.get_current_timezone()))
        assert run(django_capture_on_commit_callbacks).lapsed == 0
        clock(lapses + timedelta(hours=1))
        assert run(django_capture_on_commit_callbacks).lapsed == 1


def test_a_document_expiring_after_the_periodic_date_leaves_it_periodic(make_applicant: Any, clock: Any) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    passport_expiring(applicant, date(2035, 1, 1))
    approve(applicant)
    applicant = fresh(applicant)
    assert (applicant.next_review_at, applicant.review_reason) == (
        review_policy.add_months(START, 12),
        ReviewReason.PERIODIC,
    )


def test_the_providers_reading_of_the_expiry_counts_when_it_is_earlier(make_applicant: Any, clock: Any) -> None:
    """The person typed 2031, the provider read 2028 off the document: the earlier date dates the review, and
    the expiry of a document the provider created from its own reading counts as well."""
    applicant = make_applicant()
    document = passport_expiring(applicant, date(2031, 6, 1))
    verification = make_verification(applicant, V.PROCESSING)
    state = ProviderState(
        status=V.APPROVED,
        provider_status="approved",
        documents=[
            DocumentResult(
                status=DocumentStatus.ACCEPTED, document_id=str(document.pk), fields={"expiry_date": "2028-09-30"}
            )
        ],
    )
    transitions.apply_provider_state(verification.pk, state, Change.provider("sandbox", Source.WEBHOOK))
    applicant = fresh(applicant)
    assert applicant.next_review_at == datetime(2028, 9, 30, tzinfo=timezone.get_current_timezone())
    assert applicant.review_reason == ReviewReason.DOCUMENT_EXPIRY
    # one review_scheduled row for the approval with its documents, not one before and one after them
    assert AuditEvent.objects.filter(applicant=applicant, action=AuditAction.REVIEW_SCHEDULED).count() == 1

    other = make_applicant(last_name="Chip", with_document=False)
    verification = make_verification(other, V.PROCESSING)
    chip = DocumentResult(
        status=DocumentStatus.ACCEPTED,
        provider_document_id="doc-1",
        fields={"type": "passport", "expiry_date": date(2030, 1, 2)},
    )
    state = ProviderState(status=V.APPROVED, provider_status="approved", documents=[chip])
    transitions.apply_provider_state(verification.pk, state, Change.provider("sandbox", Source.WEBHOOK))
    assert fresh(other).next_review_at == datetime(2030, 1, 2, tzinfo=timezone.get_current_timezone())


def test_a_re_verification_with_a_new_passport_does_not_inherit_the_old_expiry(
    make_applicant: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    applicant = make_applicant()
    passport_expiring(applicant, date(2028, 1, 10))
    approve(applicant)
    clock(datetime(2027, 12, 20, 12, 0, tzinfo=ZoneInfo("UTC")))
    run(django_capture_on_commit_callbacks)  # notice
    Document.objects.create(applicant=applicant, type="passport", expiry_date=date(2037, 12, 1))
    approve(applicant)
    applicant = fresh(applicant)
    assert applicant.review_reason == ReviewReason.PERIODIC
    assert applicant.next_review_at == datetime(2032, 12, 20, 12, 0, tzinfo=ZoneInfo("UTC"))


def test_expired_or_rejected_documents_and_non_identity_documents_do_not_count(make_applicant: Any, clock: Any) -> None:
    applicant = make_applicant(with_document=False)
    Document.objects.create(applicant=applicant, type="utility_bill", expiry_date=date(2027, 9, 1))
    rejected = Document.objects.create(applicant=applicant, type="id_card", expiry_date=date(2027, 10, 1))
    Document.objects.filter(pk=rejected.pk).update(status=DocumentStatus.REJECTED)
    approve(applicant)
    assert fresh(applicant).review_reason == ReviewReason.PERIODIC


# --- reviews opened for other reasons ------------------------------------------------------------------------


def test_a_screening_hit_opens_a_review_that_a_risk_change_does_not_push_out(
    make_applicant: Any, clock: Any, reviewer: Any
) -> None:
    applicant = make_applicant()
    approve(applicant)
    review_policy.open_review(applicant.pk, ReviewReason.SCREENING_HIT, SYSTEM)
    applicant = fresh(applicant)
    assert (applicant.next_review_at, applicant.review_reason) == (START, ReviewReason.SCREENING_HIT)
    change = Change.by_user(reviewer, Source.ADMIN, reason="pep", reason_code="VERIFIED_MANUALLY")
    risk.set_risk_level(applicant.pk, RiskLevel.MEDIUM, change)
    assert fresh(applicant).next_review_at == START
    # a later date does not replace an earlier one
    review_policy.open_review(applicant.pk, ReviewReason.PERIODIC, SYSTEM, due_at=START + timedelta(days=9))
    assert fresh(applicant).review_reason == ReviewReason.SCREENING_HIT


def test_open_review_refuses_an_unknown_reason(make_applicant: Any) -> None:
    with pytest.raises(ValueError, match="unknown review reason"):
        review_policy.open_review(make_applicant().pk, "whim", SYSTEM)
