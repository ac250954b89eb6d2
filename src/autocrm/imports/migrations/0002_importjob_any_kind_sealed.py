"""Any registered kind (the key of an importer, up to 40 characters; no fixed choices), and the
upload stored encrypted (``storage.sealed_storage``; uploads stored before stay readable)."""

import autocrm.imports.storage
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='importjob',
            name='file',
            field=models.FileField(storage=autocrm.imports.storage.sealed_storage, upload_to='imports/%Y/%m/', verbose_name='file'),
        ),
        migrations.AlterField(
            model_name='importjob',
            name='kind',
            field=models.CharField(max_length=40, verbose_name='kind'),
        ),
    ]
