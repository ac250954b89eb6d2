"""Writes of the maintenance app: work done on a vehicle, the nightly recompute of every
vehicle's next visit, recall imports, notices and completion. Keyword-only, actor first,
atomic, permission checked, audited (the system's own runs have no actor)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.core.permissions import can, require, require_model
from autocrm.core.readahead import read_ahead
from autocrm.vehicles.models import Vehicle

from . import engine
from .choices import Item, RecallStatus, RecordSource
from .models import FleetRate, MaintenanceRecord, PlanItem, RecallCampaign, RecallVehicle, ServicePlan, VehicleDue

CHUNK = 5000
MIN_FLEET = 3  # vehicles with a measured rate before a series' median is trusted
MAX_RECALL_BYTES = 5 * 1024 * 1024
MAX_RECALL_VINS = 100_000
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_STRIP = re.compile(r"[\s\-_.·]+")

# --------------------------------------------------------------------------- plans


def _engine_items(rows: Iterable[PlanItem]) -> list[engine.PlanItem]:
    return [
        engine.PlanItem(
            item=r.item,
            interval_km=r.interval_km,
            interval_months=r.interval_months,
            first_km=r.first_km,
            first_months=r.first_months,
            season_month=r.season_month,
            fuel_types=tuple(t for t in r.fuel_types.split(",") if t),
            leads_visit=r.leads_visit,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class StorePlans:
    """The plan of every series for one store (``default`` for a series without its own)."""

    by_series: dict[int, list[engine.PlanItem]]
    default: list[engine.PlanItem]

    def for_series(self, series_id: int | None) -> list[engine.PlanItem]:
        if series_id is None:
            return self.default
        return self.by_series.get(series_id, self.default)


def store_plans(*, store_id: int) -> StorePlans:
    """The plans that apply in a store, most specific first: the store's own plan for a series,
    the store's default, the shipped plan for the series, the shipped default."""
    plans = list(ServicePlan.objects.filter(store_id__in=[store_id]).prefetch_related("items")) + list(
        ServicePlan.objects.filter(store__isnull=True).prefetch_related("items")
    )
    rank = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}
    plans.sort(key=lambda p: rank[(p.store_id is not None, p.series_id is not None)])
    by_series: dict[int, list[engine.PlanItem]] = {}
    default: list[engine.PlanItem] | None = None
    for plan in plans:
        items = _engine_items(plan.items.all())
        if plan.series_id is None:
            if default is None:
                default = items
        elif plan.series_id not in by_series:
            by_series[plan.series_id] = items
    return StorePlans(by_series, default or [])


# --------------------------------------------------------------------------- the fleet's rate


def fleet_fallback(*, store_id: int, series_id: int | None) -> tuple[float, str] | None:
    """The fleet median a vehicle without a usable history is assumed to drive: its series' in
    the store, else the store's (from the last recompute); None: the engine's typical mileage."""
    rows = {
        r.series_id: r
        for r in FleetRate.objects.filter(store_id=store_id, series_id__in=[series_id] if series_id else [])
        | FleetRate.objects.filter(store_id=store_id, series__isnull=True)
    }
    if series_id is not None and series_id in rows and rows[series_id].vehicles >= MIN_FLEET:
        return rows[series_id].km_per_day, "series"
    if None in rows and rows[None].vehicles >= 1:
        return rows[None].km_per_day, "store"
    return None


# --------------------------------------------------------------------------- recompute


@dataclass
class RecomputeResult:
    store_id: int
    vehicles: int = 0
    deferred: int = 0  # computed after the fleet medians (no usable history)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    queries: int = 0  # on this connection (the read-ahead thread's three per chunk are its own)
    chunks: int = 0
    methods: dict[str, int] = field(default_factory=dict)


def _to_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _reading_day_sql() -> str:
    if connection.vendor == "postgresql":
        return "EXTRACT(EPOCH FROM r.at)::float8 / 86400.0"
    return "(julianday(r.at) - 2440587.5)"


def _chunk_readings(store_id: int, lo: int, hi: int) -> dict[int, list[engine.Reading]]:
    sql = (
        f"SELECT r.vehicle_id, r.km, {_reading_day_sql()}, r.correction_reason <> '' "
        "FROM vehicles_odometerreading r WHERE r.store_id = %s AND r.vehicle_id BETWEEN %s AND %s "
        "ORDER BY r.vehicle_id, r.at, r.id"
    )
    out: dict[int, list[engine.Reading]] = defaultdict(list)
    reading = engine.Reading
    with connection.cursor() as cursor:
        cursor.execute(sql, [store_id, lo, hi])
        for vid, km, day, corr in cursor.fetchall():
            out[vid].append(reading(float(day), km, bool(corr)))
    return out


