"""Demo maintenance (保养、召回): a store's own service plan, the work done at every service visit
of the generated cars (each reading after the delivery is a visit: the items the plan had due by
then are recorded as done, with the reading's km), one OEM recall campaign with some cars already
repaired, then every car's next visit computed as the nightly task does. Runs with the generated
customers (``--customers`` > 0); fast: a few set queries and bulk inserts per store."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.db import connection
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.maintenance import engine, services
from autocrm.maintenance.defaults import plan_item_rows
from autocrm.maintenance.models import MaintenanceRecord, PlanItem, RecallCampaign, RecallVehicle, ServicePlan
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import OdometerReading, Vehicle

RECALL_CODE = "R2026-017"
DUE_SOON_DAYS = 45  # an item due within this many days of a visit is done at the visit


def _store_plan(store: Store) -> None:
    """Store b (丰田) changes oil every 5,000 km or 6 months: its own default plan."""
    if store.code != "b" or ServicePlan.objects.filter(store=store, series__isnull=True).exists():
        return
    plan = ServicePlan.objects.create(store=store, name="丰田保养计划", note="机油 5000 km / 6 个月")
    rows = plan_item_rows()
    for row in rows:
        if row["item"] in ("oil", "oil_filter", "service"):
            row.update(interval_km=5000, interval_months=6)
    PlanItem.objects.bulk_create([PlanItem(plan=plan, **row) for row in rows])


def _records(store: Store, today: dt.date) -> int:
    if MaintenanceRecord.objects.filter(store=store).exists():
        return 0
    plans = services.store_plans(store_id=store.pk)
    readings: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for vid, km, at in (
        OdometerReading.objects.filter(store=store).order_by("vehicle_id", "at", "id").values_list("vehicle_id", "km", "at")
    ):  # fmt: skip
        readings[vid].append((at, km))
    rows: list[MaintenanceRecord] = []
    for vid, series_id, fuel, delivered, purchased in Vehicle.objects.filter(store=store).values_list(
        "pk", "series_id", "fuel_type", "delivery_date", "purchase_date"
    ):
        start = delivered or purchased
        history = readings.get(vid, [])
        if start is None or len(history) < 2:
            continue
        done: dict[str, tuple[dt.date, int | None]] = {}
        plan = plans.for_series(series_id)
        for i, (at, km) in enumerate(history[1:], start=1):
            day = timezone.localtime(at).date()
            known = [engine.Reading(engine.day_number(a), k) for a, k in history[: i + 1]]
            rate = engine.mileage_rate(known, delivered=start)
            soon = day + dt.timedelta(days=DUE_SOON_DAYS)
            p = engine.predict(plan, rate=rate, delivered=start, last_done=done, fuel_type=fuel, today=day)
            for d in p.all_items:
                if d.due_on <= soon:
                    done[d.item] = (day, km)
                    rows.append(MaintenanceRecord(store=store, vehicle_id=vid, item=d.item, done_on=day, km=km,
                                                  source="import", reference=f"DEMO-{vid}-{i}"))  # fmt: skip
    MaintenanceRecord.objects.bulk_create(rows, batch_size=2000)
    if connection.vendor == "postgresql":  # fresh statistics for the due list's recompute that follows
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(MaintenanceRecord._meta.db_table)}")
    return len(rows)


def _recall(organization: Organization, store: Store, rng: random.Random) -> None:
    if RecallCampaign.objects.filter(store=store, code=RECALL_CODE).exists():
        return
    manager = User.objects.filter(username=f"service_manager_{store.code}").first()
    if manager is None:
        return
    actor = actor_build(user=manager, store_id=store.pk)
    vins = list(Vehicle.objects.filter(store=store).exclude(vin="").order_by("pk").values_list("vin", flat=True)[:2000])
    chosen = [v for v in vins if rng.random() < 0.05][:60]
    if not chosen:
        return
    typed = [(i + 2, v.lower() if i % 7 == 0 else v) for i, v in enumerate(chosen)]  # OEM files mix cases
    with audit.acting_as(actor):
        preview = services.recall_import(
            actor=actor, vins=typed, code=RECALL_CODE, title="后悬架螺栓紧固",
            description="部分车辆后悬架连接螺栓扭矩可能不足，免费检查并按规定扭矩紧固。",
        )  # fmt: skip
        if preview.campaign is None:
            return
        for rv in RecallVehicle.objects.filter(campaign=preview.campaign).select_related("vehicle__customer"):
            if rng.random() < 0.4:
                services.recall_complete(actor=actor, recalled=rv, reference="历史工单")


def demo_maintenance_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook (after the generated customers and their cars)."""
    if not int(options.get("customers") or 0):
        return
    rng = random.Random(int(options.get("seed") or 42) + 14)
    today = timezone.localdate()
    for store in stores.values():
        _store_plan(store)
        _records(store, today)
        _recall(organization, store, rng)
        services.due_recompute(store_id=store.pk, today=today)
