"""Maintenance: the nightly recompute of every vehicle's next visit (issue 14 target: 1,000,000
vehicles recomputed in under 2 minutes on PostgreSQL).

    .venv/bin/python benchmarks/maintenance_due.py \
        --database postgres://postgres@127.0.0.1:5432/h7_duebench [--vehicles 1000000] [--rebuild]

Creates the database when missing, migrates it and creates the demo organization, then fills
store ``a`` with ``--vehicles`` vehicles in SQL (``generate_series``: a few seconds, no Python per
row): 20 series, petrol/hybrid/electric, delivered over eight years; 0–8 odometer readings each
(about 4.5 on average, a daily rate per vehicle between 10 and 110 km, 1 % typos ten times too
high, 0.5 % lower readings without a correction, 0.2 % corrections), 10 % of the vehicles without
any reading; a maintenance record of the routine service, oil and filter at the last reading of
60 % of them. An existing database of the right size is reused (``--rebuild`` refills it).

Then times ``maintenance.services.due_recompute`` for the store (the nightly task's work) and
prints the wall-clock time, vehicles/s, the CPU seconds of this Python process, the queries, the
rows written and ``uptime`` (the machine is shared: CPU seconds are the figure that holds)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")

SERIES = 20


def _ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _fill(store_id: int, organization_id: int, vehicles: int) -> None:
    from django.db import connection, transaction

    from autocrm.vehicles.models import Brand, Series

    brand, _ = Brand.objects.get_or_create(name="基准品牌")
    series_ids = [Series.objects.get_or_create(brand=brand, name=f"基准车系{i:02d}")[0].pk for i in range(SERIES)]
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM maintenance_vehicledue WHERE store_id = %s", [store_id])
        c.execute("DELETE FROM maintenance_maintenancerecord WHERE store_id = %s", [store_id])
        c.execute("DELETE FROM maintenance_recallvehicle WHERE store_id = %s", [store_id])
        c.execute("DELETE FROM vehicles_odometerreading WHERE store_id = %s", [store_id])
        c.execute("DELETE FROM vehicles_ownership WHERE store_id = %s", [store_id])
        c.execute("DELETE FROM vehicles_vehicle WHERE store_id = %s AND vin LIKE 'LBNCH%%'", [store_id])
        c.execute("SELECT COALESCE(MAX(id), 0) FROM vehicles_vehicle")
        base = c.fetchone()[0]
        c.execute(
            """
            INSERT INTO vehicles_vehicle (id, store_id, organization_id, vin, plate, plate_kind, series_id, maker,
                fuel_type, colour, purchase_date, delivery_date, usage, external_id, vin_warnings, created_at,
                updated_at)
            SELECT %(base)s + g, %(store)s, %(org)s, 'LBNCH' || lpad(g::text, 12, '0'), '', '',
                   (%(series)s::bigint[])[1 + g %% %(n)s], '',
                   CASE WHEN g %% 10 < 7 THEN 'petrol' WHEN g %% 10 < 9 THEN 'hybrid' ELSE 'electric' END, '',
                   current_date - (30 + (g * 7919) %% 2900)::int, current_date - (28 + (g * 7919) %% 2900)::int, '', '',
                   '[]'::jsonb, now(), now()
            FROM generate_series(1::bigint, %(count)s) g
            """,
            {"base": base, "store": store_id, "org": organization_id, "series": series_ids, "n": SERIES,
             "count": vehicles},
        )  # fmt: skip
        c.execute(
            "SELECT setval(pg_get_serial_sequence('vehicles_vehicle', 'id'), (SELECT MAX(id) FROM vehicles_vehicle))"
        )
        # Readings: k of n at even spacing from the delivery to today; rate 10-110 km/day per vehicle.
        c.execute(
            """
            INSERT INTO vehicles_odometerreading (store_id, vehicle_id, km, at, source, correction_reason,
                created_at, updated_at)
            SELECT v.store_id, v.id,
                   CASE WHEN (v.id * 31 + k) %% 100 = 0 THEN r.km * 10
                        WHEN (v.id * 17 + k) %% 200 = 0 THEN r.km / 2
                        ELSE r.km END,
                   r.at, 'reception',
                   CASE WHEN (v.id * 13 + k) %% 500 = 0 AND k > 1 THEN '仪表更换' ELSE '' END, now(), now()
            FROM vehicles_vehicle v
            CROSS JOIN LATERAL generate_series(1, (v.id * 7) %% 9) k
            CROSS JOIN LATERAL (
                SELECT (v.delivery_date + ((current_date - v.delivery_date) * k / ((v.id * 7) %% 9 + 1))::int)::timestamptz
                         + interval '10 hours' AS at,
                       (((current_date - v.delivery_date) * k / ((v.id * 7) %% 9 + 1)) * (10 + v.id %% 101))::int AS km
            ) r
            WHERE v.store_id = %(store)s AND v.vin LIKE 'LBNCH%%' AND v.id %% 10 <> 0
            """,
            {"store": store_id},
        )
        c.execute(
            """
            INSERT INTO maintenance_maintenancerecord (store_id, vehicle_id, item, done_on, km, source, reference,
                created_at, updated_at)
            SELECT r.store_id, r.vehicle_id, i.item, r.at::date, r.km, 'import', '', now(), now()
            FROM (SELECT DISTINCT ON (vehicle_id) store_id, vehicle_id, at, km FROM vehicles_odometerreading
                  WHERE store_id = %(store)s ORDER BY vehicle_id, at DESC) r
            CROSS JOIN (VALUES ('service'), ('oil'), ('oil_filter')) i(item)
            WHERE r.vehicle_id %% 10 < 6
            """,
            {"store": store_id},
        )
    with connection.cursor() as c:
        c.execute("ANALYZE vehicles_vehicle; ANALYZE vehicles_odometerreading; ANALYZE maintenance_maintenancerecord")
    print(f"filled {vehicles:,} vehicles in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--vehicles", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--chunk", type=int, default=0)
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        sys.exit("--database postgres://… (the target is PostgreSQL)")
    os.environ["DATABASE_URL"] = args.database
    _ensure_database(args.database)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.demo.services import demo_create
    from autocrm.maintenance import services
    from autocrm.tenancy.models import Store
    from autocrm.vehicles.models import OdometerReading, Vehicle

    if not Store.objects.filter(code="a").exists():
        demo_create()
    store = Store.objects.get(code="a")
    have = Vehicle.objects.filter(store=store, vin__startswith="LBNCH").count()
    if args.rebuild or have != args.vehicles:
        _fill(store.pk, store.organization_id, args.vehicles)
    vehicles = Vehicle.objects.filter(store=store).count()
    readings = OdometerReading.objects.filter(store=store).count()
    print(f"store a: {vehicles:,} vehicles, {readings:,} odometer readings")
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    connection.force_debug_cursor = True  # count the queries (the list of them is small: a few per chunk)
    kwargs = {"chunk": args.chunk} if args.chunk else {}
    result = services.due_recompute(store_id=store.pk, **kwargs)
    connection.force_debug_cursor = False
    print(f"recompute: {result.vehicles:,} vehicles in {result.seconds:.1f} s wall = "
          f"{result.vehicles / result.seconds:,.0f} vehicles/s")  # fmt: skip
    print(
        f"python process CPU: {result.cpu_seconds:.1f} s ({result.cpu_seconds / result.vehicles * 1e6:.1f} µs a vehicle)"
    )
    print(f"queries: {result.queries:,} on the main connection + 3 reads per chunk in the read-ahead thread "
          f"({result.chunks:,} chunks of up to {args.chunk or services.CHUNK:,} vehicles): "
          f"{(result.queries + 3 * result.chunks) / max(1, result.vehicles) * 1000:.2f} per 1,000 vehicles")  # fmt: skip
    print(f"deferred to the fleet median: {result.deferred:,}; rate methods: {result.methods}")
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
