"""``manage.py kyc_rotate_keys``: re-encrypt every encrypted column under the primary key.

Rotation is three steps (docs/encryption.md): put a new key first in ``DJANGO_KYC["ENCRYPTION_KEYS"]`` and
deploy, run this command, then drop the old key. The command also recomputes blind indexes, which is what a
new ``BLIND_INDEX_KEY`` needs. Rows already under the primary key with a current index are skipped, so it is
safe to re-run or to interrupt.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from django_kyc.crypto import BlindIndexField, blind_index, blind_index_fields, encrypted_fields, is_current_token

BAR_WIDTH = 30


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#####-----] 500/1000``: plain text, so it reads the same in a terminal, a log and a CI job."""
    filled = width if total == 0 else min(width, done * width // total)
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields under the first key of DJANGO_KYC['ENCRYPTION_KEYS'] and rebuild blind indexes."

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
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(f"Done: {total_changed} row(s) {verb}.")

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
