"""The name keys' entry and list required, and the lookup index covering what ranking candidates reads."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('django_kyc', '0020_listnamekey_entry'),
    ]

    operations = [
        migrations.AlterField(
            model_name='listnamekey',
            name='entry',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='django_kyc.listentry'),
        ),
        migrations.AlterField(
            model_name='listnamekey',
            name='sanctions_list',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='django_kyc.sanctionslist'),
        ),
        migrations.RemoveIndex(
            model_name='listnamekey',
            name='kyc_listnamekey_key_idx',
        ),
        migrations.AddIndex(
            model_name='listnamekey',
            index=models.Index(fields=['key', 'kind', 'sanctions_list', 'entry'], name='kyc_listnamekey_lookup_idx'),
        ),
    ]
