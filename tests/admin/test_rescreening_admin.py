"""The applicant page shows when the applicant is next screened against sanctions and PEP lists, and the hits a
re-screening finds wait in the AML queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from django_kyc.models import AmlCheck, Applicant
from django_kyc.models.aml import AmlCheckType
from django_kyc.services import rescreening, transitions
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, ApplicantStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db


def test_the_applicant_page_shows_the_next_screening(admin_user: User, make_applicant: Any) -> None:
    applicant = make_applicant()
    make_verification(applicant, "approved")
    transitions.refresh_applicant(applicant.pk, Change.system())
    applicant.refresh_from_db()
    assert applicant.next_screening_at is not None
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("admin:django_kyc_applicant_change", args=[applicant.pk])).content.decode()
    assert "Ongoing screening" in page
    assert "Next screening:" in page
    shown = formats.date_format(timezone.localtime(applicant.next_screening_at), "DATETIME_FORMAT")
    assert shown in page


def test_the_hits_a_rescreening_finds_wait_in_the_aml_queue(
    admin_user: User, make_applicant: Any, time_machine: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A year on, the lists name an approved customer: the re-screening's hits are open items of the AML queue,
    and the applicant waits in review."""
    time_machine.move_to(datetime(2027, 7, 10, 9, 0, tzinfo=UTC), tick=False)
    applicant = make_applicant()
    make_verification(applicant, "approved")
    transitions.refresh_applicant(applicant.pk, Change.system())
    Applicant.objects.filter(pk=applicant.pk).update(last_name="Pep-Sanction")  # the lists changed, not the name
    time_machine.move_to(datetime(2028, 7, 10, 9, 0, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert rescreening.rescreen_due().screened == 1
    check = AmlCheck.objects.get(applicant=applicant, check_type=AmlCheckType.RESCREENING)
    assert check.status == AmlStatus.POTENTIAL_MATCH
    client = Client()
    client.force_login(admin_user)
    response = client.get(reverse("admin:django_kyc_amlqueueitem_changelist"))
    assert response.status_code == 200
    listed = {hit.pk for hit in response.context["cl"].result_list}
    assert listed == set(check.hits.values_list("pk", flat=True))
    assert len(listed) == 2
    assert Applicant.objects.get(pk=applicant.pk).status == ApplicantStatus.REVIEW
