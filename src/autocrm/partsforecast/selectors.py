"""The forecast of one store, read in a fixed number of set queries (never one per part or per
vehicle): the store's parts and their stock, open purchase order lines, the item → part mapping,
the due list of the next four weeks, the show rate, twelve weeks of issues and of work done."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from autocrm.core import inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound
from autocrm.core.permissions import require_model
from autocrm.core.roles import Role
from autocrm.maintenance.models import MaintenanceRecord, VehicleDue
from autocrm.parts.choices import MovementKind, POStatus
from autocrm.parts.models import Part, PurchaseOrderLine, StockMovement
from autocrm.vehicles.models import Vehicle

from . import engine
from .models import ItemPart

DEFAULT_SHOW_RATE = Decimal("0.70")
MIN_SHOW_SAMPLE = 4  # vehicles a year or more on the road before the store's own rate is trusted
ON_ORDER = (POStatus.SENT, POStatus.PARTLY_RECEIVED)


def forecast_store(actor: Actor, value: Any) -> int:
    """The store the forecast is for: the actor's current one, or (a director) any store of the
    organization by ``store``; anything else is not found (404), hostile text a 400."""
    require_model(actor, "view", Part)
    if value in (None, ""):
        return actor.require_store_id()
    errors = inputs.Errors()
    store_id = inputs.integer(errors, value, "store", 1, inputs.ID_MAX)
    errors.raise_if_any()
    allowed = actor.organization_store_ids if actor.role == Role.DIRECTOR else (actor.store_id,)
    if store_id not in allowed:
        raise NotFound()
    assert store_id is not None
    return store_id


def show_rate(store_id: int, today: dt.date) -> tuple[Decimal, bool]:
    """The share of the store's cars a year or more on the road that had work recorded in the
    last year (the due list's owners who actually come); the default 70 % when fewer than
    :data:`MIN_SHOW_SAMPLE` cars qualify. Returns (rate, measured)."""
    year_ago = today - dt.timedelta(days=365)
    eligible = Vehicle.objects.filter(store_id=store_id, delivery_date__lte=year_ago)  # scoped: the forecast's store
    total = eligible.count()
    if total < MIN_SHOW_SAMPLE:
        return DEFAULT_SHOW_RATE, False
    came = (
        MaintenanceRecord.objects.filter(store_id=store_id, done_on__gt=year_ago, vehicle__in=eligible)  # scoped: the forecast's store
        .values("vehicle_id").distinct().count()
    )  # fmt: skip
    return engine.q2(Decimal(came) / Decimal(total)), True


@dataclass
class StoreForecast:
    store_id: int
    start: dt.date
    weeks: int
    show_rate: Decimal
    show_rate_measured: bool
    rows: list[dict[str, Any]]


def _items(value: Any) -> list[str]:
    """The due items of a grouped row: a list (PostgreSQL's jsonb, SQLite's JSON once decoded)."""
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or ()]


def mapping_of(store_id: int) -> tuple[dict[str, list[tuple[int, Decimal]]], QuerySet[ItemPart]]:
    qs = (
        ItemPart.objects.filter(store_id=store_id).select_related("part").order_by("item", "part__part_number")
    )  # scoped: the forecast's store
    mapping: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for row in qs:
        mapping[row.item].append((row.part_id, row.quantity))
    return mapping, qs


def store_forecast(*, actor: Actor, store: Any = None, today: dt.date | None = None) -> StoreForecast:
    """Every active part of the store with demand in the next four weeks or stock on order."""
    store_id = forecast_store(actor, store)
    start = today or timezone.localdate()
    weeks, history = engine.WEEKS, engine.HISTORY_WEEKS
    rate, measured = show_rate(store_id, start)
    mapping, _rows = mapping_of(store_id)
    parts = {p.pk: p for p in Part.objects.filter(store_id=store_id, is_active=True)}  # scoped: the forecast's store
    on_order: dict[int, Decimal] = {
        r["part_id"]: r["open"]
        for r in PurchaseOrderLine.objects.filter(store_id=store_id, order__status__in=ON_ORDER)  # scoped: the forecast's store
        .values("part_id").annotate(open=Sum(F("quantity") - F("received")))
    }  # fmt: skip
    due = (
        VehicleDue.objects.filter(  # scoped: the forecast's store
            store_id=store_id, next_due_on__gte=start, next_due_on__lt=start + dt.timedelta(days=7 * weeks)
        )
        .values("next_due_on", "items")
        .annotate(cars=Count("vehicle_id"))
        .order_by()
    )  # a row per day and item set
    plan = engine.plan_demand(
        ((r["next_due_on"], _items(r["items"]), r["cars"]) for r in due if r["next_due_on"] is not None),
        mapping, start=start, weeks=weeks, show_rate=rate,
    )  # fmt: skip
    since = start - dt.timedelta(days=7 * history)
    since_at = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    start_at = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    issued: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in (
        StockMovement.objects.filter(  # scoped: the forecast's store
            store_id=store_id, kind__in=(MovementKind.ISSUE, MovementKind.RETURN), created_at__gte=since_at,
            created_at__lt=start_at,
        )
        .annotate(day=TruncDate("created_at"))  # the store's day (Asia/Shanghai), summed in the database
        .values("part_id", "day").annotate(total=Sum("quantity"))
    ):  # fmt: skip
        issued[row["part_id"]][engine.week_of(row["day"], start)] -= row["total"]
    done = [
        (engine.week_of(r["done_on"], start), r["item"], r["n"])
        for r in MaintenanceRecord.objects.filter(store_id=store_id, done_on__gte=since, done_on__lt=start)  # scoped: the forecast's store
        .values("done_on", "item").annotate(n=Count("id"))
    ]  # fmt: skip
    used = engine.explained(done, mapping)
    other = {p: engine.other_history(issued[p], used, p, weeks=history) for p in issued}
    stock = {
        p: (parts[p].on_hand, on_order.get(p, Decimal(0)), parts[p].reserved)
        for p in set(plan) | set(other) | set(on_order)
        if p in parts
    }
    results = engine.forecast(plan={p: v for p, v in plan.items() if p in parts},
                              other={p: v for p, v in other.items() if p in parts}, weeks=weeks, stock=stock)  # fmt: skip
    rows: list[dict[str, Any]] = []
    for pid, f in results.items():
        if f.need <= 0 and f.on_order <= 0:
            continue
        part = parts[pid]
        rows.append({"part": part, "forecast": f, "available": part.on_hand - part.reserved})
    rows.sort(key=lambda r: (-r["forecast"].suggested, -r["forecast"].need, r["part"].part_number))
    return StoreForecast(store_id, start, weeks, rate, measured, rows)


def forecast_out(result: StoreForecast) -> dict[str, Any]:
    """The API's answer (and the page's numbers): quantities as two-place decimals."""
    return {
        "store": result.store_id, "starts_on": result.start, "weeks": result.weeks,
        "show_rate": result.show_rate, "show_rate_measured": result.show_rate_measured,
        "parts": [
            {"part": r["part"].pk, "part_number": r["part"].part_number, "name": r["part"].name,
             "unit": r["part"].unit, "plan": r["forecast"].plan, "other_per_week": r["forecast"].other,
             "weeks": r["forecast"].weeks, "need": r["forecast"].need, "on_hand": r["part"].on_hand,
             "on_order": r["forecast"].on_order, "reserved": r["part"].reserved,
             "suggested": r["forecast"].suggested,
             "supplier": r["part"].supplier_id}
            for r in result.rows
        ],
    }  # fmt: skip