def _chunk_records(store_id: int, lo: int, hi: int) -> dict[int, dict[str, tuple[dt.date, int | None]]]:
    sql = (
        "SELECT vehicle_id, item, MAX(done_on), MAX(km) FROM maintenance_maintenancerecord "
        "WHERE store_id = %s AND vehicle_id BETWEEN %s AND %s GROUP BY vehicle_id, item"
    )
    out: dict[int, dict[str, tuple[dt.date, int | None]]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, [store_id, lo, hi])
        for vid, item, done_on, km in cursor.fetchall():
            day = _to_date(done_on)
            if day is not None:
                out[vid][item] = (day, km)
    return out


_Row = tuple[int, int, dt.date | None, str, int | None, int | None, float, str, dt.datetime]


class _Writer:
    """Replaces the summary rows of a range of vehicles: COPY on PostgreSQL, bulk inserts elsewhere."""

    COLUMNS = ("vehicle_id", "store_id", "next_due_on", "items", "due_km", "estimated_km", "rate_used",
               "rate_method", "computed_at")  # fmt: skip

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def replace(self, *, store_id: int, rows: Sequence[_Row], lo: int | None = None, hi: int | None = None) -> None:
        with transaction.atomic():
            if lo is not None and hi is not None:
                _delete_range(store_id, lo, hi)
            else:
                ids = [r[0] for r in rows]
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"DELETE FROM maintenance_vehicledue WHERE vehicle_id IN ({', '.join(['%s'] * len(ids))})", ids
                    )
            if not rows:
                return
            if self.postgres:
                self._copy(rows)
            else:
                VehicleDue.objects.bulk_create([self._model(r) for r in rows], batch_size=500)

    def _model(self, row: _Row) -> VehicleDue:
        values = dict(zip(self.COLUMNS, row, strict=True))
        values["items"] = json.loads(str(values["items"]))  # COPY's JSON text → the JSONField's list
        return VehicleDue(**values)

    def _copy(self, rows: Sequence[_Row]) -> None:
        buffer = io.StringIO()
        null = "\\N"
        stamps: dict[dt.datetime, str] = {}
        for r in rows:
            vid, sid, due, items, due_km, est, rate, method, at = r
            stamp = stamps.get(at)
            if stamp is None:
                stamp = stamps[at] = at.isoformat()
            buffer.write(
                f"{vid}\t{sid}\t{due.isoformat() if due else null}\t{items}\t{null if due_km is None else due_km}\t"
                f"{null if est is None else est}\t{rate:.3f}\t{method}\t{stamp}\n"
            )
        with connection.cursor() as cursor:
            raw: Any = cursor.cursor  # psycopg's own cursor: COPY is not in the DB-API
            with raw.copy(f"COPY maintenance_vehicledue ({', '.join(self.COLUMNS)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())


_ITEMS_JSON: dict[tuple[str, ...], str] = {}


def _items_json(items: Sequence[engine.ItemDue]) -> str:
    key = tuple(d.item for d in items)
    text = _ITEMS_JSON.get(key)
    if text is None:
        text = _ITEMS_JSON[key] = json.dumps(list(key))
    return text


def _start_day_sql() -> str:
    """The day the clocks start (delivery, else purchase, else registration in the system) as an
    ordinal day number: dates cost nothing to read as integers."""
    if connection.vendor == "postgresql":
        return "COALESCE(delivery_date, purchase_date, (created_at AT TIME ZONE %s)::date) - DATE '0001-01-01' + 1"
    return "CAST(julianday(COALESCE(delivery_date, purchase_date, date(created_at))) - 1721424.5 AS INTEGER)"


def _vehicle_chunks(store_id: int, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The store's vehicles in keyset chunks: (id, series, fuel type, start day as an ordinal)."""
    postgres = connection.vendor == "postgresql"
    sql = (
        f"SELECT id, series_id, fuel_type, {_start_day_sql()} FROM vehicles_vehicle "
        "WHERE store_id = %s AND id > %s ORDER BY id LIMIT %s"
    )
    last = 0
    with connection.cursor() as cursor:
        while True:
            params: list[Any] = [settings.TIME_ZONE] if postgres else []
            cursor.execute(sql, [*params, store_id, last, size])
            chunk = cursor.fetchall()
            if not chunk:
                return
            yield chunk
            last = chunk[-1][0]


def _delete_range(store_id: int, lo: int, hi: int) -> None:
    with connection.cursor() as cursor:  # no signals, no cascade: a summary table
        cursor.execute(
            "DELETE FROM maintenance_vehicledue WHERE store_id = %s AND vehicle_id BETWEEN %s AND %s",
            [store_id, lo, hi],
        )


def _chunks_with_history(
    store_id: int, size: int
) -> Iterator[tuple[list[tuple[Any, ...]], dict[int, list[engine.Reading]], dict[int, dict[str, Any]]]]:
    for vehicles in _vehicle_chunks(store_id, size):
        lo, hi = vehicles[0][0], vehicles[-1][0]
        yield vehicles, _chunk_readings(store_id, lo, hi), _chunk_records(store_id, lo, hi)


def _chunks_read(
    store_id: int, size: int
) -> Iterator[tuple[list[tuple[Any, ...]], dict[int, list[engine.Reading]], dict[int, dict[str, Any]]]]:
    """The chunks with their readings and records. Outside a transaction (the nightly task, the
    benchmark) the next chunk is read in a second thread (its own connection) while this one
    computes and writes: the database's time hides behind Python's. Inside one (tests, a caller's
    transaction) a second connection would not see the uncommitted rows, so it reads in line."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        return _chunks_with_history(store_id, size)
    return read_ahead(_chunks_with_history(store_id, size), depth=2, name="maintenance-due")


def _row(store_id: int, vid: int, rate: engine.Rate, prediction: engine.Prediction, now: dt.datetime) -> _Row:
    due_km = next((d.due_km for d in prediction.items if d.due_km is not None), None)
    est = prediction.estimated_km
    return (vid, store_id, prediction.next_due_on, _items_json(prediction.items), due_km,
            None if est is None or est < 0 else est, rate.km_per_day, rate.method, now)  # fmt: skip


def due_recompute(*, store_id: int, today: dt.date | None = None, chunk: int = CHUNK) -> RecomputeResult:
    """Recompute the next visit of every vehicle of a store (the nightly task; the system's own
    work, no actor). Vehicles are read in keyset chunks of ``chunk``; each chunk's readings and
    last records are two set queries, its summary rows one COPY (PostgreSQL) — so the cost is a
    fixed number of queries per chunk, not per vehicle. Vehicles without a usable history wait
    until every measured rate of the store is known and take their series' (or the store's)
    median, which is stored as the fleet rate for the vehicle API and the next run."""
    started, cpu_started = time.perf_counter(), time.process_time()
    queries_before = len(connection.queries) if connection.queries_logged else 0
    today = today or timezone.localdate()
    now = timezone.now()
    plans = store_plans(store_id=store_id)
    writer = _Writer()
    result = RecomputeResult(store_id=store_id)
    methods: dict[str, int] = defaultdict(int)
    by_series: dict[int | None, array[float]] = defaultdict(lambda: array("d"))
    store_rates = array("d")
    deferred: list[tuple[int, int | None, str, dt.date, list[engine.Reading], dict[str, Any]]] = []
    for vehicles, readings, records in _chunks_read(store_id, chunk):
        lo, hi = vehicles[0][0], vehicles[-1][0]
        rows: list[_Row] = []
        for vid, series_id, fuel, start_ordinal in vehicles:
            start = engine.date_of_ordinal(int(start_ordinal))
            history = readings.get(vid, ())
            rate = engine.mileage_rate(history, delivered=start, fallback=(0.0, "pending"))
            if rate.method == "pending":
                deferred.append((vid, series_id, fuel, start, list(history), records.get(vid, {})))
                continue
            by_series[series_id].append(rate.km_per_day)
            store_rates.append(rate.km_per_day)
            prediction = engine.predict(
                plans.for_series(series_id), rate=rate, delivered=start, last_done=records.get(vid, {}),
                fuel_type=fuel, today=today, detail=False,
            )  # fmt: skip
            methods[rate.method] += 1
            rows.append(_row(store_id, vid, rate, prediction, now))
        writer.replace(store_id=store_id, rows=rows, lo=lo, hi=hi)
        result.vehicles += len(vehicles)
        result.chunks += 1
    store_median = median(store_rates) if store_rates else None
    medians = {s: median(v) for s, v in by_series.items() if s is not None and len(v) >= MIN_FLEET}
    with transaction.atomic():
        FleetRate.objects.filter(store_id=store_id).delete()
        FleetRate.objects.bulk_create(
            [FleetRate(store_id=store_id, series_id=s, km_per_day=m, vehicles=len(by_series[s]), computed_at=now)
             for s, m in medians.items()]
            + ([FleetRate(store_id=store_id, series_id=None, km_per_day=store_median, vehicles=len(store_rates),
                          computed_at=now)] if store_median is not None else [])
        )  # fmt: skip
    rows = []
    for vid, series_id, fuel, start, history, done in deferred:
        if series_id in medians:
            fallback: tuple[float, str] | None = (medians[series_id], "series")
        elif store_median is not None:
            fallback = (store_median, "store")
        else:
            fallback = None
        rate = engine.mileage_rate(history, delivered=start, fallback=fallback)
        prediction = engine.predict(
            plans.for_series(series_id),
            rate=rate,
            delivered=start,
            last_done=done,
            fuel_type=fuel,
            today=today,
            detail=False,
        )
        methods[rate.method] += 1
        rows.append(_row(store_id, vid, rate, prediction, now))
        if len(rows) >= chunk:
            writer.replace(store_id=store_id, rows=rows)
            rows = []
    if rows:
        writer.replace(store_id=store_id, rows=rows)
    result.deferred = len(deferred)
    result.methods = dict(methods)
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    result.queries = (len(connection.queries) - queries_before) if connection.queries_logged else 0
    return result


def vehicle_due_refresh(*, vehicle: Vehicle, today: dt.date | None = None) -> VehicleDue | None:
    """Recompute one vehicle's summary row now (after work is recorded on it)."""
    from .selectors import prediction_for

    computed = prediction_for(vehicle=vehicle, today=today)
    rate, prediction = computed.rate, computed.prediction
    est = prediction.estimated_km
    due, _created = VehicleDue.objects.update_or_create(
        vehicle_id=vehicle.pk,
        defaults={
            "store_id": vehicle.store_id, "next_due_on": prediction.next_due_on,
            "items": [d.item for d in prediction.items],
            "due_km": next((d.due_km for d in prediction.items if d.due_km is not None), None),
            "estimated_km": None if est is None or est < 0 else est, "rate_used": rate.km_per_day,
            "rate_method": rate.method, "computed_at": timezone.now(),
        },
    )  # fmt: skip
    return due


# --------------------------------------------------------------------------- work done


def _items_clean(items: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for value in items:
        code = str(value or "").strip()
        if code not in Item.values:
            raise ValidationError(fields={"items": [_("Unknown item: %(item)s.") % {"item": code[:40]}]})
        if code not in out:
            out.append(code)
    return out


def service_recorded(
    *,
    actor: Actor | None,
    vehicle: Vehicle,
    done_on: dt.date,
    km: int | None,
    items: Iterable[str],
    recall_codes: Iterable[str] = (),
    reference: str = "",
    source: str = RecordSource.REPAIR_ORDER,
) -> list[MaintenanceRecord]:
    """Record that ``items`` were done on ``vehicle`` (the repair order's close calls it, with the
    recall campaigns it carried; an advisor calls it by hand). The same reference and item again
    is not recorded twice. Recalls of those codes are completed, and the vehicle's summary row is
    recomputed. ``actor=None`` is the system (the ``service.repair_order_closed`` subscriber)."""
    if actor is not None:
        require_model(actor, "add", MaintenanceRecord)
        if not can(actor, "view", vehicle):
            raise NotFound()
    codes = _items_clean(items)
    reference = str(reference or "").strip()[:64]
    if not isinstance(done_on, dt.date) or done_on > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError(fields={"done_on": [_("Enter a date that is not in the future.")]})
    if km is not None and (not isinstance(km, int) or isinstance(km, bool) or not 0 <= km <= 2_000_000):
        raise ValidationError(fields={"km": [_("Enter a mileage between 0 and 2,000,000 km.")]})
    with transaction.atomic():
        existing = set()
        if reference:
            existing = set(
                MaintenanceRecord.objects.filter(vehicle=vehicle, reference=reference).values_list("item", flat=True)
            )
        made = [
            MaintenanceRecord(store_id=vehicle.store_id, vehicle=vehicle, item=code, done_on=done_on, km=km,
                              source=source, reference=reference)
            for code in codes if code not in existing
        ]  # fmt: skip
        MaintenanceRecord.objects.bulk_create(made)
        if made:
            audit.record(
                "maintenance.recorded", obj=vehicle, actor=actor, store_id=vehicle.store_id,
                extra={"items": [m.item for m in made], "km": km, "done_on": done_on.isoformat(), "reference": reference},
            )  # fmt: skip
        for code in recall_codes:
            _recall_complete_by_code(vehicle=vehicle, code=str(code), reference=reference or "repair_order")
        vehicle_due_refresh(vehicle=vehicle)
    return made


# A repair order's labour codes (canned jobs and typed jobs, upper or lower case) → the plan items
# that work renews. The codes are the store's own; these are the ones the demo and most DMS use.
JOB_ITEMS: dict[str, tuple[str, ...]] = {
    "OIL": (Item.SERVICE, Item.OIL, Item.OIL_FILTER),
    "PM": (Item.SERVICE, Item.OIL, Item.OIL_FILTER),
    "AIR": (Item.AIR_FILTER,),
    "CABIN": (Item.CABIN_FILTER,),
    "AC": (Item.CABIN_FILTER,),
    "BRK": (Item.BRAKE_PADS,),
    "BF": (Item.BRAKE_FLUID,),
    "COOL": (Item.COOLANT,),
    "PLUG": (Item.SPARK_PLUGS,),
    "BAT": (Item.BATTERY,),
    "TYRE": (Item.TYRES,),
    "EV": (Item.SERVICE, Item.EV_CHECK),
}


def items_of_jobs(codes: Any) -> list[str]:
    """The plan items a repair order's job codes renew: a code that is an item's own value
    (``oil``), or one of :data:`JOB_ITEMS` (``OIL``, ``PM10K`` by its prefix)."""
    out: list[str] = []
    for raw in codes or ():
        code = str(raw or "").strip()
        if code.lower() in Item.values:
            found: tuple[str, ...] = (code.lower(),)
        else:
            upper = code.upper()
            key = next((k for k in sorted(JOB_ITEMS, key=len, reverse=True) if upper.startswith(k)), None)
            found = JOB_ITEMS[key] if key else ()
        out.extend(str(i) for i in found if str(i) not in out)
    return out


def on_repair_order_closed(event: Any) -> None:
    """``service.repair_order_closed`` (payload ``service.events.RepairOrderClosed``; see
    docs/conventions.md §3): record the items the order's jobs renewed and the recall codes it
    carried, then recompute the car's next visit."""
    p = event.payload
    vehicle_id = getattr(p, "vehicle_id", None)
    if not isinstance(vehicle_id, int):
        return
    vehicle = Vehicle.objects.filter(pk=vehicle_id, store_id=event.store_id).first()  # scoped: the event's store
    if vehicle is None:
        return
    closed_on = getattr(p, "closed_on", None) or getattr(p, "closed_at", None) or timezone.localdate()
    if isinstance(closed_on, dt.datetime):
        closed_on = timezone.localtime(closed_on).date()
    items = [c for c in getattr(p, "item_codes", ()) if c in Item.values]
    items += [c for c in items_of_jobs(getattr(p, "job_codes", ())) if c not in items]
    service_recorded(
        actor=None, vehicle=vehicle, done_on=closed_on, km=getattr(p, "odometer_km", None), items=items,
        recall_codes=getattr(p, "recall_codes", ()), reference=f"RO-{getattr(p, 'repair_order_id', '')}",
    )  # fmt: skip


# --------------------------------------------------------------------------- recalls


def vin_normalize(value: Any) -> str:
    """A VIN as typed (lowercase, spaces, dashes) → its 17 capitals; O, I, Q are not VIN letters."""
    return _VIN_STRIP.sub("", str(value or "")).upper()


@dataclass
class RecallPreview:
    code: str
    title: str
    vins: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (row, value)
    repeated: int = 0
    matched_here: int = 0
    matched_other_stores: int = 0
    unmatched: int = 0
    campaign: RecallCampaign | None = None
    matches: dict[int, list[int]] = field(default_factory=dict)  # store → vehicle ids


_VIN_HEADERS = {"vin", "vin码", "车架号", "车辆识别代号", "车辆识别号", "底盘号"}
_CODE_HEADERS = {"campaign", "campaign code", "code", "召回编号", "活动编号", "召回活动编号"}


def recall_file_read(*, handle: Any, name: str, size: int | None = None) -> tuple[list[tuple[int, str]], str]:
    """The (row, VIN) pairs of a recall file (CSV or .xlsx: a column headed VIN/车架号, or the
    first column) and the campaign code if the file has a column for it."""
    from autocrm.imports.importing import read_table

    if size is not None and size > MAX_RECALL_BYTES:
        raise ValidationError(fields={"file": [_("The file is larger than 5 MB.")]})
    header, rows = read_table(handle, str(name or ""))
    keys = [str(h or "").strip().lower() for h in header]
    vin_col = next((i for i, k in enumerate(keys) if k in _VIN_HEADERS), None)
    code_col = next((i for i, k in enumerate(keys) if k in _CODE_HEADERS), None)
    out: list[tuple[int, str]] = []
    code = ""
    if vin_col is None:  # no header: the first row is a VIN too
        vin_col = 0
        if header and header[0]:
            out.append((1, str(header[0])))
    for number, values in rows:
        if len(out) >= MAX_RECALL_VINS:
            raise ValidationError(fields={"file": [_("A recall file holds at most 100,000 VINs.")]})
        value = values[vin_col] if vin_col < len(values) else ""
        if "\x00" in str(value or ""):
            raise ValidationError(fields={"file": [_("Row %(row)s contains a NUL character.") % {"row": number}]})
        out.append((number, str(value or "")))
        if code_col is not None and not code and code_col < len(values) and values[code_col]:
            code = str(values[code_col]).strip()[:40]
    return out, code


def _text_field(name: str, value: Any, max_length: int, *, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError(fields={name: [_("Enter a text.")]})
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(fields={name: [_("This field is required.")]})
    if len(text) > max_length:
        raise ValidationError(
            fields={name: [_("Ensure this value has at most %(max)d characters.") % {"max": max_length}]}
        )
    if "\x00" in text:
        raise ValidationError(fields={name: [_("The text contains a NUL character.")]})
    return text


def recall_import(
    *,
    actor: Actor,
    vins: Sequence[tuple[int, str]],
    code: str,
    title: str,
    description: str = "",
    dry_run: bool = False,
) -> RecallPreview:
    """Match an OEM recall's VINs across the organization's stores and (unless ``dry_run``) give
    every store with affected vehicles its campaign of ``code`` and the list of its vehicles.
    Importing the same code again adds the vehicles not yet listed. VINs are matched as typed
    (lowercase, spaces and dashes are forgiven); ones that cannot be VINs are listed by row."""
    require_model(actor, "import", RecallCampaign)
    store_id = actor.require_store_id()
    organization_id = actor.require_organization_id()
    code = _text_field("code", code, 40, required=True)
    title = _text_field("title", title, 200, required=True)
    description = _text_field("description", description, 4000, required=False)
    preview = RecallPreview(code=code, title=title)
    wanted: set[str] = set()
    for number, raw in vins:
        vin = vin_normalize(raw)
        if not VIN_RE.match(vin):
            preview.invalid.append((number, str(raw)[:40]))
            continue
        if vin in wanted:
            preview.repeated += 1
            continue
        wanted.add(vin)
    if not wanted:
        raise ValidationError(fields={"file": [_("The file holds no valid VIN.")]})
    preview.vins = len(wanted)
    found: dict[str, tuple[int, int]] = {}
    listed = sorted(wanted)
    for i in range(0, len(listed), 1000):
        for pk, vin, sid in (
            Vehicle.objects.filter(organization_id=organization_id, vin__in=listed[i : i + 1000])  # scoped: the organization's stores, the recall's reach
            .values_list("pk", "vin", "store_id")
        ):  # fmt: skip
            found[vin] = (pk, sid)
    for pk, sid in found.values():
        preview.matches.setdefault(sid, []).append(pk)
    preview.matched_here = len(preview.matches.get(store_id, []))
    preview.matched_other_stores = len(found) - preview.matched_here
    preview.unmatched = len(wanted) - len(found)
    if dry_run:
        return preview
    with transaction.atomic():
        for sid in sorted(set(preview.matches) | {store_id}):
            campaign, _created = RecallCampaign.objects.get_or_create(
                store_id=sid, code=code,
                defaults={"organization_id": organization_id, "title": title, "description": description,
                          "vin_count": len(wanted), "created_by_id": actor.user_id},
            )  # fmt: skip
            have = set(RecallVehicle.objects.filter(campaign=campaign).values_list("vehicle_id", flat=True))
            RecallVehicle.objects.bulk_create(
                [RecallVehicle(store_id=sid, campaign=campaign, vehicle_id=v)
                 for v in preview.matches.get(sid, []) if v not in have]
            )  # fmt: skip
            if sid == store_id:
                preview.campaign = campaign
        audit.record(
            "recall.imported", obj=preview.campaign, actor=actor,
            extra={"code": code, "vins": len(wanted), "matched": len(found), "invalid": len(preview.invalid)},
        )  # fmt: skip
    return preview


def recall_notify(*, actor: Actor, campaign: RecallCampaign) -> int:
    """Queue a service notice (召回通知) to the owner of every open vehicle of the campaign,
    through the outbox (consent and the customer's channel are the worker's to check); once per
    vehicle however often it is pressed. Returns how many were queued now."""
    from autocrm.messaging.services import message_queue

    require(actor, "notify", campaign)
    queued = 0
    with transaction.atomic():
        rows = list(
            RecallVehicle.objects.filter(campaign=campaign, status=RecallStatus.OPEN)
            .select_related("vehicle__customer", "vehicle__brand", "vehicle__series")
        )  # fmt: skip
        now = timezone.now()
        for rv in rows:
            customer = rv.vehicle.customer
            if customer is None:
                continue
            values = {
                "campaign": campaign.title,
                "recall_code": campaign.code,
                "plate": rv.vehicle.plate or rv.vehicle.vin,
            }
            # The store's "recall_notice" template when it has one for the channel; this text otherwise.
            text = str(
                _("Recall %(recall_code)s: %(campaign)s concerns your car %(plate)s. Please book a free repair.")
                % values
            )
            message_queue(
                actor=actor, store=campaign.store_id, purpose="service", channel=None,
                template_code="recall_notice", customer=customer, values=values,
                idempotency_key=f"recall-notice:{rv.pk}", cause=rv, text=text,
            )  # fmt: skip
            rv.status, rv.notified_at = RecallStatus.NOTIFIED, now
            queued += 1
        RecallVehicle.objects.bulk_update(rows, ["status", "notified_at"])
        audit.record("recall.notified", obj=campaign, actor=actor, extra={"code": campaign.code, "count": queued})
    return queued


def recall_complete(*, actor: Actor, recalled: RecallVehicle, reference: str = "") -> RecallVehicle:
    """Mark the recall work done on one vehicle by hand (an order from before the system)."""
    require(actor, "change", recalled)
    reference = _text_field("reference", reference, 64, required=False) or "manual"
    with transaction.atomic():
        if recalled.status != RecallStatus.COMPLETED:
            recalled.status, recalled.completed_at, recalled.completed_ref = (
                RecallStatus.COMPLETED, timezone.now(), reference,
            )  # fmt: skip
            recalled.save(update_fields=["status", "completed_at", "completed_ref", "updated_at"])
            audit.record("recall.completed", obj=recalled, actor=actor, extra={"reference": reference})
    return recalled


def _recall_complete_by_code(*, vehicle: Vehicle, code: str, reference: str) -> int:
    code = code.strip()[:40]
    if not code:
        return 0
    done = 0
    for rv in RecallVehicle.objects.filter(vehicle=vehicle, campaign__code=code, store_id=vehicle.store_id).exclude(
        status=RecallStatus.COMPLETED
    ):  # scoped: the vehicle's own store
        rv.status, rv.completed_at, rv.completed_ref = RecallStatus.COMPLETED, timezone.now(), reference[:64]
        rv.save(update_fields=["status", "completed_at", "completed_ref", "updated_at"])
        audit.record("recall.completed", obj=rv, actor=None, extra={"reference": reference[:64]})
        done += 1
    return done


# --------------------------------------------------------------------------- the plan editor

MAX_KM = 1_000_000
MAX_MONTHS = 120
PLAN_FIELDS = (
    "first_km",
    "first_months",
    "interval_km",
    "interval_months",
    "season_month",
    "fuel_types",
    "leads_visit",
)


def _plan_in_store(actor: Actor, plan: ServicePlan) -> ServicePlan:
    """The store's own plan, locked; another store's is not found (404), a shipped plan is
    read-only (403: the store overrides it with :func:`plan_override`)."""
    require_model(actor, "change", ServicePlan)
    store_id = actor.require_store_id()
    if plan.store_id is None:
        raise PermissionDenied()
    if plan.store_id != store_id:
        raise NotFound()
    return ServicePlan.objects.select_for_update().get(pk=plan.pk, store_id=store_id)


def _recompute_later(store_id: int) -> None:
    """Every vehicle's next visit of the store again once the edit commits (a queued task that
    walks the store in keyset chunks: ``due_recompute``)."""
    from . import tasks

    transaction.on_commit(lambda: tasks.maintenance_plan_recompute(store_id=store_id))


@transaction.atomic
def plan_override(*, actor: Actor, series_id: Any = None, name: Any = "") -> ServicePlan:
    """The store's own plan for a series (``series_id`` empty: the store's default), made as a copy
    of the plan that applies today when the store has none yet; the existing one otherwise."""
    from autocrm.vehicles.models import Series

    require_model(actor, "add", ServicePlan)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    sid = inputs.integer(errors, series_id, "series", 1, inputs.ID_MAX)
    title = inputs.text(errors, {"name": name}, "name", 100)
    series = None
    if sid is not None:
        series = Series.objects.filter(pk=sid).select_related("brand").first()  # the shared catalogue
        if series is None:
            errors.add("series", _("Choose one of the listed values."))
    errors.raise_if_any()
    existing = ServicePlan.objects.filter(store_id=store_id, series=series).first()
    if existing is not None:
        return existing
    source = store_plans(store_id=store_id)
    template = source.for_series(series.pk if series else None)
    default_name = f"{series.brand.name} {series.name}" if series else str(_("Store plan"))
    plan = ServicePlan.objects.create(store_id=store_id, series=series, name=title or default_name[:100])
    PlanItem.objects.bulk_create(
        PlanItem(plan=plan, item=i.item, first_km=i.first_km, first_months=i.first_months, interval_km=i.interval_km,
                 interval_months=i.interval_months, season_month=i.season_month, fuel_types=",".join(i.fuel_types),
                 leads_visit=i.leads_visit)
        for i in template
    )  # fmt: skip
    audit.record("maintenance.plan_created", obj=plan, actor=actor, store_id=store_id,
                 extra={"series": series.pk if series else None, "items": [i.item for i in template]})  # fmt: skip
    _recompute_later(store_id)
    return plan


def plan_item_clean(data: Any) -> dict[str, Any]:
    """One item's cycle from a form or JSON: kilometres 1 … 1,000,000, months 1 … 120, the month
    of a seasonal item 1 … 12, fuel types of the vehicle list; at least one cycle."""
    from autocrm.vehicles.choices import FuelType

    if not hasattr(data, "get"):
        raise ValidationError(fields={"item": [_("This field is required.")]})
    errors = inputs.Errors()
    out: dict[str, Any] = {"item": inputs.choice(errors, data, "item", Item)}
    for name in ("first_km", "interval_km"):
        out[name] = inputs.integer(errors, data.get(name), name, 1, MAX_KM)
    for name in ("first_months", "interval_months"):
        out[name] = inputs.integer(errors, data.get(name), name, 1, MAX_MONTHS)
    out["season_month"] = inputs.integer(errors, data.get("season_month"), "season_month", 1, 12)
    fuels = data.get("fuel_types")
    if isinstance(fuels, str):
        fuels = [f for f in (x.strip() for x in fuels.split(",")) if f]
    if fuels is None:
        fuels = []
    if not isinstance(fuels, list | tuple) or any(not isinstance(f, str) or f not in FuelType.values for f in fuels):
        errors.add("fuel_types", _("Choose one of the listed values."))
        fuels = []
    out["fuel_types"] = ",".join(dict.fromkeys(fuels))
    out["leads_visit"] = inputs.boolean(data.get("leads_visit"))
    if not errors and not any(
        out[k] for k in ("interval_km", "interval_months", "season_month", "first_km", "first_months")
    ):
        errors.add("interval_km", _("Give a cycle: kilometres, months or a season month."))
    errors.raise_if_any()
    return out


@transaction.atomic
def plan_item_save(*, actor: Actor, plan: ServicePlan, data: Any) -> PlanItem:
    """Add or change one item of the store's plan; the store's due list is recomputed after."""
    locked = _plan_in_store(actor, plan)
    values = plan_item_clean(data)
    item = values.pop("item")
    row = PlanItem.objects.filter(plan=locked, item=item).first()
    before = {k: getattr(row, k) for k in PLAN_FIELDS} if row else None
    if row is None:
        row = PlanItem.objects.create(plan=locked, item=item, **values)
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.save()
    changes = {
        k: [before.get(k) if before else None, values[k]] for k in PLAN_FIELDS if not before or before[k] != values[k]
    }
    audit.record("maintenance.plan_changed", obj=locked, actor=actor, store_id=locked.store_id,
                 extra={"item": item, "changes": changes})  # fmt: skip
    _recompute_later(actor.require_store_id())
    return row


@transaction.atomic
def plan_item_delete(*, actor: Actor, plan: ServicePlan, item: Any) -> None:
    """Take an item out of the store's plan (its due dates go with it at the recompute)."""
    locked = _plan_in_store(actor, plan)
    errors = inputs.Errors()
    code = inputs.choice(errors, {"item": item}, "item", Item)
    errors.raise_if_any()
    deleted, _rows = PlanItem.objects.filter(plan=locked, item=code).delete()
    if not deleted:
        raise NotFound()
    audit.record("maintenance.plan_changed", obj=locked, actor=actor, store_id=locked.store_id,
                 extra={"item": code, "removed": True})  # fmt: skip
    _recompute_later(actor.require_store_id())
