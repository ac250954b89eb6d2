"""PostgreSQL-only search indexes (nothing on SQLite): GIN trigram indexes on plate and VIN so
the end of a plate (``plate LIKE '%12345'``) or of a VIN (last six) is found without scanning
every vehicle of the store."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS vehicle_plate_trgm ON vehicles_vehicle USING gin (plate gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS vehicle_vin_trgm ON vehicles_vehicle USING gin (vin gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS vehicle_plate_trgm", "DROP INDEX IF EXISTS vehicle_vin_trgm"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("vehicles", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
