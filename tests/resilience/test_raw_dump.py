"""After the whole flow, driven through the REST API (applicant, a correction of the date of birth, document
upload, verification, the provider's webhook, processing), a raw dump of the database holds no plaintext
document number or date of birth: ``pg_dump`` of the test database, and a plain cursor over every table. And
the document storage holds no plaintext image."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from django_kyc.models import Applicant, Document, DocumentFile, Verification, WebhookEvent
from django_kyc.status import VerificationStatus
from tests.support.files import make_png

pytestmark = [pytest.mark.resilience, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NUMBER = "QZ8827364"
OLD_DOB, DOB = "1987-06-05", "1987-06-15"


def forbidden() -> list[str]:
    """The plaintext in every spelling a careless serialiser might use."""
    spellings = [NUMBER, NUMBER.lower()]
    for iso in (OLD_DOB, DOB):
        year, month, day = iso.split("-")
        spellings += [
            iso,
            f"{year}{month}{day}",
            f"{day}/{month}/{year}",
            f"{month}/{day}/{year}",
            f"{day}.{month}.{year}",
        ]
    return spellings


def run_flow(api: APIClient) -> Verification:
    response = api.post(
        "/kyc/api/applicants/",
        {"first_name": "Jane", "last_name": "Doe", "nationality": "GB", "date_of_birth": OLD_DOB},
        format="json",
    )
    assert response.status_code == 201, response.content
    applicant_id = response.json()["id"]
    response = api.patch(f"/kyc/api/applicants/{applicant_id}/", {"date_of_birth": DOB}, format="json")
    assert response.status_code == 200, response.content
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("passport.png", make_png(), content_type="image/png")
    response = api.post(
        f"/kyc/api/applicants/{applicant_id}/documents/",
        {"type": "passport", "number": NUMBER, "issuing_country": "GB", "file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    # django-q2 runs in sync mode here: submission, the sandbox's decision webhook and its processing all run
    # as the request's transaction commits
    response = api.post(f"/kyc/api/applicants/{applicant_id}/verifications/", {}, format="json")
    assert response.status_code == 201, response.content
    return Verification.objects.get(pk=response.json()["id"])


def cursor_dump() -> str:
    """Every row of every table in the schema, as JSON text, read without any model field class."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608 - our own table names
            parts.extend(row for (row,) in cursor.fetchall())
    return "\n".join(parts)


def pg_dump() -> str | None:
    binary = shutil.which("pg_dump")
    if binary is None:
        return None
    params = connection.get_connection_params()
    env = {**os.environ}
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    command = [binary, "--data-only", "--no-owner", "-d", str(params.get("dbname") or connection.settings_dict["NAME"])]
    for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(key):
            command += [flag, str(params[key])]
    done = subprocess.run(command, capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode("utf-8", errors="replace")


def test_raw_database_holds_no_plaintext_document_number_or_date_of_birth(
    postgresql: None, user: User, client_for: Callable[[User | None], APIClient], settings: Any
) -> None:
    verification = run_flow(client_for(user))

    assert verification.status == VerificationStatus.APPROVED, verification.last_error
    assert WebhookEvent.objects.filter(state="processed").exists()  # the decision came by webhook
    # the values are there, and readable through the models
    document = Document.objects.get(applicant=verification.applicant)
    assert document.number == NUMBER
    assert str(Applicant.objects.get(pk=verification.applicant_id).date_of_birth) == DOB

    dumps = {"cursor": cursor_dump()}
    dumped = pg_dump()
    if dumped is not None:
        dumps["pg_dump"] = dumped
    for name, text in dumps.items():
        assert "django_kyc_document" in text or name == "cursor"
        assert str(verification.pk) in text, name  # the dump is of the right database
        for plaintext in forbidden():
            assert plaintext not in text, (name, plaintext)

    [row] = DocumentFile.objects.filter(document=document)
    at_rest = (Path(settings.DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"]) / row.file.name).read_bytes()
    assert make_png() not in at_rest
    with row.file.open("rb") as handle:
        assert handle.read() == make_png()
