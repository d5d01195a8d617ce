"""Resolving AML hits and opening provider reports in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client, override_settings
from django.urls import reverse

from django_kyc.backends.base import KycBackend
from django_kyc.models import AmlCheck, AmlHit, AuditEvent
from django_kyc.status import AmlHitStatus, AmlStatus

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


class ReportingBackend(KycBackend):
    provider = "reporting"
    capabilities = frozenset({"aml", "aml_report"})

    def aml_report(self, aml_check: AmlCheck) -> tuple[bytes, str]:
        return PDF, "application/pdf"


def check_with_hit(make_applicant: Any, backend: str = "sandbox") -> tuple[AmlCheck, AmlHit]:
    check = AmlCheck.objects.create(
        applicant=make_applicant(), backend=backend, status=AmlStatus.POTENTIAL_MATCH, provider_check_id="r-1"
    )
    hit = AmlHit.objects.create(aml_check=check, entity_id="e-1", caption="A. Person", score=0.9)
    return check, hit


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_resolving_a_hit_asks_for_a_reason_then_settles_the_check(make_applicant: Any, reviewer: Any) -> None:
    from django.contrib.auth.models import Permission

    reviewer.user_permissions.add(Permission.objects.get(codename="view_amlhit"))
    check, hit = check_with_hit(make_applicant)
    client = login(reviewer)
    url = reverse("admin:django_kyc_amlhit_changelist")
    form = client.post(url, {"action": "resolve_false_positive", ACTION_CHECKBOX_NAME: [hit.pk]})
    assert form.status_code == 200
    assert b'name="reason_code"' in form.content
    done = client.post(
        url,
        {
            "action": "resolve_false_positive",
            ACTION_CHECKBOX_NAME: [hit.pk],
            "apply": "1",
            "reason_code": "OTHER",
            "comment": "different person",
        },
        follow=True,
    )
    assert done.status_code == 200
    hit.refresh_from_db()
    check.refresh_from_db()
    assert (hit.status, hit.resolved_by, hit.resolution_reason) == (
        AmlHitStatus.FALSE_POSITIVE,
        reviewer,
        "different person",
    )
    assert check.status == AmlStatus.FALSE_POSITIVE
    assert AuditEvent.objects.filter(action="hit_resolved", actor=reviewer).count() == 1


def test_without_the_review_permission_there_is_no_resolution_action(make_applicant: Any, staff_viewer: Any) -> None:
    from django.contrib.auth.models import Permission

    staff_viewer.user_permissions.add(Permission.objects.get(codename="view_amlhit"))
    _, hit = check_with_hit(make_applicant)
    client = login(staff_viewer)
    page = client.get(reverse("admin:django_kyc_amlhit_changelist"))
    assert page.status_code == 200
    assert b"resolve_false_positive" not in page.content
    client.post(
        reverse("admin:django_kyc_amlhit_changelist"),
        {"action": "resolve_true_positive", ACTION_CHECKBOX_NAME: [hit.pk], "apply": "1", "reason_code": "OTHER"},
    )
    hit.refresh_from_db()
    assert hit.status == AmlHitStatus.OPEN


def test_provider_report_is_fetched_on_demand_and_audited(make_applicant: Any, admin_user: Any) -> None:
    backends = {**settings.DJANGO_KYC["BACKENDS"], "reporting": {"CLASS": f"{__name__}.ReportingBackend"}}
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends}):
        check, _ = check_with_hit(make_applicant, backend="reporting")
        client = login(admin_user)
        page = client.get(reverse("admin:django_kyc_amlcheck_change", args=[check.pk]))
        report_url = reverse("admin:django_kyc_amlcheck_report", args=[check.pk])
        assert report_url.encode() in page.content
        response = client.get(report_url)
    assert response.status_code == 200
    assert response.content == PDF
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="report_viewed", object_id=str(check.pk)).count() == 1


def test_report_view_needs_the_view_permission(make_applicant: Any, user: Any) -> None:
    user.is_staff = True
    user.save()
    check, _ = check_with_hit(make_applicant)
    response = login(user).get(reverse("admin:django_kyc_amlcheck_report", args=[check.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="report_viewed").exists()
