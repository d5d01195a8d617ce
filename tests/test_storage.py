"""Document storage: whatever storage holds the files gets ciphertext, with private modes on the file system,
and everything that opens a file through the storage gets the plaintext."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, Storage
from django.test import override_settings

from django_kyc.models import Applicant, DocumentFile
from django_kyc.storage import document_storage
from tests.support.files import make_png
from tests.support.kyc_settings import kyc_settings_with

PNG = make_png(3, 3)
#: What a site's own storage (S3 and the like) would be: one that keeps whatever it is given.
SITE_STORAGE = InMemoryStorage()


def site_storage() -> Storage:
    return SITE_STORAGE


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_storage_writes_ciphertext_0600_in_0700_directories(tmp_path: Path) -> None:
    root = tmp_path / "kyc"
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_STORAGE_LOCATION=str(root))):
        storage = document_storage()
    name = storage.save("documents/ab/scan.png", ContentFile(PNG))

    at_rest = (root / name).read_bytes()
    assert PNG not in at_rest
    assert b"IHDR" not in at_rest  # not even the PNG's header survives
    assert mode(root / name) == 0o600
    for directory in (root, root / "documents", root / "documents" / "ab"):
        assert mode(directory) == 0o700, directory
    with storage.open(name) as handle:
        assert handle.read() == PNG
    assert storage.size(name) == len(PNG)


def test_a_storage_the_site_supplies_receives_only_ciphertext() -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_STORAGE="tests.test_storage.site_storage")):
        storage = document_storage()
    name = storage.save("documents/cd/scan.png", ContentFile(PNG))

    with SITE_STORAGE.open(name) as raw:
        at_rest = raw.read()
    assert PNG not in at_rest
    assert b"IHDR" not in at_rest
    with storage.open(name) as handle:
        assert handle.read() == PNG


@pytest.mark.django_db
def test_an_api_upload_reaches_the_site_storage_encrypted_and_reads_back_plain(
    document_storage_as: Callable[[Storage], Storage],
    make_applicant: Callable[..., Applicant],
    user: Any,
    client_for: Callable[..., Any],
) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_STORAGE="tests.test_storage.site_storage")):
        document_storage_as(document_storage())
    applicant = make_applicant(user=user, with_document=False)
    response = client_for(user).post(
        f"/kyc/api/applicants/{applicant.pk}/documents/", {"type": "passport", "file": ContentFile(PNG, "a.png")}
    )
    assert response.status_code == 201, response.content
    row = DocumentFile.objects.get()
    assert row.sha256 == hashlib.sha256(PNG).hexdigest()  # the plaintext's, as before
    assert row.size == len(PNG)
    with SITE_STORAGE.open(row.file.name) as raw:
        assert PNG not in raw.read()
    with row.file.open("rb") as handle:
        assert handle.read() == PNG
    assert row.file.size == len(PNG)


def test_plaintext_files_from_before_encryption_stay_readable(tmp_path: Path) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_STORAGE_LOCATION=str(tmp_path))):
        storage = document_storage()
    legacy = tmp_path / "documents" / "ef" / "old.png"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(PNG)

    with storage.open("documents/ef/old.png") as handle:
        assert handle.read() == PNG
    assert storage.size("documents/ef/old.png") == len(PNG)


def test_a_field_file_reopened_reads_the_plaintext_again(tmp_path: Path) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_STORAGE_LOCATION=str(tmp_path))):
        storage = document_storage()
    name = storage.save("documents/ab/scan.png", ContentFile(PNG))
    handle = storage.open(name)
    assert handle.read(5) == PNG[:5]
    handle.open()  # what FieldFile.open() does on a file it opened before
    assert handle.read() == PNG
    handle.close()
    handle.open()
    assert handle.read() == PNG
    handle.close()


def test_no_path_and_no_url_lead_to_the_ciphertext(tmp_path: Path) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(DOCUMENT_STORAGE_LOCATION=str(tmp_path))):
        storage = document_storage()
    name = storage.save("documents/ab/scan.png", ContentFile(PNG))
    with pytest.raises(NotImplementedError, match="encrypted"):
        storage.path(name)
    with pytest.raises(ValueError, match="no public URL"):
        storage.url(name)
    with pytest.raises(ValueError, match="'rb'"):
        storage.open(name, "wb")
    assert os.listdir(tmp_path / "documents" / "ab") == [Path(name).name]
