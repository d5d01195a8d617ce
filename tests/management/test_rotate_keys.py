"""``kyc_rotate_keys``: add a key, rotate, drop the old key, and nothing is lost."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_kyc.crypto import DecryptionError, blind_index
from django_kyc.management.commands.kyc_rotate_keys import progress_bar
from django_kyc.models import AmlCheck, Applicant, Document, DocumentFile, Verification, WebhookEvent
from tests.support.files import make_png
from tests.support.kyc_settings import kyc_settings_with
from tests.test_crypto import raw_column

pytestmark = pytest.mark.django_db

OLD_KEY = settings.DJANGO_KYC["ENCRYPTION_KEYS"][0]
NEW_KEY = Fernet.generate_key().decode()


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("kyc_rotate_keys", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def people(make_applicant: Callable[..., Applicant]) -> list[Applicant]:
    applicants = [make_applicant(last_name=f"Person{i}", date_of_birth=datetime.date(1980, 1, 1 + i)) for i in range(7)]
    for i, applicant in enumerate(applicants):
        document = applicant.documents.get()
        document.number = f"P{i:07d}"
        document.save(update_fields=["number"])
        Verification.objects.create(applicant=applicant, backend="sandbox", provider_data={"i": i})
        AmlCheck.objects.create(applicant=applicant, backend="sandbox", provider_data={"hits": [i]})
        WebhookEvent.objects.create(backend="sandbox", event_id=f"evt_{i}", body=f'{{"n": {i}}}'.encode())
    return applicants


def snapshot() -> dict[str, Any]:
    return {
        "dob": sorted(Applicant.objects.values_list("date_of_birth", flat=True)),
        "numbers": sorted(Document.objects.values_list("number", flat=True)),
        "bodies": sorted(WebhookEvent.objects.values_list("body", flat=True)),
        "verifications": sorted(v["i"] for v in Verification.objects.values_list("provider_data", flat=True)),
        "aml": sorted(a["hits"][0] for a in AmlCheck.objects.values_list("provider_data", flat=True)),
    }


def test_add_key_rotate_then_drop_the_old_key(people: list[Applicant]) -> None:
    before = snapshot()
    document = Document.objects.first()
    assert document is not None
    old_token = raw_column(Document, "number", document.pk)

    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY])):
        assert snapshot() == before  # old rows still read while both keys are listed
        output = rotate("--batch-size", "3")
        # 7 applicants, 7 documents, 7 webhook events, 7 verifications, 7 AML checks
        assert output.count("7 stale") == 5, output
        assert "[##########----------" in output or "3/7" in output
        assert "[" + "#" * 30 + "] 7/7" in output
        assert "Done: 35 row(s) re-encrypted." in output
        assert "0 row(s)" in rotate().splitlines()[-1]  # a second run finds nothing to do

    assert raw_column(Document, "number", document.pk) != old_token
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY])):
        assert snapshot() == before
        assert Document.objects.get(number_bidx=blind_index(document.number)) == document


def test_without_rotation_dropping_the_old_key_fails_loudly(people: list[Applicant]) -> None:
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY])),
        pytest.raises(DecryptionError, match="ENCRYPTION_KEYS"),
    ):
        snapshot()


def test_dry_run_writes_nothing(people: list[Applicant]) -> None:
    document = Document.objects.first()
    assert document is not None
    old_token = raw_column(Document, "number", document.pk)
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY])):
        output = rotate("--dry-run")
        assert "Done: 35 row(s) would be re-encrypted." in output
    assert raw_column(Document, "number", document.pk) == old_token


def test_new_blind_index_key_rebuilds_the_indexes(people: list[Applicant]) -> None:
    new_bidx_key = "a-brand-new-blind-index-key-0123456789"
    with override_settings(DJANGO_KYC=kyc_settings_with(BLIND_INDEX_KEY=new_bidx_key)):
        assert not Document.objects.filter(number_bidx=blind_index("P0000003")).exists()
        output = rotate()
        assert "Done: 7 row(s) re-encrypted." in output
        assert Document.objects.get(number_bidx=blind_index("p000 0003")).applicant == people[3]


def test_progress_bar() -> None:
    assert progress_bar(0, 10, width=10) == "[----------] 0/10"
    assert progress_bar(5, 10, width=10) == "[#####-----] 5/10"
    assert progress_bar(10, 10, width=10) == "[##########] 10/10"
    assert progress_bar(0, 0, width=4) == "[####] 0/0"


# --- document files ---------------------------------------------------------------------------------------


def on_disk(row: DocumentFile) -> Path:
    """Where the default storage keeps ``row``'s bytes (encrypted, unless written before encryption)."""
    return Path(str(settings.DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"])) / row.file.name


def plaintexts() -> dict[Any, bytes]:
    contents = {}
    for row in DocumentFile.objects.all():
        with row.file.open("rb") as handle:
            contents[row.pk] = handle.read()
    return contents


def test_files_are_reencrypted_under_the_new_key_then_the_old_key_can_go(
    people: list[Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    before = plaintexts()
    old_paths = {row.pk: on_disk(row) for row in DocumentFile.objects.all()}
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY])):
        with django_capture_on_commit_callbacks(execute=True):
            output = rotate()
        assert "Document files: 7 file(s)" in output
        assert "] 7/7 7 under an older key, 0 plaintext" in output
        assert output.splitlines()[-1] == "Done: 35 row(s) re-encrypted. 7 document file(s) re-encrypted."
        assert "0 document file(s)" in rotate().splitlines()[-1]  # a second run finds nothing to do

    for row in DocumentFile.objects.all():
        assert not old_paths[row.pk].exists()  # the copy under the old key is gone
        assert make_png() not in on_disk(row).read_bytes()
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY])):
        assert plaintexts() == before


