"""Private, encrypted storage for identity documents.

Documents are never stored under ``MEDIA_ROOT`` and have no URL, so there is nothing public to leak: files
are only reachable through the permission-checked download view.

Whatever storage holds them (the default private directory, or the site's own, S3 and the like, through
``DJANGO_KYC["DOCUMENT_STORAGE"]``), it is wrapped in :class:`EncryptedStorage`, which encrypts on the way
in and decrypts on the way out (:mod:`django_kyc.file_encryption`). That is the one door: the admin view and
every provider backend read ``DocumentFile.file`` as usual and get the plaintext, and the storage below only
ever receives ciphertext.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.module_loading import import_string

from django_kyc import file_encryption
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import DocumentIntegrityError, DocumentStorageError

DEFAULT_DOCUMENT_STORAGE = "django_kyc.storage.default_document_storage"
LOCATION_SETTING = 'DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"]'
#: Ciphertext on its way to the storage stays in memory up to this size, then spills to a temporary file
#: (ciphertext only: the plaintext never touches a temporary file of ours).
SPOOL_MAX_BYTES = 1024 * 1024
#: What ``filetype`` reads to recognise a type (a plaintext file from before encryption must be a document).
PLAINTEXT_SNIFF_BYTES = 262


class PrivateFileSystemStorage(FileSystemStorage):
    """A file system storage that refuses to produce URLs, with files 0600 and directories 0700.

    Only the process's own user may read or list what it stores; the modes are the defaults, so a site
    that passes its own keeps them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(*args, **kwargs)

    def url(self, name: str | None) -> str:
        raise ValueError("KYC documents have no public URL; serve them through the download view.")


def default_storage_location() -> Path:
    """``DOCUMENT_STORAGE_LOCATION``, or ``<BASE_DIR or cwd>/private/kyc-documents`` when it is unset."""
    location = kyc_settings.DOCUMENT_STORAGE_LOCATION
    if location:
        return Path(location)
    return Path(getattr(settings, "BASE_DIR", Path.cwd())) / "private" / "kyc-documents"


def default_document_storage() -> Storage:
    return PrivateFileSystemStorage(location=str(default_storage_location()), base_url=None)


def uses_default_storage() -> bool:
    """Whether documents go to the default private directory (so its location is ours to check)."""
    factory = kyc_settings.DOCUMENT_STORAGE
    return factory in (DEFAULT_DOCUMENT_STORAGE, default_document_storage)


class FileState(str, Enum):
    """Where a stored file stands with respect to the current keys (what rotation has to do with it)."""

    PLAINTEXT = "plaintext"  # written before files were encrypted
    STALE = "stale"  # encrypted, its data key wrapped by an older key
    CURRENT = "current"  # encrypted under the first key


class DecryptedFile(File):
    """The plaintext of an encrypted file, streamed and authenticated chunk by chunk.

    Not seekable. ``open()`` starts again from the storage, so a ``FieldFile`` opened twice reads the
    plaintext twice, never a file-system path of the ciphertext.
    """

    def __init__(self, storage: EncryptedStorage, name: str, handle: IO[bytes], header: file_encryption.Header):
        reader = file_encryption.DecryptingReader(handle, header, label=storage.label(name))
        super().__init__(io.BufferedReader(reader, buffer_size=header.chunk_size), name=name)
        self.mode = "rb"
        self._storage = storage
        self._header = header

    @property
    def size(self) -> int:
        """The plaintext size, worked out from the ciphertext's size without reading it."""
        return self._header.plaintext_size(self._storage.inner.size(str(self.name)))

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> DecryptedFile:
        if not self.closed:
            self.close()
        fresh = self._storage.open(str(self.name), mode or "rb")
        self.file = fresh.file
        self._header = getattr(fresh, "_header", self._header)
        return self


