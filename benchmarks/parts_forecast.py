"""The parts forecast of one store at size (issue 14, item 8; ADR 0027): ``--parts`` catalogue
lines, ``--cars`` vehicles due over the next weeks, ``--issues`` ledger rows in the last 12 weeks,
every part in a plan item's mapping. Prints the median and 95th percentile of
``selectors.store_forecast`` over ``--runs`` calls and its query count, then the back-test.

    AUTOCRM_DATA_DIR=/tmp/acrm_pfc DATABASE_URL=postgres://… .venv/bin/python benchmarks/parts_forecast.py

Uses the database of ``DATABASE_URL`` (default SQLite in ``AUTOCRM_DATA_DIR``): migrates it,
creates the demo organization, and writes the rows straight to the tables (a benchmark of the
read, not of the writes) in a store of its own that it removes again."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", type=int, default=300)
    parser.add_argument("--cars", type=int, default=20000)
    parser.add_argument("--issues", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.demo.services import demo_create
    from autocrm.maintenance.models import VehicleDue
    from autocrm.parts.models import Part, StockMovement
    from autocrm.partsforecast import backtest, selectors
    from autocrm.partsforecast.models import ItemPart
    from autocrm.tenancy.models import Store
    from autocrm.vehicles.models import Vehicle

    demo_create()
    store = Store.objects.get(code="a")
    rng = random.Random(7)
    today = timezone.localdate()
    tag = "BENCH-PFC-"
    Part.objects.filter(store=store, part_number__startswith=tag).delete() if not StockMovement.objects.filter(
        part__part_number__startswith=tag).exists() else None  # fmt: skip
    parts = Part.objects.filter(store=store, part_number__startswith=tag)
    if not parts.exists():
        Part.objects.bulk_create(
            Part(store=store, part_number=f"{tag}{i:04d}", name=f"配件{i}", unit="piece", on_hand=Decimal(rng.randint(0, 40)))
            for i in range(args.parts)
        )  # fmt: skip
        items = ["oil", "oil_filter", "air_filter", "cabin_filter", "brake_fluid", "spark_plugs", "brake_pads"]
        ItemPart.objects.bulk_create(
            ItemPart(store=store, item=items[i % len(items)], part=p, quantity=Decimal("1.5"))
            for i, p in enumerate(parts)
        )  # fmt: skip
        cars = Vehicle.objects.bulk_create(
            Vehicle(store=store, organization_id=store.organization_id, vin=f"LBENCH{i:011d}", delivery_date=today - dt.timedelta(days=400))
            for i in range(args.cars)
        )  # fmt: skip
        now = timezone.now()
        VehicleDue.objects.bulk_create(
            VehicleDue(vehicle=c, store=store, next_due_on=today + dt.timedelta(days=rng.randrange(-30, 60)),
                       items=rng.sample(items, 3), rate_used=40.0, rate_method="readings", computed_at=now)
            for c in cars
        )  # fmt: skip
        ids = list(parts.values_list("pk", flat=True))
        moves = StockMovement.objects.bulk_create(
            StockMovement(store=store, part_id=rng.choice(ids), kind="issue", quantity=Decimal(-1), on_hand_after=Decimal(0))
            for _ in range(args.issues)
        )  # fmt: skip
        for m in moves:
            m.created_at = timezone.now() - dt.timedelta(days=rng.random() * 84)
        StockMovement.objects.bulk_update(moves, ["created_at"], batch_size=2000)
    actor = actor_build(user=User.objects.get(username="service_manager_a"), store_id=store.pk)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        result = selectors.store_forecast(actor=actor)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        selectors.store_forecast(actor=actor)
    times.sort()
    print(f"{connection.vendor}: {len(result.rows)} parts forecast, {args.cars} cars, {args.issues} issues: "
          f"median {statistics.median(times):.0f} ms, p95 {times[int(len(times) * 0.95) - 1]:.0f} ms, "
          f"{len(ctx.captured_queries)} queries")  # fmt: skip
    for wave in (0.0, 0.25):
        print(f"back-test wave {wave}:", ", ".join(f"{k} {v:.3f}" for k, v in backtest.summary(wave=wave).items()))


if __name__ == "__main__":
    main()
