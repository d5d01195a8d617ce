"""List endpoints cost a fixed number of queries, however many rows they return (no N+1)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from django_kyc.models import AmlCheck, AmlHit, Applicant, Document, DocumentFile, Verification
from tests.support.files import make_png

MAX_QUERIES = 10


def _add_applicants(target: Applicant, count: int) -> None:
    for _ in range(count):
        Applicant.objects.create(last_name="Row")


def _add_documents(target: Applicant, count: int) -> None:
    for _ in range(count):
        document = Document.objects.create(applicant=target, type="id_card")
        for side in ("front", "back"):
            row = DocumentFile(document=document, side=side, sha256="0" * 64, content_type="image/png", size=1)
            row.file.save("x.png", io.BytesIO(make_png()), save=False)
            row.save()


def _add_verifications(target: Applicant, count: int) -> None:
    Verification.objects.bulk_create(Verification(applicant=target, backend="sandbox") for _ in range(count))


def _add_aml_checks(target: Applicant, count: int) -> None:
    for _ in range(count):
        check = AmlCheck.objects.create(applicant=target, backend="sandbox")
        for n in range(2):
            AmlHit.objects.create(aml_check=check, entity_id=f"e{n}", caption="Someone", score=0.5 + n / 10)


LISTS = [
    ("applicants/", _add_applicants),
    ("applicants/{applicant}/documents/", _add_documents),
    ("applicants/{applicant}/verifications/", _add_verifications),
    ("applicants/{applicant}/aml-checks/", _add_aml_checks),
]


def _count(api: APIClient, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == rows
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "add"), LISTS, ids=[path for path, _ in LISTS])
@pytest.mark.parametrize("role", ["owner", "staff"])
def test_list_queries_do_not_grow_with_rows(
    user: User,
    staff_viewer: User,
    client_for: Callable[[User | None], APIClient],
    make_applicant: Callable[..., Applicant],
    path: str,
    add: Callable[[Applicant, int], None],
    role: str,
) -> None:
    applicant = make_applicant(user=user, with_document=False)
    api = client_for(user if role == "owner" else staff_viewer)
    url = "/kyc/api/" + path.format(applicant=applicant.pk)
    is_applicant_list = path == "applicants/"
    # the owner sees only their own applicant however many others exist
    seen = (lambda n: 1) if (is_applicant_list and role == "owner") else (lambda n: n + 1 if is_applicant_list else n)

    add(applicant, 3)
    few = _count(api, url, seen(3))
    add(applicant, 27)
    many = _count(api, url, seen(30))
    assert few == many, f"{url}: {few} queries for 3 rows, {many} for 30"
    assert many <= MAX_QUERIES


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["verifications/{verification}/", "aml-checks/{aml_check}/"])
def test_detail_queries_are_bounded(
    user: User, client_for: Callable[[User | None], APIClient], make_applicant: Callable[..., Applicant], path: str
) -> None:
    applicant = make_applicant(user=user)
    verification = Verification.objects.create(applicant=applicant, backend="sandbox")
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox")
    for n in range(5):
        AmlHit.objects.create(aml_check=check, entity_id=f"e{n}", caption="Someone")
    url = "/kyc/api/" + path.format(verification=verification.pk, aml_check=check.pk)
    api: Any = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    assert len(queries) <= MAX_QUERIES
