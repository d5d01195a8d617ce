"""Four-eyes review: which applicants trigger it, and that only a different, permitted reviewer can confirm."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings

from django_kyc.models import AmlCheck, AmlHit, AuditEvent, ProposalStatus, ReviewDecision
from django_kyc.services import aml, review
from django_kyc.services.audit import Change
from django_kyc.status import AmlHitStatus, AmlStatus, VerificationStatus
from tests.support.factories import create_user, make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db
FOUR_EYES = kyc_settings_with(FOUR_EYES=True)


def only_vips(applicant: Any) -> str:
    """A custom rule for the tests: a name makes the applicant high-risk."""
    return "vip" if applicant.last_name == "Important" else ""


@pytest.fixture
def approver(db: Any) -> Any:
    return create_user("approver", "django_kyc.review_applicant", "django_kyc.approve_high_risk", staff=True)


def hit_on(applicant: Any, topics: list[str]) -> AmlHit:
    check = aml.start_check(applicant, Change.system())
    AmlCheck.objects.filter(pk=check.pk).update(status=AmlStatus.POTENTIAL_MATCH)  # set-up, as a screening would
    return AmlHit.objects.create(aml_check=check, entity_id="e1", caption="Someone", score=0.9, topics=topics)


@override_settings(DJANGO_KYC=FOUR_EYES)
@pytest.mark.parametrize("risk", ["high", "prohibited"])
def test_high_risk_level_turns_a_decision_into_a_proposal(make_applicant: Any, reviewer: Any, risk: str) -> None:
    verification = make_verification(make_applicant(risk_level=risk), VerificationStatus.REVIEW)
    result = review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY", comment="ok")
    assert isinstance(result, ReviewDecision)
    assert (result.rule, result.status, result.proposed_by) == (f"risk_level:{risk}", "proposed", reviewer)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.REVIEW
    row = AuditEvent.objects.get(object_id=str(verification.pk), action="decision_proposed")
    assert (row.actor, row.reason_code, row.data["decision"]) == (reviewer, "VERIFIED_MANUALLY", "approve")


@override_settings(DJANGO_KYC=FOUR_EYES)
@pytest.mark.parametrize(("topics", "rule"), [(["role.pep"], "aml_topic:pep"), (["sanction"], "aml_topic:sanction")])
def test_pep_or_sanctions_hit_triggers(make_applicant: Any, reviewer: Any, topics: list[str], rule: str) -> None:
    applicant = make_applicant()
    verification = make_verification(applicant, VerificationStatus.REVIEW)
    hit_on(applicant, topics)
    result = review.decide(verification.pk, "decline", user=reviewer, reason_code="SANCTIONS_MATCH")
    assert isinstance(result, ReviewDecision)
    assert result.rule == rule


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_dismissed_hits_and_other_topics_do_not_trigger(make_applicant: Any, reviewer: Any) -> None:
    applicant = make_applicant()
    verification = make_verification(applicant, VerificationStatus.REVIEW)
    hit_on(applicant, ["crime"])
    AmlHit.objects.filter(aml_check__applicant=applicant).update(topics=["crime"])
    other = AmlHit.objects.create(
        aml_check=hit_on(applicant, []).aml_check, entity_id="e2", caption="X", topics=["pep"]
    )
    AmlHit.objects.filter(pk=other.pk).update(status=AmlHitStatus.FALSE_POSITIVE)
    result = review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
    assert not isinstance(result, ReviewDecision)
    assert result.status == VerificationStatus.APPROVED


@override_settings(DJANGO_KYC=kyc_settings_with(FOUR_EYES=True, FOUR_EYES_RULE=f"{__name__}.only_vips"))
def test_custom_rule_triggers(make_applicant: Any, reviewer: Any) -> None:
    vip = make_verification(make_applicant(last_name="Important"), VerificationStatus.REVIEW)
    plain = make_verification(make_applicant(last_name="Plain"), VerificationStatus.REVIEW)
    result = review.decide(vip.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
    assert isinstance(result, ReviewDecision)
    assert result.rule == "custom:vip"
    assert review.decide(plain.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY").status == "approved"


def test_off_by_default(make_applicant: Any, reviewer: Any) -> None:
    verification = make_verification(make_applicant(risk_level="high"), VerificationStatus.REVIEW)
    result = review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
    assert not isinstance(result, ReviewDecision)


@pytest.fixture
def proposal(make_applicant: Any, reviewer: Any) -> ReviewDecision:
    verification = make_verification(make_applicant(risk_level="high"), VerificationStatus.REVIEW)
    with override_settings(DJANGO_KYC=FOUR_EYES):
        result = review.decide(verification.pk, "decline", user=reviewer, reason_code="SUSPECTED_FRAUD", comment="c")
    assert isinstance(result, ReviewDecision)
    return result


def test_proposer_cannot_confirm_their_own_proposal(proposal: ReviewDecision, reviewer: Any) -> None:
    reviewer.user_permissions.add(*create_user("tmp", "django_kyc.approve_high_risk").user_permissions.all())
    from django.contrib.auth.models import User

    proposer = User.objects.get(pk=reviewer.pk)
    assert proposer.has_perm("django_kyc.approve_high_risk")
    with pytest.raises(PermissionDenied):
        review.confirm(proposal.pk, proposer)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PROPOSED
    assert proposal.verification is not None
    assert proposal.verification.status == VerificationStatus.REVIEW


def test_database_refuses_self_confirmation(proposal: ReviewDecision) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewDecision.objects.filter(pk=proposal.pk).update(confirmed_by=proposal.proposed_by)


def test_confirm_needs_the_approve_high_risk_permission(proposal: ReviewDecision) -> None:
    second = create_user("second", "django_kyc.review_applicant")
    with pytest.raises(PermissionDenied):
        review.confirm(proposal.pk, second)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PROPOSED


def test_confirmed_decision_is_applied_and_audited_with_both_users(
    proposal: ReviewDecision, approver: Any, reviewer: Any
) -> None:
    review.confirm(proposal.pk, approver, comment="agreed")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.confirmed_by) == (ProposalStatus.CONFIRMED, approver)
    assert proposal.verification is not None
    proposal.verification.refresh_from_db()
    assert proposal.verification.status == VerificationStatus.DECLINED
    change = AuditEvent.objects.get(object_id=str(proposal.verification_id), to_status="declined")
    assert change.actor == approver
    assert "reviewer" in change.actor_label
    assert "approver" in change.actor_label
    assert (change.reason_code, change.reason) == ("SUSPECTED_FRAUD", "c")
    row = AuditEvent.objects.get(object_id=str(proposal.verification_id), action="proposal_confirmed")
    assert (row.data["proposed_by"], row.data["confirmed_by"]) == ("reviewer", "approver")
    with pytest.raises(ValidationError):  # once only
        review.confirm(proposal.pk, approver)


def test_second_open_proposal_on_the_same_item_is_refused(proposal: ReviewDecision, approver: Any) -> None:
    with override_settings(DJANGO_KYC=FOUR_EYES), pytest.raises(ValidationError):
        review.decide(proposal.verification_id, "approve", user=approver, reason_code="VERIFIED_MANUALLY")


def test_withdraw(proposal: ReviewDecision, reviewer: Any, approver: Any) -> None:
    outsider = create_user("outsider", "django_kyc.review_applicant")
    with pytest.raises(PermissionDenied):
        review.withdraw(proposal.pk, outsider)
    review.withdraw(proposal.pk, reviewer, comment="second thoughts")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action="proposal_withdrawn", actor=reviewer).exists()
    with pytest.raises(ValidationError):
        review.confirm(proposal.pk, approver)


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_aml_hit_resolution_is_proposed_then_confirmed(make_applicant: Any, reviewer: Any, approver: Any) -> None:
    hit = hit_on(make_applicant(), ["sanction"])
    result = review.decide_hit(hit.pk, AmlHitStatus.FALSE_POSITIVE, user=reviewer, reason_code="OTHER")
    assert isinstance(result, ReviewDecision)
    assert result.aml_hit_id == hit.pk
    hit.refresh_from_db()
    assert hit.status == AmlHitStatus.OPEN
    review.confirm(result.pk, approver)
    hit.refresh_from_db()
    assert (hit.status, hit.resolved_by) == (AmlHitStatus.FALSE_POSITIVE, approver)


def test_assignment_is_checked_and_audited(make_applicant: Any, reviewer: Any, user: Any) -> None:
    verification = make_verification(make_applicant(), VerificationStatus.REVIEW)
    review.assign(verification, reviewer)
    verification.refresh_from_db()
    assert verification.assigned_to == reviewer
    assert verification.assigned_at is not None
    assert AuditEvent.objects.filter(action="assigned", actor=reviewer, data__assigned_to="reviewer").exists()
    with pytest.raises(PermissionDenied):
        review.assign(verification, user)  # not a reviewer, assigning themselves
    with pytest.raises(ValidationError):
        review.assign(verification, user, by=reviewer)  # only reviewers can be given work
    review.assign(verification, None, by=reviewer)
    verification.refresh_from_db()
    assert verification.assigned_to is None