class EncryptedStorage(Storage):
    """Encrypts every file saved to ``inner`` and decrypts every file opened from it.

    Files ``inner`` already held in plaintext (written before encryption existed) are still read as they
    are; ``manage.py kyc_rotate_keys`` encrypts them. Names, existence, deletion and listing pass straight
    through. ``path()`` and ``url()`` are refused: either would hand out the ciphertext.
    """

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    @staticmethod
    def label(name: str) -> str:
        """How errors name a file: its storage name, which is random and carries no personal data."""
        return f"Document file {name!r}"

    # --- writing ----------------------------------------------------------------------------------------

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Encrypt ``content`` into a spooled buffer, then hand the ciphertext to ``inner``.

        A failure of ``inner`` (or of the spool) is a :class:`DocumentStorageError`, whatever ``inner`` raised:
        the upload view answers it with a 503, and the caller deletes what it saved before.
        """
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES) as spool:
            try:
                for piece in file_encryption.encrypt(content.chunks()):
                    spool.write(piece)
                spool.seek(0)
            except OSError as exc:
                raise DocumentStorageError(f"Could not encrypt {self.label(str(name))}: {exc}") from exc
            try:
                return str(self.inner.save(name, File(spool, name=name), max_length=max_length))
            except Exception as exc:
                # any storage, any exception type (boto, google-cloud, OSError): all mean "not stored"
                raise DocumentStorageError(f"The document storage could not save a file: {exc}") from exc

    # --- reading ----------------------------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode != "rb":
            raise ValueError(f"Document files are encrypted and can only be opened with mode 'rb', not {mode!r}.")
        handle = self.inner.open(name, "rb")
        try:
            header = file_encryption.read_header(handle, label=self.label(name))
            if header is not None:
                return DecryptedFile(self, name, handle, header)
        except BaseException:
            handle.close()
            raise
        handle.close()
        return self._open_plaintext(name)

    def _open_plaintext(self, name: str) -> File:
        """A file from before encryption, as it is, if it still starts like the image or PDF it was.

        Anything else (a damaged header, a file that was never a document) would be garbage to its reader.
        """
        handle = self.inner.open(name, "rb")
        head = handle.read(PLAINTEXT_SNIFF_BYTES)
        kind = filetype.guess(head)
        if kind is None or not (kind.mime.startswith("image/") or kind.mime == "application/pdf"):
            handle.close()
            raise DocumentIntegrityError(
                f"{self.label(name)} is neither encrypted nor an image or PDF: it is damaged and not served."
            )
        try:
            handle.seek(0)
        except (AttributeError, OSError, ValueError):  # a stream that cannot rewind: open it again
            handle.close()
            handle = self.inner.open(name, "rb")
        return handle

    def state(self, name: str) -> FileState:
        """Whether the file is plaintext, or encrypted under an older key or the current one (header only)."""
        with self.inner.open(name, "rb") as handle:
            header = file_encryption.read_header(handle, label=self.label(name))
        if header is None:
            return FileState.PLAINTEXT
        return FileState.CURRENT if header.is_current else FileState.STALE

    def size(self, name: str) -> int:
        """The plaintext size (a ``FieldFile``'s ``size``)."""
        with self.inner.open(name, "rb") as handle:
            header = file_encryption.read_header(handle, label=self.label(name))
        total = int(self.inner.size(name))
        return total if header is None else header.plaintext_size(total)

    # --- refused ----------------------------------------------------------------------------------------

    def path(self, name: str) -> str:
        raise NotImplementedError(
            "Document files are encrypted: open them through the storage (FieldFile.open()), which decrypts."
        )

    def url(self, name: str | None) -> str:
        raise ValueError("KYC documents have no public URL; serve them through the download view.")

    # --- passed through ---------------------------------------------------------------------------------

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def exists(self, name: str) -> bool:
        return bool(self.inner.exists(name))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        directories, files = self.inner.listdir(path)
        return list(directories), list(files)

    def get_valid_name(self, name: str) -> str:
        return str(self.inner.get_valid_name(name))

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return str(self.inner.get_alternative_name(file_root, file_ext))

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return str(self.inner.get_available_name(name, max_length=max_length))

    def generate_filename(self, filename: str | os.PathLike[str]) -> str:
        return str(self.inner.generate_filename(filename))

    def get_accessed_time(self, name: str) -> datetime:
        return self.inner.get_accessed_time(name)

    def get_created_time(self, name: str) -> datetime:
        return self.inner.get_created_time(name)

    def get_modified_time(self, name: str) -> datetime:
        return self.inner.get_modified_time(name)


def document_storage() -> Storage:
    """The storage documents live on: ``DOCUMENT_STORAGE``'s, encrypted.

    A callable so migrations stay stable when the setting changes.
    """
    factory = kyc_settings.DOCUMENT_STORAGE
    if isinstance(factory, str):
        factory = import_string(factory)
    storage: Storage = factory()
    return storage if isinstance(storage, EncryptedStorage) else EncryptedStorage(storage)


def document_upload_to(instance: Any, filename: str) -> str:
    """A random name that keeps nothing of what the client sent (the original name may be PII)."""
    extension = Path(filename).suffix.lower()[:8]
    return f"documents/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{extension}"
