"""Re-screening: each approved applicant's next screening date, and the re-screening check type.

Applicants approved before this migration are scheduled from their approval date at their risk level's
interval (``RESCREENING_INTERVAL_DAYS``): one UPDATE per level, nothing read into memory.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone


def schedule_approved(apps: Any, schema_editor: Any) -> None:
    from django_kyc.models.screening import rescreening_interval

    Applicant = apps.get_model("django_kyc", "Applicant")
    now = timezone.now()
    for level in ("low", "medium", "high", "prohibited"):
        interval = rescreening_interval(level)
        if interval is None:
            continue
        Applicant.objects.using(schema_editor.connection.alias).filter(
            status="verified", risk_level=level, next_screening_at__isnull=True, pii_redacted_at__isnull=True
        ).update(next_screening_at=Coalesce(F("verified_at"), Value(now, output_field=DateTimeField())) + interval)


class Migration(migrations.Migration):
    dependencies = [
        ("django_kyc", "0016_periodic_review"),
    ]

    operations = [
        migrations.AddField(
            model_name="applicant",
            name="next_screening_at",
            field=models.DateTimeField(
                blank=True,
                db_index=True,
                editable=False,
                help_text="When the approved applicant is screened against sanctions and PEP lists again.",
                null=True,
                verbose_name="next screening",
            ),
        ),
        migrations.AlterField(
            model_name="amlcheck",
            name="check_type",
            field=models.CharField(
                choices=[
                    ("initial", "Initial"),
                    ("ongoing", "Ongoing"),
                    ("manual", "Manual"),
                    ("rescreening", "Re-screening"),
                ],
                default="initial",
                max_length=16,
                verbose_name="check type",
            ),
        ),
        migrations.RunPython(schedule_approved, migrations.RunPython.noop),
    ]
