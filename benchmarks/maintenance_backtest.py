"""Maintenance back-test on the demo data (issue 14, item 6): hide each vehicle's last service
visit, predict the next visit from what was known right after the visit before, and print the
median absolute error in days (with the mean, the 90th percentile and how many vehicles).

    AUTOCRM_DATA_DIR=/tmp/acrm_backtest .venv/bin/python benchmarks/maintenance_backtest.py [--customers 300]

Uses the database of ``DATABASE_URL`` (default: SQLite in ``AUTOCRM_DATA_DIR``); migrates it and
loads the demo with ``--customers`` per store when it has no demo cars yet. A visit is an odometer
reading after the delivery; its items are the maintenance records of that day.

Read the figure with the demo's owners in mind: the generator sends each car to the workshop
every five to thirteen months at random, whatever falls due, so a large part of the error is the
generator's, not the engine's. ``--plan-following`` adds the same measure on a generated fleet
whose owners come when the plan says, give or take a few weeks (the test asserts a bound on it)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--plan-following", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.demo.services import demo_create
    from autocrm.maintenance import services
    from autocrm.maintenance.backtest import History, backtest
    from autocrm.maintenance.models import MaintenanceRecord
    from autocrm.tenancy.models import Store
    from autocrm.vehicles.models import OdometerReading, Vehicle

    if not MaintenanceRecord.objects.exists():
        demo_create(customers=args.customers, seed=42)
    for store in Store.objects.order_by("code"):
        plan = services.store_plans(store_id=store.pk)
        items: dict[tuple[int, dt.date], list[str]] = defaultdict(list)
        for vid, item, day in MaintenanceRecord.objects.filter(store=store).values_list(
            "vehicle_id", "item", "done_on"
        ):
            items[(vid, day)].append(item)
        visits: dict[int, list[tuple[dt.date, int, tuple[str, ...]]]] = defaultdict(list)
        for vid, km, at in (
            OdometerReading.objects.filter(store=store).order_by("vehicle_id", "at", "id").values_list("vehicle_id", "km", "at")
        ):  # fmt: skip
            day = timezone.localtime(at).date()
            visits[vid].append((day, km, tuple(items.get((vid, day), ()))))
        by_plan: dict[int | None, list[History]] = defaultdict(list)
        for vid, series_id, fuel, delivered in Vehicle.objects.filter(store=store).values_list(
            "pk", "series_id", "fuel_type", "delivery_date"
        ):
            seen = visits.get(vid, [])[1:]  # the first reading is the delivery
            if delivered is not None and len(seen) >= 2:
                by_plan[series_id].append(History(delivered, fuel, seen))
        errors: list[int] = []
        for series_id, histories in by_plan.items():
            errors.extend(backtest(histories, plan.for_series(series_id)).errors)
        absolute = sorted(abs(e) for e in errors)
        if not absolute:
            print(f"store {store.code}: no vehicle with two visits")
            continue
        late = sum(1 for e in errors if e < 0) / len(errors)
        print(f"store {store.code}: {len(absolute):,} vehicles, median absolute error {absolute[len(absolute) // 2]} days, "
              f"mean {sum(absolute) / len(absolute):.1f}, p90 {absolute[int(0.9 * len(absolute))]} days; "
              f"owners later than predicted {late:.0%}")  # fmt: skip
    if args.plan_following:
        from autocrm.maintenance.backtest import plan_following_fleet
        from autocrm.maintenance.defaults import plan_item_rows
        from autocrm.maintenance.engine import PlanItem

        plan_items = [PlanItem(**row) for row in plan_item_rows()]
        result = backtest(plan_following_fleet(2000, seed=7), plan_items)
        print(f"plan-following fleet: {result.vehicles:,} vehicles, median absolute error {result.median_abs_days} days, "
              f"mean {result.mean_abs_days:.1f}, p90 {result.p90_abs_days} days")  # fmt: skip


if __name__ == "__main__":
    main()
