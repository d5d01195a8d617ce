"""The review dashboard: numbers computed on known data, and the page renders its SVG charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_kyc.models import Verification, WebhookRejection
from django_kyc.services import dashboard
from django_kyc.status import VerificationStatus
from tests.support.factories import create_user, make_verification

pytestmark = pytest.mark.django_db
V = VerificationStatus


def decided(applicant: Any, status: str, backend: str, minutes: int) -> Verification:
    """A verification created ``minutes`` before its decision, decided an hour ago."""
    decided_at = timezone.now() - timedelta(hours=1)
    verification = make_verification(applicant, status, backend=backend, decided_at=decided_at)
    Verification.objects.filter(pk=verification.pk).update(created_at=decided_at - timedelta(minutes=minutes))
    return verification


@pytest.fixture
def known_data(make_applicant: Any) -> None:
    # sandbox: 3 approved, 1 declined; minutes to decision 10, 20, 30, 100 -> median 25 min
    for status, minutes in [(V.APPROVED, 10), (V.APPROVED, 20), (V.DECLINED, 30), (V.APPROVED, 100)]:
        decided(make_applicant(with_document=False), status, "sandbox", minutes)
    # other: 1 approved, 2 declined; 60, 120, 180 -> median 120 min
    for status, minutes in [(V.DECLINED, 60), (V.APPROVED, 120), (V.DECLINED, 180)]:
        decided(make_applicant(with_document=False), status, "other", minutes)
    # not decided, and decided long ago: neither counts
    make_verification(make_applicant(with_document=False), V.REVIEW)
    old = decided(make_applicant(with_document=False), V.APPROVED, "sandbox", 5)
    Verification.objects.filter(pk=old.pk).update(decided_at=timezone.now() - timedelta(days=90))


def test_median_of_durations() -> None:
    assert dashboard.median_seconds([]) is None
    assert dashboard.median_seconds([timedelta(seconds=s) for s in (5, 1, 3)]) == 3
    assert dashboard.median_seconds([timedelta(seconds=s) for s in (1, 2, 3, 10)]) == 2.5


def test_backend_stats_on_known_data(known_data: None) -> None:
    stats = {s.backend: s for s in dashboard.backend_stats(30)}
    assert set(stats) == {"sandbox", "other"}
    assert (stats["sandbox"].approved, stats["sandbox"].declined, stats["sandbox"].approval_rate) == (3, 1, 0.75)
    assert stats["sandbox"].median_seconds == 25 * 60
    assert stats["other"].approval_rate == pytest.approx(1 / 3)
    assert stats["other"].median_seconds == 120 * 60


def test_status_series_counts_per_day(known_data: None) -> None:
    dates, series = dashboard.status_series(7)
    assert len(dates) == 7
    # by creation day and current status: all nine were created within the last few hours
    assert {status: sum(values) for status, values in series.items()} == {"review": 1, "approved": 5, "declined": 3}
    assert list(series) == ["review", "approved", "declined"]  # the order of VerificationStatus


def test_dashboard_renders_svg_and_is_linked_from_the_app_index(known_data: None) -> None:
    viewer = create_user("lead", "django_kyc.view_verification", "django_kyc.view_reviewdecision", staff=True)
    client = Client()
    client.force_login(viewer)
    response = client.get(reverse("admin:django_kyc_dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="kyc-chart"') == 4
    assert 'class="kyc-bar"' in body
    assert "75%" in body
    assert "25m" in body
    assert "2.0h" in body
    assert "<script" not in body.split('id="content-main"')[1]
    index = client.get(reverse("admin:app_list", args=["django_kyc"]))
    assert reverse("admin:django_kyc_dashboard") in index.content.decode()


def test_dashboard_needs_view_verification(db: Any) -> None:
    client = Client()
    client.force_login(create_user("nobody", "django_kyc.view_reviewdecision", staff=True))
    assert client.get(reverse("admin:django_kyc_dashboard")).status_code == 403


def test_rejection_totals_sum_the_window_per_backend_and_reason(db: Any) -> None:
    today = timezone.localdate()
    for days_ago, backend, reason, count in [
        (0, "sandbox", "bad_signature", 5),
        (3, "sandbox", "bad_signature", 2),
        (1, "", "unknown_endpoint", 9),
        (1, "sandbox", "stale", 1),
        (40, "sandbox", "stale", 100),  # outside a 30-day window
    ]:
        WebhookRejection.objects.create(
            backend=backend, reason=reason, day=today - timedelta(days=days_ago), count=count
        )
    totals = [(t.backend, t.reason, t.count) for t in dashboard.rejection_totals(30)]
    assert totals == [("", "unknown_endpoint", 9), ("sandbox", "bad_signature", 7), ("sandbox", "stale", 1)]
    assert dashboard.rejection_totals(30)[0].reason_label == "Unknown endpoint"


def test_dashboard_shows_rejections_only_to_who_may_view_them(db: Any) -> None:
    WebhookRejection.objects.create(backend="", reason="unknown_endpoint", day=timezone.localdate(), count=4)
    url = reverse("admin:django_kyc_dashboard")
    lead = Client()
    lead.force_login(create_user("lead", "django_kyc.view_verification", staff=True))
    assert 'id="kyc-webhook-rejections"' not in lead.get(url).content.decode()
    ops = Client()
    ops.force_login(create_user("ops", "django_kyc.view_verification", "django_kyc.view_webhookrejection", staff=True))
    body = ops.get(url).content.decode()
    table = body.split('id="kyc-webhook-rejections"')[1].split("</table>")[0]
    assert "(unknown endpoint)" in table
    assert "Unknown endpoint" in table
    assert "<td>4</td>" in table
