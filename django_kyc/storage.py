"""Private storage for identity documents.

Documents are never stored under ``MEDIA_ROOT`` and the default storage has no ``base_url``, so there is
no public URL to leak: files are only reachable through the permission-checked download view.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.module_loading import import_string

from django_kyc.conf import kyc_settings


class PrivateFileSystemStorage(FileSystemStorage):
    """A file system storage that refuses to produce URLs."""

    def url(self, name: str | None) -> str:
        raise ValueError("KYC documents have no public URL; serve them through the download view.")


def default_document_storage() -> Storage:
    location = kyc_settings.DOCUMENT_STORAGE_LOCATION
    if not location:
        base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
        location = base / "private" / "kyc-documents"
    return PrivateFileSystemStorage(location=str(location), base_url=None)


def document_storage() -> Storage:
    """The storage documents live on; a callable so migrations stay stable when the setting changes."""
    factory = kyc_settings.DOCUMENT_STORAGE
    if isinstance(factory, str):
        factory = import_string(factory)
    storage: Storage = factory()
    return storage


def document_upload_to(instance: Any, filename: str) -> str:
    """A random name that keeps nothing of what the client sent (the original name may be PII)."""
    extension = Path(filename).suffix.lower()[:8]
    return f"documents/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{extension}"
