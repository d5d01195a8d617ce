"""AML as part of the product: subjects, hits a reviewer resolves, and what that does to the applicant."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from django_kyc.backends.base import AmlResult, KycBackend
from django_kyc.models import AmlCheck, AuditEvent
from django_kyc.services import aml, review
from django_kyc.services.audit import Change
from django_kyc.status import AmlHitStatus, AmlStatus, ApplicantStatus, Source
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db
TX = "ab" * 32


def screen(applicant: Any, capture: Any, **subject: str) -> AmlCheck:
    with capture(execute=True):
        check = aml.start_check(applicant, Change.system(Source.API), backend="sandbox", **subject)
    check.refresh_from_db()
    return check


@pytest.mark.parametrize(
    ("subject", "message_field"),
    [
        ({"subject": "wallet", "blockchain": "bitcoin"}, "address"),
        ({"subject": "wallet", "address": "1abc"}, "blockchain"),
        ({"subject": "wallet", "blockchain": "bitcoin", "address": "1abc", "tx_hash": TX}, "tx_hash"),
        ({"subject": "transaction", "blockchain": "ethereum", "tx_hash": "0x1234"}, "tx_hash"),
        ({"subject": "transaction", "blockchain": "ethereum", "tx_hash": TX, "address": "0xabc"}, "address"),
        ({"subject": "applicant", "address": "0xabc"}, "address"),
        ({"subject": "planet"}, "subject"),
    ],
)
def test_impossible_subjects_are_refused_before_anything_is_stored(
    make_applicant: Any, subject: dict[str, str], message_field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        aml.start_check(make_applicant(), Change.system(Source.API), backend="sandbox", **subject)
    assert message_field in error.value.message_dict
    assert not AmlCheck.objects.exists()


@pytest.mark.parametrize(
    ("subject", "status", "risk"),
    [
        ({"subject": "wallet", "blockchain": "bitcoin", "address": "1CleanWallet"}, AmlStatus.CLEAR, "low"),
        ({"subject": "wallet", "blockchain": "bitcoin", "address": "1BadWallet"}, AmlStatus.POTENTIAL_MATCH, "high"),
        (
            {"subject": "transaction", "blockchain": "ethereum", "tx_hash": "0xbad" + "0" * 61},
            AmlStatus.POTENTIAL_MATCH,
            "high",
        ),
        ({"subject": "transaction", "blockchain": "ethereum", "tx_hash": "cd" * 32}, AmlStatus.CLEAR, "low"),
    ],
)
def test_sandbox_crypto_screening_is_deterministic(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, subject: dict[str, str], status: str, risk: str
) -> None:
    check = screen(make_applicant(), django_capture_on_commit_callbacks, **subject)
    assert (check.status, check.risk_level) == (status, risk)
    assert check.score is not None
    assert check.hits.exists() is (status == AmlStatus.POTENTIAL_MATCH)


def test_an_open_match_holds_a_verified_applicant_for_review(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    applicant = make_applicant(last_name="Pepper")
    make_verification(applicant, "approved")
    check = screen(applicant, django_capture_on_commit_callbacks)
    assert check.status == AmlStatus.POTENTIAL_MATCH
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.REVIEW

    hit = check.hits.get()
    review.decide_hit(hit.pk, "false_positive", user=reviewer, reason_code="OTHER", comment="different birth date")
    check.refresh_from_db()
    applicant.refresh_from_db()
    hit.refresh_from_db()
    assert check.status == AmlStatus.FALSE_POSITIVE
    assert applicant.status == ApplicantStatus.VERIFIED
    assert (hit.status, hit.resolved_by, hit.resolution_code) == (AmlHitStatus.FALSE_POSITIVE, reviewer, "OTHER")
    row = AuditEvent.objects.get(action="hit_resolved")
    assert (row.actor, row.reason, row.data["resolution"]) == (reviewer, "different birth date", "false_positive")


def test_a_confirmed_match_suspends_the_applicant_once_every_hit_is_resolved(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    applicant = make_applicant(last_name="Pep-Sanction")
    make_verification(applicant, "approved")
    check = screen(applicant, django_capture_on_commit_callbacks)
    pep, sanction = check.hits.order_by("entity_id")
    review.decide_hit(sanction.pk, "true_positive", user=reviewer, reason_code="SANCTIONS_MATCH")
    check.refresh_from_db()
    assert check.status == AmlStatus.POTENTIAL_MATCH  # one hit still open
    review.decide_hit(pep.pk, "false_positive", user=reviewer, reason_code="OTHER")
    check.refresh_from_db()
    applicant.refresh_from_db()
    assert check.status == AmlStatus.CONFIRMED_MATCH
    assert applicant.status == ApplicantStatus.SUSPENDED
    assert AuditEvent.objects.filter(object_type="applicant", to_status="suspended", actor=reviewer).exists()


def test_resolving_needs_permission_a_known_reason_and_an_open_hit(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any, user: Any
) -> None:
    check = screen(make_applicant(last_name="Pepper"), django_capture_on_commit_callbacks)
    hit = check.hits.get()
    with pytest.raises(PermissionDenied):
        review.decide_hit(hit.pk, "false_positive", user=user, reason_code="OTHER")
    with pytest.raises(ValidationError):
        review.decide_hit(hit.pk, "false_positive", user=reviewer, reason_code="NOPE")
    with pytest.raises(ValidationError):
        review.decide_hit(hit.pk, "maybe", user=reviewer, reason_code="OTHER")
    review.decide_hit(hit.pk, "false_positive", user=reviewer, reason_code="OTHER")
    with pytest.raises(ValidationError):
        review.decide_hit(hit.pk, "true_positive", user=reviewer, reason_code="OTHER")


def test_reviewers_cannot_resolve_hits_on_their_own_applicant(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    check = screen(make_applicant(user=reviewer, last_name="Pepper"), django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        review.decide_hit(check.hits.get().pk, "false_positive", user=reviewer, reason_code="OTHER")


class SlowScreeningBackend(KycBackend):
    """Answers 'still working' on screen(), and the result on the second fetch."""

    provider = "slow-aml"
    capabilities = frozenset({"aml"})
    fetches = 0

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        return AmlResult(status=AmlStatus.RUNNING, provider_status="queued", provider_check_id="slow-1")

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        type(self).fetches += 1
        if type(self).fetches < 2:
            return AmlResult(status=AmlStatus.RUNNING, provider_status="in_progress", provider_check_id="slow-1")
        return AmlResult(status=AmlStatus.CLEAR, provider_status="done", provider_check_id="slow-1", score=0.1)


def test_a_running_check_is_polled_until_it_settles(make_applicant: Any, time_machine: Any) -> None:
    from django.conf import settings
    from django.test import override_settings
    from django.utils import timezone

    from django_kyc.services import sweeper

    SlowScreeningBackend.fetches = 0
    backends = {**settings.DJANGO_KYC["BACKENDS"], "slow": {"CLASS": f"{__name__}.SlowScreeningBackend"}}
    time_machine.move_to(timezone.now(), tick=False)
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends}):
        check = aml.start_check(make_applicant(), Change.system(Source.API), backend="slow")
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert (check.status, check.provider_status, check.attempts) == (AmlStatus.RUNNING, "queued", 0)
        assert sweeper.sweep().aml_checks == 0  # not due yet
        for _ in range(2):
            check.refresh_from_db()
            time_machine.move_to(check.next_attempt_at, tick=False)
            aml.run_check(check.pk)
    check.refresh_from_db()
    assert (check.status, check.provider_status, check.score) == (AmlStatus.CLEAR, "done", 0.1)
    assert SlowScreeningBackend.fetches == 2


def test_a_check_still_running_after_the_deadline_ends_in_error(make_applicant: Any, time_machine: Any) -> None:
    from datetime import timedelta

    from django.conf import settings
    from django.test import override_settings
    from django.utils import timezone

    SlowScreeningBackend.fetches = -1000  # the provider never finishes
    backends = {**settings.DJANGO_KYC["BACKENDS"], "slow": {"CLASS": f"{__name__}.SlowScreeningBackend"}}
    time_machine.move_to(timezone.now(), tick=False)
    kyc = {**settings.DJANGO_KYC, "BACKENDS": backends, "AML_RUNNING_TIMEOUT_SECONDS": 3600}
    with override_settings(DJANGO_KYC=kyc):
        check = aml.start_check(make_applicant(), Change.system(Source.API), backend="slow")
        aml.run_check(check.pk)
        check.refresh_from_db()
        first_delay = (check.next_attempt_at - timezone.now()).total_seconds()
        time_machine.move_to(timezone.now() + timedelta(minutes=30), tick=False)
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.RUNNING
        assert (check.next_attempt_at - timezone.now()).total_seconds() > first_delay  # polls thin out
        time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
        aml.run_check(check.pk)
    check.refresh_from_db()
    assert check.status == AmlStatus.ERROR
    assert "had not finished" in check.last_error
    assert check.next_attempt_at is None


def test_hit_resolution_goes_through_the_transition_table(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    from django_kyc.exceptions import InvalidTransition
    from django_kyc.services import transitions

    check = screen(make_applicant(last_name="Pepper"), django_capture_on_commit_callbacks)
    hit = check.hits.get()
    review.decide_hit(hit.pk, "true_positive", user=reviewer, reason_code="SANCTIONS_MATCH")
    row = AuditEvent.objects.get(action="hit_resolved")
    assert (row.from_status, row.to_status) == ("open", "true_positive")
    with pytest.raises(InvalidTransition):
        transitions.transition_aml_hit(hit.pk, "false_positive", Change.system())
