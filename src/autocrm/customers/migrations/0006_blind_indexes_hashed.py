"""The blind indexes of mobile and ID number become hash indexes on PostgreSQL (btrees elsewhere):
they are only ever matched exactly, and a btree of 64 random hex characters is the costliest
index an import fills (core.fields.EqualityIndex)."""

import autocrm.core.fields
from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0005_lighter_writes'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_mobile_index',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_id_number_index',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=autocrm.core.fields.EqualityIndex(fields=['mobile_index'], name='customer_mobile_index'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=autocrm.core.fields.EqualityIndex(fields=['id_number_index'], name='customer_id_number_index'),
        ),
    ]
