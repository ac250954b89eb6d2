"""Lighter writes (an import adds a vehicle, an ownership and an odometer reading per row; see
docs/adr/0005): no index on the store alone (the vehicles' store indexes lead with it; readings
and ownerships are read by vehicle or customer), none twice on the
owner (``vehicle_customer`` stays) or on a reading's vehicle (``reading_vehicle_at`` leads with it),
none on the catalogue links (no list filters by them), and on PostgreSQL no trigram index on the
VIN (a VIN is found whole, or by its end through the reversed-VIN index of 0002).
"""

import django.db.models.deletion
from django.db import migrations, models


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS vehicle_vin_trgm")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS vehicle_vin_trgm ON vehicles_vehicle USING gin (vin gin_trgm_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0006_blind_indexes_hashed'),
        ('tenancy', '0001_initial'),
        ('vehicles', '0002_search_indexes_pg'),
    ]

    operations = [
        migrations.AlterField(
            model_name='odometerreading',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.store'),
        ),
        migrations.AlterField(
            model_name='odometerreading',
            name='vehicle',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='readings', to='vehicles.vehicle'),
        ),
        migrations.AlterField(
            model_name='ownership',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.store'),
        ),
        migrations.AlterField(
            model_name='vehicle',
            name='brand',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='vehicles.brand'),
        ),
        migrations.AlterField(
            model_name='vehicle',
            name='customer',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='vehicles', to='customers.customer', verbose_name='owner'),
        ),
        migrations.AlterField(
            model_name='vehicle',
            name='series',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='vehicles.series'),
        ),
        migrations.AlterField(
            model_name='vehicle',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.store'),
        ),
        migrations.AlterField(
            model_name='vehicle',
            name='trim',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='vehicles.trim'),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
