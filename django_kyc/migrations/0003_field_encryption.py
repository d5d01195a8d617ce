# Field-level encryption (docs/encryption.md): document numbers (+ blind index), dates of birth, webhook bodies
# and provider payloads become encrypted text columns, and existing rows are encrypted in place.
#
# Needs DJANGO_KYC["ENCRYPTION_KEYS"] and ["BLIND_INDEX_KEY"] when there are rows to convert.
from __future__ import annotations

import json
from typing import Any

from django.db import migrations, models
from django.db.models.functions import Cast

import django_kyc.crypto

BATCH_SIZE = 500

#: (model, encrypted field, kind of plaintext in the old column)
ENCRYPTED = [
    ("Document", "number", "text"),
    ("Applicant", "date_of_birth", "date"),
    ("WebhookEvent", "body", "text"),
    ("Verification", "provider_data", "json"),
    ("AmlCheck", "provider_data", "json"),
]


def _python_value(raw: str, kind: str) -> Any:
    """The Python value of what the unencrypted column held, ready for the encrypted field to store."""
    if kind == "json":
        return json.loads(raw)
    if kind == "date":
        import datetime

        return datetime.date.fromisoformat(raw[:10])
    return raw


def encrypt_existing(apps: Any, schema_editor: Any) -> None:
    """Encrypt every plaintext value in place, batch by batch; rows already encrypted are left alone."""
    from cryptography.fernet import InvalidToken

    alias = schema_editor.connection.alias
    for model_name, field_name, kind in ENCRYPTED:
        model = apps.get_model("django_kyc", model_name)
        raw_values = (
            model.objects.using(alias)
            .exclude(**{f"{field_name}__isnull": True})
            .annotate(_raw=Cast(field_name, output_field=models.TextField()))
            .values_list("pk", "_raw")
        )
        batch: list[Any] = []
        fields = [field_name, "number_bidx"] if model_name == "Document" else [field_name]
        for pk, raw in raw_values.iterator(chunk_size=BATCH_SIZE):
            try:
                django_kyc.crypto.get_fernet().decrypt(raw.encode("ascii"))
                continue  # already encrypted
            except (InvalidToken, UnicodeEncodeError):
                pass
            value = _python_value(raw, kind)
            row = model(pk=pk, **{field_name: value})
            if model_name == "Document":
                row.number_bidx = django_kyc.crypto.blind_index(value)
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                model.objects.using(alias).bulk_update(batch, fields)
                batch = []
        if batch:
            model.objects.using(alias).bulk_update(batch, fields)


def decrypt_existing(apps: Any, schema_editor: Any) -> None:
    """Write the plaintext back, so the columns can return to their old types."""
    alias = schema_editor.connection.alias
    for model_name, field_name, kind in ENCRYPTED:
        model = apps.get_model("django_kyc", model_name)
        rows = model.objects.using(alias).exclude(**{f"{field_name}__isnull": True}).values_list("pk", field_name)
        for pk, value in rows.iterator(chunk_size=BATCH_SIZE):
            if kind == "json":
                text = json.dumps(value)
            elif kind == "date":
                text = value.isoformat()
            else:
                text = value
            model.objects.using(alias).filter(pk=pk).update(
                **{field_name: models.Value(text, output_field=models.TextField())}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("django_kyc", "0002_aml_subjects"),
    ]

    operations = [
        migrations.AlterField(
            model_name="document",
            name="number",
            field=django_kyc.crypto.EncryptedCharField(blank=True, max_length=64, verbose_name="document number"),
        ),
        migrations.AddField(
            model_name="document",
            name="number_bidx",
            field=django_kyc.crypto.BlindIndexField(source="number", verbose_name="document number blind index"),
        ),
        migrations.AlterField(
            model_name="applicant",
            name="date_of_birth",
            field=django_kyc.crypto.EncryptedDateField(blank=True, null=True, verbose_name="date of birth"),
        ),
        migrations.AlterField(
            model_name="webhookevent",
            name="body",
            field=django_kyc.crypto.EncryptedTextField(blank=True, verbose_name="body"),
        ),
        migrations.AlterField(
            model_name="verification",
            name="provider_data",
            field=django_kyc.crypto.EncryptedJSONField(
                blank=True, default=dict, editable=False, verbose_name="provider data"
            ),
        ),
        migrations.AlterField(
            model_name="amlcheck",
            name="provider_data",
            field=django_kyc.crypto.EncryptedJSONField(
                blank=True, default=dict, editable=False, verbose_name="provider data"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
    ]
