"""The applicant page shows when the applicant is next screened against sanctions and PEP lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from django_kyc.services import transitions
from django_kyc.services.audit import Change
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
