"""Each fake provider failing with 500, 429, a timeout or a connection reset.

Past the attempt budget the verification ends in a visible ``error`` with the reason, and nothing exists at
the provider; a reviewer's retry (``review.retry``) gives it a fresh budget, and with the provider failing
for all but the last attempt of that budget it completes, with exactly one provider applicant.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.models import AuditEvent, Verification
from django_kyc.services import review, submission
from django_kyc.services.retry import max_attempts
from django_kyc.status import VerificationStatus
from tests.resilience.providers import HOOKS, new_applicant, provider

pytestmark = [pytest.mark.resilience, pytest.mark.django_db]

V = VerificationStatus
FAULTS = {
    "500": {"kind": "status", "status": 500, "message": "injected 500 from the provider"},
    "429": {"kind": "status", "status": 429, "retry_after": 1, "message": "injected rate limit"},
    "timeout": {"kind": "timeout"},
    "reset": {"kind": "reset"},
}


def run_until_settled(verification: Verification, time_machine: Any, limit: int) -> list[int]:
    """Play the sweeper: run the submission task whenever it is due, until it is no longer pending.
    Returns the attempt count after each run."""
    seen = []
    for _ in range(limit + 2):
        verification.refresh_from_db()
        if verification.status != V.PENDING:
            break
        if verification.next_attempt_at is not None:
            assert verification.last_error  # a waiting retry always says why
            time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        seen.append(verification.attempts)
    return seen


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", list(HOOKS))
def test_failures_past_the_budget_end_in_error_and_a_reviewers_retry_completes(
    name: str,
    fault: str,
    make_applicant: Any,
    user: Any,
    reviewer: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    with provider(name) as (hooks, server):
        budget = max_attempts(get_backend("contract").retry_policy)
        assert budget >= 2
        verification = hooks.start(new_applicant(make_applicant, user))

        # past the budget: every attempt fails
        server.fail_next(budget, **FAULTS[fault])
        assert run_until_settled(verification, time_machine, budget) == list(range(1, budget + 1))
        assert verification.status == V.ERROR
        assert verification.next_attempt_at is None
        assert f"gave up after {budget} attempts" in verification.last_error
        if "message" in FAULTS[fault]:
            assert FAULTS[fault]["message"] in verification.last_error, verification.last_error
        moved = AuditEvent.objects.get(object_id=str(verification.pk), action="status_change", to_status=V.ERROR)
        assert moved.reason == verification.last_error
        assert server.applicant_count() == 0
        assert not server.faults  # every injected failure was met by a real call

        # a reviewer retries; the provider fails all but the last attempt of the fresh budget
        server.fail_next(budget - 1, **FAULTS[fault])
        with django_capture_on_commit_callbacks(execute=True) as queued:  # the queued task runs (sync mode)
            review.retry(
                verification.pk, user=reviewer, reason_code="PROVIDER_ERROR_RESOLVED", comment="provider is back"
            )
        submissions = [c for c in queued if getattr(c, "args", ())[:1] == ("submit_verification",)]
        assert len(submissions) == 1  # the retry queued one submission, which ran
        verification.refresh_from_db()
        assert verification.attempts == 1
        assert AuditEvent.objects.filter(
            object_id=str(verification.pk), to_status=V.PENDING, actor=reviewer, reason_code="PROVIDER_ERROR_RESOLVED"
        ).exists()
        run_until_settled(verification, time_machine, budget)

        assert verification.status == hooks.SUBMITTED_STATUS, verification.last_error
        assert verification.attempts == budget  # within the budget, on its last attempt
        assert verification.last_error == ""
        assert verification.provider_verification_id or not hooks.CREATES_AT_SUBMISSION
        assert not server.faults
        hooks.complete_hosted_flow(server, verification)  # ARGOS: the record exists once the person starts
        assert server.applicant_count() == 1
        assert (
            AuditEvent.objects.filter(
                object_id=str(verification.pk), action="status_change", to_status=hooks.SUBMITTED_STATUS
            ).count()
            == 1
        )
