from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from django_kyc.models import AuditEvent
from django_kyc.services import review
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db


def test_decision_is_audited_with_reviewer_reason_code_and_comment(make_applicant: Any, reviewer: Any) -> None:
    verification = make_verification(make_applicant(), VerificationStatus.REVIEW)
    review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY", comment="checked")
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.APPROVED
    assert verification.decision_source == "reviewer"
    row = AuditEvent.objects.get(object_id=str(verification.pk), to_status="approved")
    assert (row.actor, row.reason_code, row.reason, row.source) == (reviewer, "VERIFIED_MANUALLY", "checked", "admin")


def test_reviewer_cannot_decide_on_their_own_verification(make_applicant: Any, reviewer: Any) -> None:
    verification = make_verification(make_applicant(user=reviewer), VerificationStatus.REVIEW)
    with pytest.raises(PermissionDenied):
        review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.REVIEW


def test_decision_needs_the_permission_and_a_known_reason(make_applicant: Any, user: Any, reviewer: Any) -> None:
    verification = make_verification(make_applicant(), VerificationStatus.REVIEW)
    with pytest.raises(PermissionDenied):
        review.decide(verification.pk, "decline", user=user, reason_code="OTHER")
    with pytest.raises(ValidationError):
        review.decide(verification.pk, "decline", user=reviewer, reason_code="NOT_A_CODE")
    with pytest.raises(ValidationError):
        review.decide(verification.pk, "delete", user=reviewer, reason_code="OTHER")
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.REVIEW
