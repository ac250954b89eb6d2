"""PostgreSQL-only search indexes (nothing on SQLite) so the end of a plate (``12345`` finds
沪A12345) or of a VIN (last six) is found without scanning every vehicle of the store:
btrees on (store, reverse(plate)) and (store, reverse(vin)) for ``vehicles.selectors.vehicle_search``
(a tail is a prefix of the reversed value), and GIN trigram indexes for ``LIKE '%…'`` from
elsewhere (the customer search box joins to vehicles by plate tail)."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS vehicle_plate_trgm ON vehicles_vehicle USING gin (plate gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS vehicle_vin_trgm ON vehicles_vehicle USING gin (vin gin_trgm_ops)",
    # Tails as prefixes of the reversed value (vehicles.selectors.vehicle_search): exact and fastest.
    "CREATE INDEX IF NOT EXISTS vehicle_store_plate_reversed ON vehicles_vehicle (store_id, reverse(plate) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS vehicle_store_vin_reversed ON vehicles_vehicle (store_id, reverse(vin) text_pattern_ops)",
    # Newest first within one store (every list and search page: ORDER BY id DESC LIMIT 21). The
    # primary key serves that only when the stores' rows are spread over the id range; when one
    # store's rows sit in one range (a store imported at once) it walks the other stores' rows.
    # On SSD storage set random_page_cost = 1.1, or the planner still prefers the primary key.
    "CREATE INDEX IF NOT EXISTS vehicle_store_newest ON vehicles_vehicle (store_id, id)",
    # Expression indexes have no statistics until ANALYZE; without them the planner ignores them.
    "ANALYZE vehicles_vehicle",
]
BACKWARD = [
    "DROP INDEX IF EXISTS vehicle_store_newest",
    "DROP INDEX IF EXISTS vehicle_plate_trgm",
    "DROP INDEX IF EXISTS vehicle_vin_trgm",
    "DROP INDEX IF EXISTS vehicle_store_plate_reversed",
    "DROP INDEX IF EXISTS vehicle_store_vin_reversed",
]


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
