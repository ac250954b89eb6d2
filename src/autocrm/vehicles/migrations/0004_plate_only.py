"""Plate-only vehicles (issue 10, item 5): the VIN may be empty until it is known, so the
organization's VIN uniqueness holds for non-empty VINs only, and a vehicle has a VIN or a plate.
The external ID (the key a DMS upserts by) becomes unique in the store for non-empty values, as
the customers' is: two concurrent creates with one key leave one row, the other gets the 409.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('vehicles', '0003_lighter_writes'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='vehicle',
            name='vehicle_vin_unique_in_org',
        ),
        migrations.AlterField(
            model_name='vehicle',
            name='vin',
            field=models.CharField(blank=True, max_length=17, verbose_name='VIN'),
        ),
        migrations.AddConstraint(
            model_name='vehicle',
            constraint=models.UniqueConstraint(condition=models.Q(('vin', ''), _negated=True), fields=('organization_id', 'vin'), name='vehicle_vin_unique_in_org'),
        ),
        migrations.AddConstraint(
            model_name='vehicle',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('store', 'external_id'), name='vehicle_external_id_unique'),
        ),
        migrations.AddConstraint(
            model_name='vehicle',
            constraint=models.CheckConstraint(condition=models.Q(('plate', ''), ('vin', ''), _negated=True), name='vehicle_vin_or_plate'),
        ),
    ]
