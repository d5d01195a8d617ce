"""Webhook events whose event id rests on an unauthenticated claim hold it only once the claim is confirmed.

The unique constraint on (backend, event_id) becomes conditional on ``holds_event_id``. Going back restores the
plain constraint; unconfirmed rows that share an event id with another row get a suffix first, so it applies.
"""

from typing import Any

from django.db import migrations, models


def release_unconfirmed(apps: Any, schema_editor: Any) -> None:
    """Reverse step: give every row that does not hold its event id one of its own (``<id>#<row uuid>``)."""
    WebhookEvent = apps.get_model("django_kyc", "WebhookEvent")
    for row in WebhookEvent.objects.filter(holds_event_id=False).only("pk", "event_id"):
        suffix = f"#{row.pk.hex}"
        WebhookEvent.objects.filter(pk=row.pk).update(event_id=row.event_id[: 255 - len(suffix)] + suffix)


class Migration(migrations.Migration):
    dependencies = [
        ("django_kyc", "0009_risk_level_not_editable"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="webhookevent",
            name="kyc_webhook_unique_event",
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="holds_event_id",
            field=models.BooleanField(
                default=True,
                help_text="False while an unauthenticated claim awaits confirmation: repeats are then stored too.",
                verbose_name="holds its event id",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, release_unconfirmed),
        migrations.AddConstraint(
            model_name="webhookevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("holds_event_id", True)),
                fields=("backend", "event_id"),
                name="kyc_webhook_unique_event",
            ),
        ),
    ]
