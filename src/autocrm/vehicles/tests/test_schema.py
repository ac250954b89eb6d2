"""The vehicle tables' indexes: an import fills three of them row by row, so no index twice."""

from __future__ import annotations

import pytest
from django.db import connection

from autocrm.vehicles.models import OdometerReading, Ownership, Vehicle


def _index_columns(model) -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    # Plain indexes (unique ones, such as one current ownership per vehicle, are rules, not twins).
    return sorted(
        tuple(c["columns"])
        for c in constraints.values()
        if c["index"] and not c["primary_key"] and not c["unique"] and None not in c["columns"]  # not expressions
    )


@pytest.mark.django_db
def test_no_index_twice_and_none_on_the_store_alone():
    for model in (Vehicle, OdometerReading, Ownership):
        columns = _index_columns(model)
        assert ("store_id",) not in columns, model
        assert len(columns) == len(set(columns)), (model, columns)
    vehicle = _index_columns(Vehicle)
    assert ("customer_id",) in vehicle and ("store_id", "vin") in vehicle and ("store_id", "plate") in vehicle
    assert not [c for c in vehicle if c[0] in ("brand_id", "series_id", "trim_id")]
    assert ("vehicle_id",) not in _index_columns(OdometerReading)  # reading_vehicle_at leads with it


@pytest.mark.django_db
def test_vehicle_search_indexes_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL index definitions")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'vehicles_vehicle'")
        names = {name for (name,) in cursor.fetchall()}
    # Tails of plates and VINs, and plates inside a customer search; no trigram index on the VIN.
    assert {"vehicle_store_plate_reversed", "vehicle_store_vin_reversed", "vehicle_plate_trgm"} <= names
    assert "vehicle_vin_trgm" not in names