def test_plaintext_files_from_before_encryption_get_encrypted_with_a_progress_bar(
    people: list[Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    for row in DocumentFile.objects.all():
        on_disk(row).write_bytes(make_png(4, 4))  # as stored before files were encrypted
    hashes = dict(DocumentFile.objects.values_list("pk", "sha256"))

    assert "7 document file(s) would be re-encrypted." in rotate("--dry-run")
    assert all(on_disk(row).read_bytes() == make_png(4, 4) for row in DocumentFile.objects.all())

    with django_capture_on_commit_callbacks(execute=True):
        output = rotate("--batch-size", "3")
    assert "  [############------------------] 3/7" in output
    assert "  [" + "#" * 30 + "] 7/7 0 under an older key, 7 plaintext" in output
    assert "7 document file(s) re-encrypted." in output
    for row in DocumentFile.objects.all():
        assert make_png(4, 4) not in on_disk(row).read_bytes()
    assert set(plaintexts().values()) == {make_png(4, 4)}
    assert dict(DocumentFile.objects.values_list("pk", "sha256")) == hashes  # still the plaintext's


def test_a_file_that_cannot_be_reencrypted_is_reported_and_the_rest_done(
    people: list[Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    tampered, missing, *rest = DocumentFile.objects.order_by("pk")
    content = bytearray(on_disk(tampered).read_bytes())
    content[-1] ^= 0x01
    on_disk(tampered).write_bytes(bytes(content))
    on_disk(missing).unlink()
    out, err = io.StringIO(), io.StringIO()
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY])),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError, match="1 document file"),
    ):
        call_command("kyc_rotate_keys", stdout=out, stderr=err)
    assert "] 7/7 6 under an older key, 0 plaintext, 1 missing from storage (skipped), 1 failed" in out.getvalue()
    assert "5 document file(s) re-encrypted." in out.getvalue()
    assert f"DocumentFile {tampered.pk}: " in err.getvalue()
    assert "failed authentication" in err.getvalue()
    assert DocumentFile.objects.get(pk=tampered.pk).file.name == tampered.file.name  # left as it was
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[NEW_KEY])):
        for row in DocumentFile.objects.filter(pk__in=[row.pk for row in rest]):
            with row.file.open("rb") as handle:
                assert handle.read() == make_png()
