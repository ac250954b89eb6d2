"""Fewer indexes on customers: every insert pays for each (an import of 100,000 rows spent most
of its database time there).

- The blind indexes get named indexes instead of ``db_index``, which on PostgreSQL also built a
  ``varchar_pattern_ops`` twin that no query uses; the old pair is dropped where it exists.
- The plain (store, initials) and (store, pinyin) btrees go: on PostgreSQL the pattern-ops ones
  of 0003 serve both equality and prefix search; SQLite gets plain ones back here.
- ``store`` has no index of its own (every index leads with it); users and the merge survivor
  are indexed only where set.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


LEGACY = (
    "customers_customer_mobile_index_99e573e7",
    "customers_customer_mobile_index_99e573e7_like",
    "customers_customer_id_number_index_825bac25",
    "customers_customer_id_number_index_825bac25_like",
)


def forward(apps, schema_editor):
    for name in LEGACY:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_store_initials ON customers_customer (store_id, name_initials)"
        )
        schema_editor.execute("CREATE INDEX IF NOT EXISTS customer_store_pinyin ON customers_customer (store_id, name_pinyin)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS customer_store_initials")
        schema_editor.execute("DROP INDEX IF EXISTS customer_store_pinyin")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0003_search_indexes_pg'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_store_initials',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_store_pinyin',
        ),
        migrations.AlterField(
            model_name='customer',
            name='advisor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='service advisor'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='consultant',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='sales consultant'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='merged_into',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='customers.customer'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.store'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['mobile_index'], name='customer_mobile_index'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['id_number_index'], name='customer_id_number_index'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('consultant__isnull', False)), fields=['consultant'], name='customer_consultant_set'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('advisor__isnull', False)), fields=['advisor'], name='customer_advisor_set'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='customer_merged_into_set'),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
