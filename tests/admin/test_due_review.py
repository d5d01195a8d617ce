"""The "due for review" queue (filters by when and why, people shown like the other queues, names masked
without the PII permission) and the dashboard's chart of reviews falling due per month."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from django_kyc.models import Applicant
from django_kyc.services import dashboard
from django_kyc.status import ApplicantStatus, ReviewReason

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 7, 12, 12, 0, tzinfo=ZoneInfo("UTC"))
URL = reverse("admin:django_kyc_reviewdueitem_changelist")


@pytest.fixture
def due(make_applicant: Callable[..., Applicant], time_machine: Any) -> dict[str, Applicant]:
    """One applicant per situation, dated around a frozen now."""
    time_machine.move_to(NOW, tick=False)
    cases = {
        "overdue": (-3, ReviewReason.DOCUMENT_EXPIRY, ApplicantStatus.REVERIFICATION_REQUIRED),
        "soon": (10, ReviewReason.PERIODIC, ApplicantStatus.VERIFIED),
        "risk": (25, ReviewReason.RISK_CHANGE, ApplicantStatus.VERIFIED),
        "later": (60, ReviewReason.SCREENING_HIT, ApplicantStatus.VERIFIED),
        "far": (400, ReviewReason.PERIODIC, ApplicantStatus.VERIFIED),
        "declined": (-5, ReviewReason.PERIODIC, ApplicantStatus.REJECTED),
    }
    made = {}
    for name, (days, reason, status) in cases.items():
        applicant = make_applicant(last_name=name.capitalize(), with_document=False)
        Applicant.objects.filter(pk=applicant.pk).update(
            status=status, next_review_at=NOW + timedelta(days=days), review_reason=reason
        )
        made[name] = applicant
    return made


def names(client: Client, **query: str) -> list[str]:
    response = client.get(URL, query)
    assert response.status_code == 200
    return [row.last_name for row in response.context["cl"].result_list]


def test_the_queue_lists_what_falls_due_soonest_first_with_filters(due: dict[str, Applicant], admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    assert names(client) == ["Overdue", "Soon", "Risk", "Later"]  # within 90 days; rejected and far ones left out
    assert names(client, due="overdue") == ["Overdue"]
    assert names(client, due="30d") == ["Soon", "Risk"]
    assert names(client, review_reason="document_expiry") == ["Overdue"]
    assert names(client, review_reason="risk_change") == ["Risk"]
    assert names(client, review_reason="screening_hit") == ["Later"]
    body = client.get(URL).content.decode()
    assert "kyc-overdue" in body
    assert "Re-verification required" in body


def test_names_are_masked_without_the_pii_permission(due: dict[str, Applicant], make_user: Callable[..., User]) -> None:
    viewer = make_user("viewer", "django_kyc.view_reviewdueitem", staff=True)
    client = Client()
    client.force_login(viewer)
    body = client.get(URL).content.decode()
    assert "Overdue" not in body
    assert due["overdue"].reference[:12] in body
    assert client.get(URL, {"last_name": "Overdue"}).status_code == 400  # no guessing names by filter


def test_upcoming_reviews_by_month_with_the_overdue_first(due: dict[str, Applicant]) -> None:
    labels, series = dashboard.upcoming_reviews(months=3, now=NOW)
    assert labels == ["overdue", "2027-07", "2027-08", "2027-09"]
    assert series == {
        "periodic": [0, 1, 0, 0],  # "soon", on 22 July; "far" is beyond the window, "declined" is rejected
        "document_expiry": [1, 0, 0, 0],
        "risk_change": [0, 0, 1, 0],
        "screening_hit": [0, 0, 0, 1],
    }


def test_the_dashboard_draws_the_upcoming_reviews(due: dict[str, Applicant], admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    body = client.get(reverse("admin:django_kyc_dashboard")).content.decode()
    chart = body[body.index('id="chart-reviews"') :]
    assert "Reviews falling due per month" in chart
    assert "Document expiry 1" in chart
    assert ">2027-08<" in chart


def test_overdue_reviews_are_escalated_to_the_review_queue(due: dict[str, Applicant], admin_user: User) -> None:
    """The reviewers' own page counts the overdue reviews and links to them (in the same query as its other
    counts), so a review the person let lapse reaches a reviewer."""
    client = Client()
    client.force_login(admin_user)
    response = client.get(reverse("admin:django_kyc_reviewqueueitem_changelist"))
    assert response.context["queue_counts"]["overdue_reviews"] == 1  # "overdue"; "declined" is rejected
    body = response.content.decode()
    link = body[body.index('id="kyc-overdue-reviews"') - 200 : body.index('id="kyc-overdue-reviews"') + 120]
    assert f"{URL}?due=overdue" in link
    assert "<strong>1</strong> overdue reviews" in link
    assert names(client, due="overdue") == ["Overdue"]  # where the link leads
