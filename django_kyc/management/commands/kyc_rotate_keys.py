"""``manage.py kyc_rotate_keys``: re-encrypt every encrypted column and document file under the primary key.

Rotation is three steps (docs/encryption.md): put a new key first in ``DJANGO_KYC["ENCRYPTION_KEYS"]`` and
deploy, run this command, then drop the old key. The command also recomputes blind indexes, which is what a
new ``BLIND_INDEX_KEY`` needs, and encrypts document files stored in plaintext before files were encrypted.
Rows and files already under the primary key are skipped, so it is safe to re-run or to interrupt.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from django_kyc.crypto import (
    BlindIndexField,
    DecryptionError,
    blind_index,
    blind_index_fields,
    encrypted_fields,
    is_current_token,
)
from django_kyc.exceptions import DocumentIntegrityError, DocumentStorageError
from django_kyc.management.progress import progress_bar
from django_kyc.models import DocumentFile
from django_kyc.services.document_files import document_file_storage, reencrypt
from django_kyc.storage import FileState


class Command(BaseCommand):
    help = (
        "Re-encrypt encrypted fields and document files under the first key of DJANGO_KYC['ENCRYPTION_KEYS'], "
        "encrypt document files stored in plaintext, and rebuild blind indexes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows read and written per batch.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = max(1, options["batch_size"])
        dry_run: bool = options["dry_run"]
        total_changed = 0
        for model in apps.get_app_config("django_kyc").get_models():
            fields = encrypted_fields(model)
            if not fields or model._meta.proxy:
                continue
            total_changed += self._rotate_model(model, fields, blind_index_fields(model), batch_size, dry_run)
        files_changed, failures = self._rotate_files(batch_size, dry_run)
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(f"Done: {total_changed} row(s) {verb}. {files_changed} document file(s) {verb}.")
        if failures:
            raise CommandError(
                f"{failures} document file(s) could not be re-encrypted (listed above); keep every old key in "
                "ENCRYPTION_KEYS until they are dealt with."
            )

    def _rotate_model(
        self,
        model: type[models.Model],
        fields: list[models.Field[Any, Any]],
        indexes: list[BlindIndexField],
        batch_size: int,
        dry_run: bool,
    ) -> int:
        """One model: read ciphertexts alongside the decrypted values, rewrite only stale rows."""
        label = model._meta.label
        total = model._default_manager.count()
        self.stdout.write(f"{label}: {total} row(s)")
        # the raw tokens (a cast to plain text skips decryption) tell whether a row is already current
        raw = {f"_raw_{field.name}": Cast(field.name, output_field=models.TextField()) for field in fields}
        queryset = (
            model._default_manager.order_by("pk")
            .only("pk", *(field.name for field in fields), *(index.name for index in indexes))
            .annotate(**raw)
        )
        seen = changed = 0
        batch: list[models.Model] = []
        update_fields = [field.name for field in fields] + [index.name for index in indexes]
        for row in queryset.iterator(chunk_size=batch_size):
            seen += 1
            if self._is_stale(row, fields, indexes):
                changed += 1
                batch.append(row)  # the field re-encrypts the decrypted value under the primary key on save
            if len(batch) >= batch_size:
                self._write(model, batch, update_fields, dry_run)
                batch = []
            if seen % batch_size == 0:
                self.stdout.write(f"  {progress_bar(seen, total)}")
        self._write(model, batch, update_fields, dry_run)
        self.stdout.write(f"  {progress_bar(seen, total)} {changed} stale")
        return changed

    def _rotate_files(self, batch_size: int, dry_run: bool) -> tuple[int, int]:
        """Document files: encrypt plaintext ones, re-encrypt those under an older key. (changed, failed)"""
        storage = document_file_storage()
        queryset = DocumentFile.objects.exclude(file="").order_by("pk").only("pk", "file")
        total = queryset.count()
        self.stdout.write(f"Document files: {total} file(s)")
        seen = changed = missing = 0
        counts = dict.fromkeys(FileState, 0)
        failed: list[str] = []
        for row in queryset.iterator(chunk_size=batch_size):
            seen += 1
            try:
                state = storage.state(row.file.name)
                counts[state] += 1
                if state is not FileState.CURRENT:
                    changed += dry_run or reencrypt(row, storage)
            except FileNotFoundError:
                missing += 1
            except (DecryptionError, DocumentIntegrityError, DocumentStorageError) as exc:
                failed.append(str(row.pk))
                self.stderr.write(f"  DocumentFile {row.pk}: {exc}")
            if seen % batch_size == 0:
                self.stdout.write(f"  {progress_bar(seen, total)}")
        summary = f"{counts[FileState.STALE]} under an older key, {counts[FileState.PLAINTEXT]} plaintext"
        if missing:
            summary += f", {missing} missing from storage (skipped)"
        if failed:
            summary += f", {len(failed)} failed"
        self.stdout.write(f"  {progress_bar(seen, total)} {summary}")
        return changed, len(failed)

    @staticmethod
    def _is_stale(row: models.Model, fields: list[models.Field[Any, Any]], indexes: list[BlindIndexField]) -> bool:
        stale = False
        for field in fields:
            token = getattr(row, f"_raw_{field.name}")
            if token is not None and not is_current_token(token):
                stale = True
        for index in indexes:
            expected = blind_index(getattr(row, index.source))
            if getattr(row, index.attname) != expected:
                setattr(row, index.attname, expected)
                stale = True
        return stale

    @staticmethod
    def _write(model: type[models.Model], batch: list[models.Model], fields: list[str], dry_run: bool) -> None:
        if not batch or dry_run:
            return
        with transaction.atomic():
            model._default_manager.bulk_update(batch, fields)
