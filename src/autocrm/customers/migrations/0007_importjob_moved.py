"""ImportJob now belongs to the imports app (``imports.0001_initial``): removed from this app's
state only; the table ``customers_importjob`` and its rows stay, owned by the new model."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0006_blind_indexes_hashed'),
        ('imports', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='ImportJob')],
        ),
    ]
