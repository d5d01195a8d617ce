# Retention and erasure: relationship end, retention date, legal hold and purge marker on the applicant, and
# the erasure-request register (which also carries the ``purge_applicant`` permission).

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_kyc", "0002_aml_subjects"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="applicant",
            name="relationship_ended_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the business relationship ended (or onboarding was refused); starts the retention.",
                null=True,
                verbose_name="relationship ended at",
            ),
        ),
        migrations.AddField(
            model_name="applicant",
            name="retention_until",
            field=models.DateTimeField(
                blank=True,
                db_index=True,
                editable=False,
                help_text="Computed from the relationship end and DJANGO_KYC retention settings.",
                null=True,
                verbose_name="retain until",
            ),
        ),
        migrations.AddField(
            model_name="applicant",
            name="legal_hold",
            field=models.BooleanField(
                default=False, help_text="Blocks every purge, even after retention lapses.", verbose_name="legal hold"
            ),
        ),
        migrations.AddField(
            model_name="applicant",
            name="legal_hold_reason",
            field=models.TextField(blank=True, verbose_name="legal hold reason"),
        ),
        migrations.AddField(
            model_name="applicant",
            name="pii_redacted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="personal data purged at"),
        ),
        migrations.CreateModel(
            name="ErasureRequest",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "requested_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="requested at"),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("subject", "The person (data subject)"),
                            ("staff", "Staff, on the person's behalf"),
                            ("api", "API"),
                            ("system", "System"),
                        ],
                        default="subject",
                        max_length=16,
                        verbose_name="source",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "Requested"),
                            ("scheduled", "Scheduled (retention or legal hold)"),
                            ("done", "Done"),
                            ("refused", "Refused"),
                        ],
                        default="requested",
                        editable=False,
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "due_at",
                    models.DateTimeField(
                        blank=True,
                        editable=False,
                        help_text="When retention lapses, if known.",
                        null=True,
                        verbose_name="due at",
                    ),
                ),
                (
                    "completed_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="completed at"),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "applicant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="erasure_requests",
                        to="django_kyc.applicant",
                        verbose_name="applicant",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "erasure request",
                "verbose_name_plural": "erasure requests",
                "ordering": ["-requested_at"],
                "permissions": [("purge_applicant", "Can purge applicants' personal data")],
                "indexes": [models.Index(fields=["status", "due_at"], name="kyc_erasure_due_idx")],
            },
        ),
    ]
