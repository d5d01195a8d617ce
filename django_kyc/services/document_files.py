"""Re-encrypting stored document files: what ``kyc_rotate_keys`` does to each file it finds stale.

A stale file (plaintext from before encryption, or a data key wrapped by an older key) is decrypted through
the storage and saved again under a fresh name with a fresh data key. Re-encrypting rather than re-wrapping
the old data key costs one pass over the bytes, and buys what a rotation is for: a key that leaked together
with a copy of the storage opens nothing that is stored afterwards.

Order, so that a crash loses nothing: write the new file, point the row at it (only if the row still names
the old file: a purge may have run meanwhile), and delete the old file only after that commits. A crash
leaves at worst an orphaned copy, never a row without its file.
"""

from __future__ import annotations

from typing import cast

from django.db import transaction

from django_kyc.models import DocumentFile
from django_kyc.storage import EncryptedStorage, document_upload_to


def document_file_storage() -> EncryptedStorage:
    """The storage of ``DocumentFile.file`` (always encrypted: ``document_storage()`` wraps whatever is set)."""
    return cast(EncryptedStorage, DocumentFile._meta.get_field("file").storage)


def reencrypt(row: DocumentFile, storage: EncryptedStorage | None = None) -> bool:
    """Save ``row``'s file again under the current key; ``False`` if the row changed meanwhile (nothing kept).

    Raises what reading or saving raises (``DecryptionError``, ``DocumentIntegrityError``,
    ``DocumentStorageError``, ``FileNotFoundError``); the row and its file are then left as they were.
    """
    storage = storage or document_file_storage()
    old = row.file.name
    max_length = DocumentFile._meta.get_field("file").max_length
    with storage.open(old, "rb") as plaintext:
        new = storage.save(document_upload_to(row, old), plaintext, max_length=max_length)
    with transaction.atomic():
        moved = DocumentFile.objects.filter(pk=row.pk, file=old).update(file=new)
        if moved:
            transaction.on_commit(lambda: storage.delete(old))
    if not moved:
        storage.delete(new)
    return bool(moved)
