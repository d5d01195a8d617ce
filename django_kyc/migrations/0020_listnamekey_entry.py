"""Copy each name key's entry, list and kind onto the key, and drop the keys of retired entries, so a screening
ranks candidates from the key table alone. Made non-null (and indexed) in 0021: PostgreSQL cannot alter a table
in the transaction that filled its deferred foreign keys."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    ListNameKey = apps.get_model("django_kyc", "ListNameKey")
    ListEntryName = apps.get_model("django_kyc", "ListEntryName")
    ListNameKey.objects.filter(name__entry__removed_at__isnull=False).delete()
    of_name = ListEntryName.objects.filter(pk=OuterRef("name_id"))
    ListNameKey.objects.update(
        entry_id=Subquery(of_name.values("entry_id")[:1]),
        sanctions_list_id=Subquery(of_name.values("entry__sanctions_list_id")[:1]),
        kind=Subquery(of_name.values("entry__kind")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('django_kyc', '0019_sanctions_key_version'),
    ]

    operations = [
        migrations.AddField(
            model_name='listnamekey',
            name='entry',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='django_kyc.listentry'),
        ),
        migrations.AddField(
            model_name='listnamekey',
            name='sanctions_list',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='django_kyc.sanctionslist'),
        ),
        migrations.AddField(
            model_name='listnamekey',
            name='kind',
            field=models.CharField(choices=[('person', 'natural person'), ('organisation', 'organisation'), ('vessel', 'vessel'), ('aircraft', 'aircraft')], default='', max_length=16, verbose_name='kind'),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
