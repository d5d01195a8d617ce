"""The risk level changes only through the audited risk service, and lowering it cannot switch four-eyes off
for the decision it was lowered for."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from django_kyc.models import AmlCheck, AmlHit, Applicant, AuditEvent, ReviewDecision
from django_kyc.services import aml, review, risk
from django_kyc.services.audit import Change
from django_kyc.status import Actor, AmlHitStatus, AmlStatus, AuditAction, RiskLevel, Source, VerificationStatus
from tests.support.factories import create_user, make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db
FOUR_EYES = kyc_settings_with(FOUR_EYES=True)
V = VerificationStatus


def by(user: Any, reason_code: str = "OTHER", reason: str = "") -> Change:
    return Change.by_user(user, Source.ADMIN, reason=reason, reason_code=reason_code)


@pytest.fixture
def colleague(db: Any) -> Any:
    """A second reviewer, who did not touch the risk level."""
    return create_user("colleague", "django_kyc.review_applicant", staff=True)


# --- the service ------------------------------------------------------------------------------------------


def test_a_change_is_saved_and_audited_with_old_and_new_level_actor_and_reason(
    make_applicant: Any, reviewer: Any
) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    risk.set_risk_level(applicant.pk, RiskLevel.LOW, by(reviewer, "VERIFIED_MANUALLY", "PEP status ended 2019"))
    applicant.refresh_from_db()
    assert applicant.risk_level == RiskLevel.LOW
    row = AuditEvent.objects.get(applicant=applicant, action=AuditAction.RISK_CHANGED)
    assert (row.object_type, row.object_id, row.from_status, row.to_status) == (
        "applicant",
        str(applicant.pk),
        RiskLevel.HIGH,
        RiskLevel.LOW,
    )
    assert (row.actor, row.actor_type, row.source) == (reviewer, Actor.USER, Source.ADMIN)
    assert (row.reason_code, row.reason) == ("VERIFIED_MANUALLY", "PEP status ended 2019")


def test_a_site_risk_engine_may_change_it_with_a_reason(make_applicant: Any) -> None:
    applicant = make_applicant()
    with pytest.raises(ValidationError):
        risk.set_risk_level(applicant.pk, RiskLevel.HIGH, Change.system())
    risk.set_risk_level(applicant.pk, RiskLevel.HIGH, Change.system(reason="scoring model v3: 0.93"))
    row = AuditEvent.objects.get(applicant=applicant, action=AuditAction.RISK_CHANGED)
    assert (row.actor_type, row.from_status, row.to_status, row.reason) == (
        Actor.SYSTEM,
        RiskLevel.LOW,
        RiskLevel.HIGH,
        "scoring model v3: 0.93",
    )


@pytest.mark.parametrize(
    ("perms", "level", "reason_code", "error"),
    [
        ((), RiskLevel.LOW, "OTHER", PermissionDenied),  # staff without review_applicant
        (("django_kyc.review_applicant",), RiskLevel.LOW, "NOT_A_CODE", ValidationError),
        (("django_kyc.review_applicant",), "negligible", "OTHER", ValidationError),
        (("django_kyc.review_applicant",), RiskLevel.HIGH, "OTHER", ValidationError),  # already high
    ],
    ids=["no-permission", "unknown-reason", "unknown-level", "unchanged"],
)
def test_refused_changes_change_nothing(
    make_applicant: Any, perms: tuple[str, ...], level: str, reason_code: str, error: type[Exception]
) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    user = create_user("someone", "django_kyc.change_applicant", *perms, staff=True)
    with pytest.raises(error):
        risk.set_risk_level(applicant.pk, level, by(user, reason_code))
    applicant.refresh_from_db()
    assert applicant.risk_level == RiskLevel.HIGH
    assert not AuditEvent.objects.filter(action=AuditAction.RISK_CHANGED).exists()


def test_reviewers_cannot_rate_their_own_applicant(make_applicant: Any, reviewer: Any) -> None:
    applicant = make_applicant(user=reviewer, risk_level=RiskLevel.HIGH)
    with pytest.raises(PermissionDenied):
        risk.set_risk_level(applicant.pk, RiskLevel.LOW, by(reviewer))
    assert Applicant.objects.get(pk=applicant.pk).risk_level == RiskLevel.HIGH


# --- four-eyes reads the history -------------------------------------------------------------------------


def approve_after_change(make_applicant: Any, start: str, level: str, changed_by: Any, decider: Any) -> Any:
    """An applicant at ``start`` with a verification in review; ``changed_by`` sets ``level``, then ``decider``
    approves: the verification, or the four-eyes proposal it became."""
    applicant = make_applicant(risk_level=start)
    verification = make_verification(applicant, V.REVIEW)
    risk.set_risk_level(applicant.pk, level, by(changed_by))
    return review.decide(verification.pk, "approve", user=decider, reason_code="VERIFIED_MANUALLY")


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_lowering_the_level_then_approving_alone_is_a_proposal(make_applicant: Any, reviewer: Any) -> None:
    """The issue's bypass, through the service: the decider lowers high → low, then approves."""
    result = approve_after_change(make_applicant, RiskLevel.HIGH, RiskLevel.LOW, reviewer, reviewer)
    assert isinstance(result, ReviewDecision)
    assert result.rule == "risk_lowered_by_decider:high"
    assert result.verification is not None
    assert (result.verification.status, result.verification.decision_source) == (V.REVIEW, "")


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_a_decider_who_lowered_the_level_long_before_still_needs_a_second_reviewer(
    make_applicant: Any, reviewer: Any, colleague: Any
) -> None:
    applicant = make_applicant(risk_level=RiskLevel.PROHIBITED)
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        risk.set_risk_level(applicant.pk, RiskLevel.MEDIUM, by(reviewer))
    verification = make_verification(applicant, V.REVIEW)  # opened long after the change
    result = review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
    assert isinstance(result, ReviewDecision)
    assert result.rule == "risk_lowered_by_decider:prohibited"
    review.withdraw(result.pk, reviewer)
    # someone else, who had no hand in the lowering, decides alone: the lowering and the decision were made
    # by two different people, each audited
    approved = review.decide(verification.pk, "approve", user=colleague, reason_code="VERIFIED_MANUALLY")
    assert not isinstance(approved, ReviewDecision)
    assert approved.status == V.APPROVED


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_a_level_held_while_the_verification_was_open_still_counts_for_anyone(
    make_applicant: Any, reviewer: Any, colleague: Any
) -> None:
    result = approve_after_change(make_applicant, RiskLevel.HIGH, RiskLevel.LOW, reviewer, colleague)
    assert isinstance(result, ReviewDecision)
    assert result.rule == "risk_level_since_opened:high"


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_raising_the_level_is_never_a_reason_for_a_second_reviewer(make_applicant: Any, reviewer: Any) -> None:
    result = approve_after_change(make_applicant, RiskLevel.LOW, RiskLevel.MEDIUM, reviewer, reviewer)
    assert not isinstance(result, ReviewDecision)
    assert result.status == V.APPROVED


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_resolving_an_aml_hit_after_lowering_the_level_is_a_proposal(make_applicant: Any, reviewer: Any) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    check = aml.start_check(applicant, Change.system())
    AmlCheck.objects.filter(pk=check.pk).update(status=AmlStatus.POTENTIAL_MATCH)
    hit = AmlHit.objects.create(aml_check=check, entity_id="e1", caption="Someone", score=0.6, topics=["crime"])
    risk.set_risk_level(applicant.pk, RiskLevel.LOW, by(reviewer))
    result = review.decide_hit(hit.pk, AmlHitStatus.FALSE_POSITIVE, user=reviewer, reason_code="OTHER")
    assert isinstance(result, ReviewDecision)
    assert result.rule == "risk_lowered_by_decider:high"
    hit.refresh_from_db()
    assert hit.status == AmlHitStatus.OPEN


def test_with_four_eyes_off_the_history_changes_nothing(make_applicant: Any, reviewer: Any) -> None:
    result = approve_after_change(make_applicant, RiskLevel.HIGH, RiskLevel.LOW, reviewer, reviewer)
    assert result.status == V.APPROVED


def test_highest_follows_the_risk_scale() -> None:
    assert risk.highest({RiskLevel.HIGH, RiskLevel.PROHIBITED, RiskLevel.LOW}) == RiskLevel.PROHIBITED
    assert risk.highest({"custom", RiskLevel.MEDIUM}) == RiskLevel.MEDIUM
