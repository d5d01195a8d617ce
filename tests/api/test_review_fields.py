"""The applicant's review through the API: ``next_review_at``, ``review_reason``, ``action_required``, and the
``actions`` that let a verified person verify again once the notice period opens, with a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from django_kyc.models import Applicant
from django_kyc.services import due_diligence, review_policy, transitions
from django_kyc.services.audit import Change
from django_kyc.status import ApplicantStatus, RiskLevel, Source, VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db

START = datetime(2027, 7, 12, 12, 0, tzinfo=ZoneInfo("UTC"))
NOTHING = {"update": False, "upload_document": False, "start_verification": False}


def test_a_due_review_asks_the_person_to_verify_again(
    user: User,
    client_for: Callable[[User | None], APIClient],
    make_applicant: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    time_machine.move_to(START, tick=False)
    applicant = make_applicant(user=user, risk_level=RiskLevel.HIGH)
    verification = make_verification(applicant, VerificationStatus.REVIEW)
    transitions.transition_verification(verification.pk, VerificationStatus.APPROVED, Change.system(Source.TASK))
    api = APIClient()
    api.force_authenticate(user)  # a session would expire on the way: the clock jumps a year
    url = f"/kyc/api/applicants/{applicant.pk}/"
    due = review_policy.add_months(START, 12)

    body = api.get(url).json()
    assert body["status"] == "verified"
    assert datetime.fromisoformat(body["next_review_at"]) == due
    assert (body["review_reason"], body["action_required"], body["actions"]) == ("periodic", False, NOTHING)
    assert api.post(f"{url}verifications/", {}, format="json").status_code == 409

    # the notice period opens: still verified, but asked to verify again, and allowed to
    time_machine.move_to(due - timedelta(days=20), tick=False)
    body = api.get(url).json()
    assert (body["status"], body["action_required"]) == ("verified", True)
    assert body["actions"] == {"update": False, "upload_document": True, "start_verification": True}

    # it lapses: the person may also bring their data up to date
    time_machine.move_to(due, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        due_diligence.run_reviews()
    body = api.get(url).json()
    assert (body["status"], body["action_required"]) == ("reverification_required", True)
    assert body["actions"] == {"update": True, "upload_document": True, "start_verification": True}
    assert api.patch(url, {"city": "Leeds"}, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        started = api.post(f"{url}verifications/", {}, format="json")
    assert started.status_code == 201, started.content
    assert Applicant.objects.get(pk=applicant.pk).status == ApplicantStatus.IN_PROGRESS


def test_an_unverified_applicant_has_no_review(
    user: User, client_for: Callable[[User | None], APIClient], make_applicant: Any
) -> None:
    applicant = make_applicant(user=user)
    body = client_for(user).get(f"/kyc/api/applicants/{applicant.pk}/").json()
    assert (body["next_review_at"], body["review_reason"], body["action_required"]) == (None, "", False)


def test_the_review_fields_are_read_only(
    user: User, client_for: Callable[[User | None], APIClient], make_applicant: Any
) -> None:
    applicant = make_applicant(user=user)
    response = client_for(user).patch(
        f"/kyc/api/applicants/{applicant.pk}/",
        {"next_review_at": "2099-01-01T00:00:00Z", "review_reason": "periodic", "action_required": True},
        format="json",
    )
    assert response.status_code == 200
    applicant.refresh_from_db()
    assert (applicant.next_review_at, applicant.review_reason) == (None, "")
