"""The false-positive memory's admin (read-only, view permission) and the lists backend's evidence rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_kyc.admin.case_data import evidence
from django_kyc.models import AmlCheck, AmlHit, Applicant, ScreeningDismissal

pytestmark = pytest.mark.django_db
DETAILS = {
    "list": "ofac_sdn",
    "source_id": "1001",
    "entity_digest": "ab" * 32,
    "list_version": 7,
    "list_loaded_at": "2026-12-04T08:00:00+00:00",
    "matched_name": "Ivan Sokoloff",
    "matched_name_type": "alias",
    "matched_name_weak": False,
    "applicant_name": "Ivan Sokolov",
    "weak_alias": None,
    "scores": {"name": 0.93, "dob": 0.06, "nationality": -0.03, "weak_alias": 0.0, "total": 0.96},
    "dob": {"verdict": "match", "listed": "1961-05-02"},
    "nationality": {"verdict": "contradicts", "listed": "RU"},
    "algorithm": "lists-1",
    "threshold": 0.85,
}


@pytest.fixture
def dismissal(make_applicant: Callable[..., Applicant], user: Any) -> ScreeningDismissal:
    applicant = make_applicant(user=user, with_document=False)
    check = AmlCheck.objects.create(applicant=applicant, backend="lists")
    hit = AmlHit.objects.create(aml_check=check, entity_id="ofac_sdn:1001", caption="Ivan SOKOLOV", details=DETAILS)
    return ScreeningDismissal.objects.create(
        applicant=applicant,
        backend="lists",
        entity_id=hit.entity_id,
        entity_digest="ab" * 32,
        applicant_digest="0" * 64,
        hit=hit,
        dismissed_by=user,
    )


def test_lists_evidence_reads_as_sentences(dismissal: ScreeningDismissal) -> None:
    assert dismissal.hit is not None
    rows = dict(evidence(dismissal.hit))
    assert rows["Matched name"] == "Ivan Sokoloff (alias)"
    assert rows["Applicant's name"] == "Ivan Sokolov"
    assert rows["List entry"] == "ofac_sdn, id 1001 (version 7, loaded 2026-12-04T08:00:00+00:00)"
    assert rows["Date of birth"] == "+0.06 (match 1961-05-02)"
    assert rows["Nationality"] == "-0.03 (contradicts RU)"
    assert rows["Total and threshold"] == "0.96 / 0.85"
    assert rows["Algorithm"] == "lists-1"


def test_staff_with_view_permission_see_dismissals_read_only(
    dismissal: ScreeningDismissal, make_user: Callable[..., User]
) -> None:
    client = Client()
    client.force_login(make_user("viewer", "django_kyc.view_screeningdismissal", staff=True))
    listing = client.get("/admin/django_kyc/screeningdismissal/")
    assert listing.status_code == 200
    assert dismissal.applicant.reference in listing.content.decode()
    assert dismissal.applicant.last_name not in listing.content.decode()  # by reference: no PII here
    page = client.get(f"/admin/django_kyc/screeningdismissal/{dismissal.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.get("/admin/django_kyc/screeningdismissal/add/").status_code == 403
    client.force_login(make_user("other", staff=True))
    assert client.get("/admin/django_kyc/screeningdismissal/").status_code == 403
