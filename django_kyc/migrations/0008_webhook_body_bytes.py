# WebhookEvent.body becomes bytes (EncryptedBinaryField): the delivery exactly as it was authenticated, since
# JSON may be UTF-16 or UTF-32 and processing re-parses these bytes.
#
# State only. The column stays the same text of Fernet tokens and Fernet encrypts bytes, so every existing
# row reads back as the UTF-8 bytes of the text it held: no row is rewritten, and no table is rebuilt (SQLite
# would otherwise copy the whole inbox to change nothing). Reversing it is the same: state only.
from django.db import migrations

import django_kyc.crypto


class Migration(migrations.Migration):

    dependencies = [
        ('django_kyc', '0007_webhook_rejection'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='webhookevent',
                    name='body',
                    field=django_kyc.crypto.EncryptedBinaryField(blank=True, verbose_name='body'),
                ),
            ],
        ),
    ]
