"""The retention admin: recording erasure requests, the purge permission, the register."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_kyc.models import Applicant, ErasureRequest, ErasureStatus
from django_kyc.services import retention

pytestmark = pytest.mark.django_db
CHANGE = ("django_kyc.view_applicant", "django_kyc.change_applicant")


def act(user: Any, action: str, applicant: Applicant) -> None:
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("admin:django_kyc_applicant_changelist"), {"action": action, "_selected_action": [str(applicant.pk)]}
    )
    assert response.status_code == 302


def test_recording_without_purge_permission_only_schedules(
    make_user: Callable[..., Any], make_applicant: Callable[..., Applicant]
) -> None:
    applicant = make_applicant()
    act(make_user("clerk", *CHANGE, staff=True), "record_erasure_request", applicant)
    request = ErasureRequest.objects.get(applicant=applicant)
    assert request.status == ErasureStatus.SCHEDULED
    assert request.requested_by is not None
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is None


def test_recording_with_purge_permission_purges_when_allowed(
    make_user: Callable[..., Any], make_applicant: Callable[..., Applicant]
) -> None:
    applicant = make_applicant()
    act(make_user("dpo", *CHANGE, "django_kyc.purge_applicant", staff=True), "record_erasure_request", applicant)
    assert ErasureRequest.objects.get(applicant=applicant).status == ErasureStatus.DONE
    applicant.refresh_from_db()
    assert applicant.first_name == ""


def test_purge_action_needs_the_permission_and_respects_retention(
    make_user: Callable[..., Any], make_applicant: Callable[..., Applicant]
) -> None:
    inside, lapsed = make_applicant(), make_applicant(last_name="Old")
    retention.end_relationship(inside, timezone.now())
    retention.end_relationship(lapsed, timezone.now() - timedelta(days=6 * 366))
    clerk = make_user("clerk", *CHANGE, staff=True)
    client = Client()
    client.force_login(clerk)
    page = client.get(reverse("admin:django_kyc_applicant_changelist"))
    assert b"purge_applicants" not in page.content
    dpo = make_user("dpo", *CHANGE, "django_kyc.purge_applicant", staff=True)
    act(dpo, "purge_applicants", inside)
    act(dpo, "purge_applicants", lapsed)
    inside.refresh_from_db()
    lapsed.refresh_from_db()
    assert inside.pii_redacted_at is None
    assert lapsed.pii_redacted_at is not None


def test_register_and_applicant_pages_render(admin_client: Client, make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant()
    request = retention.request_erasure(applicant, execute=False)
    assert admin_client.get(reverse("admin:django_kyc_erasurerequest_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:django_kyc_erasurerequest_change", args=[request.pk])).status_code == 200
    page = admin_client.get(reverse("admin:django_kyc_applicant_change", args=[applicant.pk]))
    assert page.status_code == 200
    assert b"relationship_ended_at" in page.content
