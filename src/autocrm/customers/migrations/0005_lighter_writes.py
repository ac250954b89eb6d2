"""Lighter writes: what each of the customer table's indexes cost an import was measured
(COPY of 100,000 customers on PostgreSQL 15, median of three, over the table with its primary
key only, 0.7–0.8 s): the trigram GIN index on the name +0.61 s, the (store, name) btree +0.44 s,
(store, consultant, id) +0.39 s, and on the timeline the deferred foreign-key checks of its
store +0.50 s and its customer +0.68 s (more than the row and its indexes together).

- ``customer_name_trgm`` goes (PostgreSQL): the GIN index on the name's characters already finds
  any substring, and exact names (the duplicate check on entry) through ``search.name_condition``;
  ``customer_store_name`` goes with it.
- A consultant's own list is indexed only where a consultant is set.
- The timeline keeps no database foreign keys, nor an index on the customer alone (the
  ``timeline_customer_at`` index leads with it) or on the store (never read by store alone).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_name_trgm")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin (name gin_trgm_ops)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0004_slim_indexes'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_store_name',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_store_consultant',
        ),
        migrations.AlterField(
            model_name='timelineevent',
            name='customer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='timeline', to='customers.customer'),
        ),
        migrations.AlterField(
            model_name='timelineevent',
            name='store',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.store'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('consultant__isnull', False)), fields=['store', 'consultant', '-id'], name='customer_store_consultant_set'),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
