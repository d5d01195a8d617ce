"""The false-positive memory: a reviewer's "not a match" holds until the person or the listed entity changes."""

from __future__ import annotations

from typing import Any

import pytest

from django_kyc.backends.values import AmlHitResult, AmlResult
from django_kyc.models import AmlCheck, ScreeningDismissal
from django_kyc.services import aml, dismissals, review
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, Source

pytestmark = pytest.mark.django_db


def screen(applicant: Any, capture: Any) -> AmlCheck:
    with capture(execute=True):
        check = aml.start_check(applicant, Change.system(Source.API), backend="sandbox")
    check.refresh_from_db()
    return check


def test_a_dismissed_match_is_not_raised_again_until_the_applicant_changes(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    applicant = make_applicant(last_name="Pepper")
    first = screen(applicant, django_capture_on_commit_callbacks)
    review.decide_hit(first.hits.get().pk, "false_positive", user=reviewer, reason_code="OTHER")
    dismissal = ScreeningDismissal.objects.get()
    assert (dismissal.entity_id, dismissal.backend, dismissal.dismissed_by) == ("sbx-pep-1", "sandbox", reviewer)
    assert dismissal.applicant_digest == dismissals.applicant_digest(applicant)

    again = screen(applicant, django_capture_on_commit_callbacks)
    assert again.status == AmlStatus.CLEAR
    assert not again.hits.exists()
    assert again.provider_data["dismissed_matches"] == ["sbx-pep-1"]

    applicant.first_name = "Janet"  # a screened field changed: the earlier judgement no longer covers them
    applicant.save()
    changed = screen(applicant, django_capture_on_commit_callbacks)
    assert changed.status == AmlStatus.POTENTIAL_MATCH
    assert changed.hits.get().entity_id == "sbx-pep-1"


def test_a_changed_list_entry_is_raised_again(make_applicant: Any, reviewer: Any) -> None:
    applicant = make_applicant()
    change = Change.provider("sandbox", Source.TASK)

    def result(digest: str) -> AmlResult:
        details = {dismissals.ENTITY_DIGEST: digest}
        hit = AmlHitResult(entity_id="ofac_sdn:1", caption="Listed", score=0.9, topics=("sanction",), details=details)
        return AmlResult(status=AmlStatus.POTENTIAL_MATCH, hits=(hit,))

    first = aml.apply_result(AmlCheck.objects.create(applicant=applicant, backend="sandbox").pk, result("a1"), change)
    review.decide_hit(first.hits.get().pk, "false_positive", user=reviewer, reason_code="OTHER")

    same = aml.apply_result(AmlCheck.objects.create(applicant=applicant, backend="sandbox").pk, result("a1"), change)
    assert same.status == AmlStatus.CLEAR
    other_backend = aml.apply_result(
        AmlCheck.objects.create(applicant=applicant, backend="other").pk, result("a1"), change
    )
    assert other_backend.status == AmlStatus.POTENTIAL_MATCH  # a dismissal is the backend's entity, not any
    amended = aml.apply_result(AmlCheck.objects.create(applicant=applicant, backend="sandbox").pk, result("b2"), change)
    assert amended.status == AmlStatus.POTENTIAL_MATCH
    assert amended.hits.get().entity_id == "ofac_sdn:1"


def test_a_true_positive_is_not_remembered(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    applicant = make_applicant(last_name="Pepper")
    check = screen(applicant, django_capture_on_commit_callbacks)
    review.decide_hit(check.hits.get().pk, "true_positive", user=reviewer, reason_code="SANCTIONS_MATCH")
    assert not ScreeningDismissal.objects.exists()


def test_wallet_hits_are_not_remembered_for_the_person(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, reviewer: Any
) -> None:
    applicant = make_applicant()
    with django_capture_on_commit_callbacks(execute=True):
        check = aml.start_check(
            applicant,
            Change.system(Source.API),
            backend="sandbox",
            subject="wallet",
            blockchain="bitcoin",
            address="1BadWallet",
        )
    review.decide_hit(check.hits.get().pk, "false_positive", user=reviewer, reason_code="OTHER")
    assert not ScreeningDismissal.objects.exists()
