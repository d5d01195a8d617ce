"""Reviewer decisions: approve, decline, request resubmission, retry, cancel.

Permission and reason checks live here, not in the admin, so every door (admin, API, shell) enforces them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from django_kyc.backends import get_backend
from django_kyc.exceptions import KycError
from django_kyc.models import Verification
from django_kyc.queue import enqueue_on_commit
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
    with transaction.atomic():
        verification = transitions.transition_verification(verification_id, DECISIONS[decision], change)
        if decision in PUSHABLE and _pushes_decisions(verification.backend):
            enqueue_on_commit("push_decision", str(verification.pk))
    return verification


#: Decisions a provider can be told about; cancelling is ours alone.
PUSHABLE = frozenset({"approve", "decline", "request_resubmission"})


def _pushes_decisions(alias: str) -> bool:
    """Only when the backend can and the site asked for it (``OPTIONS["PUSH_DECISIONS"]``)."""
    backend = get_backend(alias)
    return backend.supports("push_decision") and bool(backend.options.get("PUSH_DECISIONS"))


def push_decision(verification_id: Any) -> None:
    """Task body: tell the provider what the reviewer decided. The local decision stands either way; the
    outcome of the push is written to the audit timeline, so a failed push is visible to reviewers."""
    verification = Verification.objects.get(pk=verification_id)
    change = Change.system(Source.TASK)
    try:
        get_backend(verification.backend).push_decision(verification, verification.status)
    except KycError as exc:
        Verification.objects.filter(pk=verification.pk).update(last_error=f"decision push failed: {exc}"[:2000])
        transitions.audit(
            Change.system(Source.TASK, reason=str(exc)),
            obj=verification,
            applicant_id=verification.applicant_id,
            action="push_failed",
            to_status=verification.status,
        )
        return
    transitions.audit(
        change,
        obj=verification,
        applicant_id=verification.applicant_id,
        action="decision_pushed",
        to_status=verification.status,
    )


def retry(
    verification_id: Any, *, user: AbstractBaseUser | AnonymousUser, reason_code: str, comment: str = ""
) -> Verification:
    _check(user, reason_code)
    change = Change.by_user(user, Source.ADMIN, reason=comment, reason_code=reason_code)
    return submission.retry_verification(verification_id, change)
