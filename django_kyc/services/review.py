"""Reviewer decisions: approve, decline, request resubmission, retry, cancel.

Permission and reason checks live here, not in the admin, so every door (admin, API, shell) enforces them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError

from django_kyc.models import Verification
from django_kyc.reasons import reason_codes
from django_kyc.services import submission, transitions
from django_kyc.services.transitions import Change
from django_kyc.status import Source, VerificationStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

DECISIONS: dict[str, str] = {
    "approve": VerificationStatus.APPROVED,
    "decline": VerificationStatus.DECLINED,
    "request_resubmission": VerificationStatus.RESUBMISSION_REQUESTED,
    "cancel": VerificationStatus.CANCELLED,
}
REVIEW_PERMISSION = "django_kyc.review_applicant"


def _check(user: AbstractBaseUser | AnonymousUser, reason_code: str) -> None:
    if not user.has_perm(REVIEW_PERMISSION):  # type: ignore[union-attr]
        raise PermissionDenied("You do not have permission to decide on KYC verifications.")
    if reason_code not in reason_codes():
        raise ValidationError({"reason_code": f"Unknown reason code {reason_code!r}."})


def decide(
    verification_id: Any,
    decision: str,
    *,
    user: AbstractBaseUser | AnonymousUser,
    reason_code: str,
    comment: str = "",
    source: str = Source.ADMIN,
) -> Verification:
    """Record a reviewer's decision through the transition service (audited, signalled)."""
    if decision not in DECISIONS:
        raise ValidationError({"decision": f"Unknown decision {decision!r}."})
    _check(user, reason_code)
    if Verification.objects.filter(pk=verification_id, applicant__user_id=user.pk or 0).exists():
        raise PermissionDenied("Reviewers cannot decide on their own verification.")
    change = Change.by_user(user, source, reason=comment, reason_code=reason_code)
    return transitions.transition_verification(verification_id, DECISIONS[decision], change)


def retry(
    verification_id: Any, *, user: AbstractBaseUser | AnonymousUser, reason_code: str, comment: str = ""
) -> Verification:
    _check(user, reason_code)
    change = Change.by_user(user, Source.ADMIN, reason=comment, reason_code=reason_code)
    return submission.retry_verification(verification_id, change)
