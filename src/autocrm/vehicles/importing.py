"""Vehicles in the import and export engine (``autocrm.imports``): the field table, row cleaner
and batch writer of the vehicle import, and the vehicle export's columns, registered from
``VehiclesConfig.ready``. Rows are validated with ``vehicles.services.vehicle_clean`` (VIN check
digit — a hard error for Chinese ``L…`` VINs —, plate, dates); the owner is found by the mobile
in the file through the customers' blind index; a VIN or ``external_id`` already in the store
updates that vehicle, a VIN registered in another store of the organization is refused.

A row needs a VIN or a plate. A row without a VIN keeps its car by the plate (the warning "VIN
missing; add it later"): it updates the one vehicle of the store with that plate, or creates
one; a later row with the VIN and the plate of a vehicle known by its plate only gives that
vehicle its VIN. A plate another vehicle of the store has is a warning (plates move between
cars), several vehicles with the plate of a VIN-less row are an error (which one is meant?)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core import bulk, crypto, identifiers
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import Scope, can, scope_for
from autocrm.customers.importing import blind_matches
from autocrm.customers.models import Customer, TimelineEvent
from autocrm.imports import exporting
from autocrm.imports.importing import (
    FieldSpec,
    Importer,
    Row,
    cell_date,
    cell_text,
    choice_value,
    mark_repeats,
    register_importer,
)
from autocrm.imports.models import ImportJob

from . import selectors, services
from .choices import FuelType, ReadingSource, Usage
from .models import Brand, OdometerReading, Ownership, Series, Vehicle

_DATES = (
    "purchase_date",
    "delivery_date",
    "warranty_end",
    "extended_warranty_end",
    "insurance_expiry",
    "inspection_due",
)
_FUEL_EXTRA = {"燃油": "petrol", "汽油": "petrol", "柴油": "petrol", "混动": "hybrid", "插混": "hybrid",
               "油电混合": "hybrid", "纯电": "electric", "纯电动": "electric", "电动": "electric"}  # fmt: skip
_USAGE_EXTRA = {"家用": "family", "商务": "business", "越野": "offroad"}


class _Existing(NamedTuple):
    """A vehicle of the organization that a batch's VINs or (store) external IDs matched."""

    id: int
    vin: str
    store_id: int
    external_id: str
    plate: str
    customer_id: int | None
    customer__consultant_id: int | None
    mileage_km: int | None


class _Owner(NamedTuple):
    """The customer of the store a row's owner mobile found."""

    id: int
    consultant_id: int | None


class _Owned(NamedTuple):
    """A vehicle that gets its first owner: its ownership row and the owner's timeline event."""

    vehicle_id: int
    customer_id: int
    since: dt.date | None
    label: str


class _Reading(NamedTuple):
    vehicle_id: int
    km: int


@dataclass
class _VehicleContext:
    actor: Actor
    job: ImportJob
    store_id: int
    organization_id: int
    today: dt.date
    now: dt.datetime
    brands: dict[str, int]
    series: dict[tuple[int, str], int]
    seen: dict[str, dict[str, int]] = field(default_factory=lambda: {"vin": {}, "external_id": {}, "plate": {}})
    summary: str = ""
    # A store- or organization-wide right to change customers covers every owner found in the
    # store: no per-row permission probe then.
    may_change_any_customer: bool = False
    may_change_any_vehicle: bool = False


class VehicleImporter(Importer):
    model = Vehicle
    fields = (
        # Not required: a spreadsheet without VINs keeps its cars by their plates.
        FieldSpec("vin", _("VIN"), ("VIN", "VIN码", "车架号", "车辆识别代号", "车辆识别代码", "车辆识别号", "底盘号")),
        FieldSpec("plate", _("plate"), ("车牌", "车牌号", "车牌号码", "号牌号码", "plate", "plate number", "licence plate")),
        FieldSpec("owner_mobile", _("owner's mobile"), ("客户手机", "车主手机", "车主电话", "客户电话", "手机", "手机号", "owner mobile", "customer mobile", "mobile")),
        FieldSpec("brand", _("brand"), ("品牌", "厂牌", "brand", "make")),
        FieldSpec("series", _("series"), ("车型", "车系", "series", "model")),
        FieldSpec("model_year", _("model year"), ("年款", "车型年款", "model year")),
        FieldSpec("fuel_type", _("fuel type"), ("燃料类型", "能源类型", "动力类型", "fuel", "fuel type")),
        FieldSpec("colour", _("colour"), ("颜色", "车身颜色", "colour", "color")),
        FieldSpec("usage", _("usage"), ("用途", "使用性质", "usage")),
        FieldSpec("purchase_date", _("purchase date"), ("购车日期", "购买日期", "开票日期", "purchase date")),
        FieldSpec("delivery_date", _("delivery date"), ("交车日期", "交付日期", "delivery date")),
        FieldSpec("warranty_end", _("warranty end"), ("保修到期", "质保到期", "warranty end")),
        FieldSpec("extended_warranty_end", _("extended warranty end"), ("延保到期", "extended warranty end")),
        FieldSpec("insurance_expiry", _("insurance expiry"), ("保险到期", "保险到期日", "商业险到期", "insurance expiry")),
        FieldSpec("inspection_due", _("annual inspection due"), ("年检到期", "年检日期", "年审到期", "inspection due")),
        FieldSpec("mileage_km", _("current mileage (km)"), ("里程", "行驶里程", "公里数", "表显里程", "mileage", "odometer", "mileage km")),
        FieldSpec("external_id", _("external ID"), ("外部编号", "DMS编号", "车辆编号", "外部ID", "external id", "external_id", "dms id")),
    )  # fmt: skip

    def start(self, *, actor: Actor, job: ImportJob, today: dt.date) -> _VehicleContext:
        brands: dict[str, int] = {}
        for pk, name, name_en in Brand.objects.values_list("id", "name", "name_en"):
            brands[name.lower()] = pk
            if name_en:
                brands.setdefault(name_en.lower(), pk)
        series = {(b, n.lower()): pk for pk, b, n in Series.objects.values_list("id", "brand_id", "name")}
        return _VehicleContext(
            actor=actor,
            job=job,
            store_id=actor.require_store_id(),
            organization_id=actor.require_organization_id(),
            today=today,
            now=timezone.now(),
            brands=brands,
            series=series,
            summary=gettext("Imported from %(file)s") % {"file": job.original_name},
            may_change_any_customer=scope_for(actor, Customer, "change") in (Scope.STORE, Scope.ORGANIZATION),
            # Only vehicles of the actor's store reach the check (others are refused before).
            may_change_any_vehicle=scope_for(actor, Vehicle, "change") in (Scope.STORE, Scope.ORGANIZATION),
        )

    @staticmethod
    def _prepare(raw: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in raw.items():
            if name in _DATES:
                value = cell_date(value)
            elif name == "fuel_type":
                value = choice_value(FuelType, value, _FUEL_EXTRA)
            elif name == "usage":
                value = choice_value(Usage, value, _USAGE_EXTRA)
            else:
                value = cell_text(value)
            if value in ("", None) and name != "vin":
                continue
            data[name] = value
        return data

    def check_batch(self, ctx: _VehicleContext, rows: list[Row], precleaned: list[Any] | None = None) -> None:
        for row in rows:
            data = self._prepare(row.raw)
            data.setdefault("vin", "")
            extra: dict[str, Any] = {}
            if not data["vin"] and not data.get("plate"):
                row.fail("vin", services.VIN_OR_PLATE)
                continue
            try:
                cleaned, warnings = services.vehicle_clean(
                    {k: v for k, v in data.items() if k in services.EDITABLE_FIELDS}, today=ctx.today
                )
                row.warnings += [("vin", str(w)) for w in warnings]
            except ValidationError as exc:
                cleaned = {}
                for name, messages in exc.fields.items():
                    for message in messages:
                        row.fail(name, message)
            if "mileage_km" in data:
                try:
                    km = int(float(str(data["mileage_km"]).replace(",", "")))
                    if not 0 <= km <= 2_000_000:
                        raise ValueError
                    extra["mileage_km"] = km
                except (TypeError, ValueError):
                    row.fail("mileage_km", _("Enter the mileage in whole kilometres."))
            if data.get("owner_mobile"):
                try:
                    extra["owner_mobile"] = identifiers.normalize_mobile(data["owner_mobile"], field="owner_mobile")
                except ValidationError as exc:
                    row.fail("owner_mobile", exc.message)
            if data.get("brand"):
                brand_id = ctx.brands.get(str(data["brand"]).lower())
                if brand_id is None:
                    row.warnings.append(
                        ("brand", gettext("Brand not in the catalogue; the vehicle is saved without it."))
                    )
                else:
                    extra["brand_id"] = brand_id
                    if data.get("series"):
                        series_id = ctx.series.get((brand_id, str(data["series"]).lower()))
                        if series_id is None:
                            row.warnings.append(
                                ("series", gettext("Series not in the catalogue; the vehicle is saved without it."))
                            )
                        else:
                            extra["series_id"] = series_id
            if row.errors:
                continue
            row.cleaned = cleaned
            row.extra.update(extra, vin_warnings=[m for _f, m in row.warnings if _f == "vin"])
            mark_repeats(row, ctx.seen)
        self._match_store(ctx, [r for r in rows if r.ok])

    @staticmethod
    def _may_change(ctx: _VehicleContext, existing: _Existing) -> bool:
        probe = Vehicle(pk=existing.id, store_id=existing.store_id)
        probe.customer = (
            Customer(pk=existing.customer_id, store_id=existing.store_id,
                     consultant_id=existing.customer__consultant_id)
            if existing.customer_id else None
        )  # fmt: skip
        return can(ctx.actor, "change", probe)

    def _match_store(self, ctx: _VehicleContext, rows: list[Row]) -> None:
        if not rows:
            return
        vins = {r.cleaned["vin"] for r in rows if r.cleaned and r.cleaned["vin"]}
        exts = {r.cleaned["external_id"] for r in rows if r.cleaned and r.cleaned.get("external_id")}
        plates = {r.cleaned["plate"] for r in rows if r.cleaned and r.cleaned.get("plate")}
        # One query per key, each with its values as one parameter (core.lookups.any_of): an OR
        # of the two, or a thousand placeholders, cost more than the queries.
        queries = []
        if vins:
            queries.append(Vehicle.objects.filter(organization_id=ctx.organization_id, vin__any_of=vins))
        if exts:
            queries.append(Vehicle.objects.filter(store_id=ctx.store_id, external_id__any_of=exts))
        if plates:
            queries.append(Vehicle.objects.filter(store_id=ctx.store_id, plate__any_of=plates))
        found = {v.id: v for q in queries for v in map(_Existing._make, q.values_list(*_Existing._fields))}.values()
        by_vin = {v.vin: v for v in found if v.vin}
        by_ext = {v.external_id: v for v in found if v.external_id and v.store_id == ctx.store_id}
        by_plate: dict[str, list[_Existing]] = {}
        for v in sorted(found, key=lambda v: v.id):
            if v.plate and v.store_id == ctx.store_id:
                by_plate.setdefault(v.plate, []).append(v)
        # Owners by mobile, through the customers' blind index.
        index_field = Customer._meta.get_field("mobile_index")
        candidates: dict[str, str] = {}
        for row in rows:
            mobile = row.extra.get("owner_mobile")
            if mobile:
                normalised = index_field.normalizer(mobile)
                for candidate in crypto.blind_index_candidates(normalised):
                    candidates[candidate] = normalised
        owners: dict[str, _Owner] = {}
        if candidates:
            # Store and merge checked in Python, as the customers' import does (importing.blind_matches).
            for pk, index, consultant, store_id, merged_into in (
                blind_matches("mobile_index", set(candidates))
                .order_by("id")
                .values_list("id", "mobile_index", "consultant_id", "store_id", "merged_into_id")
            ):
                if store_id == ctx.store_id and merged_into is None:
                    owners.setdefault(candidates[index], _Owner(pk, consultant))
        for row in rows:
            c = row.cleaned or {}
            vin, plate = c["vin"], c.get("plate") or ""
            existing = by_ext.get(c.get("external_id") or "") or by_vin.get(vin)
            same_vin = by_vin.get(vin)
            if same_vin is not None and (existing is None or same_vin.id != existing.id):
                row.fail("vin", _("This VIN is already registered in your organization."))
                continue
            if existing is not None and existing.store_id != ctx.store_id:
                row.fail("vin", _("This VIN is already registered in your organization."))
                continue
            holders = by_plate.get(plate, [])
            if existing is None and holders:
                if vin:  # the VIN of a car the store knew by its plate only
                    existing = next((h for h in holders if not h.vin), None) if len(holders) == 1 else None
                elif len(holders) == 1:
                    existing = holders[0]
                else:
                    row.fail("plate", _("Several vehicles of this store have this plate: give the VIN."))
                    continue
            if not vin and (existing is None or not existing.vin):
                row.warnings.append(("vin", str(services.VIN_MISSING)))
            if any(existing is None or h.id != existing.id for h in holders):
                row.warnings.append(("plate", str(services.PLATE_ELSEWHERE % {"plate": plate})))
            owner = None
            mobile = row.extra.get("owner_mobile")
            if mobile:
                owner = owners.get(index_field.normalizer(mobile))
                if owner is None:
                    row.fail(
                        "owner_mobile", _("No customer of this store has this mobile. Import the customers first.")
                    )
                    continue
                if not ctx.may_change_any_customer and not can(
                    ctx.actor, "change", Customer(pk=owner.id, store_id=ctx.store_id, consultant_id=owner.consultant_id)
                ):
                    row.fail("owner_mobile", _("You may not add vehicles to this customer."))
                    continue
                row.extra["owner_id"] = owner.id
            if existing is not None:
                if not ctx.may_change_any_vehicle and not self._may_change(ctx, existing):
                    row.fail("vin", _("You may not change the existing vehicle with this VIN."))
                    continue
                if owner is not None and existing.customer_id not in (None, owner.id):
                    row.fail(
                        "owner_mobile",
                        _("The vehicle belongs to another customer. Transfer it from the vehicle page."),
                    )
                    continue
                km = row.extra.get("mileage_km")
                if km is not None and existing.mileage_km is not None and km < existing.mileage_km:
                    row.fail(
                        "mileage_km",
                        gettext("The mileage is lower than the last reading (%(km)s km).")
                        % {"km": existing.mileage_km},
                    )
                    continue
                row.target_id = existing.id
                row.extra["had_owner"] = existing.customer_id is not None
                if not vin:
                    del c["vin"]  # a row without the VIN leaves the vehicle's VIN as it is

    def write_batch(self, ctx: _VehicleContext, rows: list[Row], prepared: Any = None) -> tuple[int, int]:
        # New vehicles as plain values, written by COPY on PostgreSQL (no model instances: at
        # 100,000 rows building them cost more than the write), with their first ownership,
        # odometer reading and timeline event.
        creates: list[dict[str, Any]] = []
        for row in rows:
            if row.target_id:
                continue
            values: dict[str, Any] = {"store_id": ctx.store_id, "organization_id": ctx.organization_id,
                                      "customer_id": row.extra.get("owner_id"), **(row.cleaned or {})}  # fmt: skip
            if row.extra.get("brand_id"):
                values["brand_id"], values["series_id"] = row.extra["brand_id"], row.extra.get("series_id")
            if row.extra.get("mileage_km") is not None:
                values["mileage_km"], values["mileage_at"] = row.extra["mileage_km"], ctx.now
            values["vin_warnings"] = row.extra.get("vin_warnings", [])
            values["maker"], values["model_year"] = services.decoded_fields(
                values["vin"], values.get("model_year"), today=ctx.today
            )
            creates.append(values)
        created_ids = bulk.insert_rows(Vehicle, creates)
        # What the history tables get, from new vehicles and from updated ones alike: a first
        # owner and a new odometer reading.
        owned: list[_Owned] = []
        readings: list[_Reading] = []
        for pk, v in zip(created_ids, creates, strict=True):
            if v["customer_id"]:
                owned.append(_Owned(pk, v["customer_id"], v.get("purchase_date"), v.get("plate") or v["vin"]))
            if v.get("mileage_km") is not None:
                readings.append(_Reading(pk, v["mileage_km"]))
        updated: list[Vehicle] = []
        update_rows = [r for r in rows if r.target_id]
        if update_rows:
            existing = {v.pk: v for v in Vehicle.objects.filter(pk__any_of={r.target_id for r in update_rows})}
            names: set[str] = {"updated_at"}
            for row in update_rows:
                vehicle = existing.get(row.target_id)  # type: ignore[arg-type]
                if vehicle is None:
                    continue
                known_vin = vehicle.vin
                for name, value in (row.cleaned or {}).items():
                    setattr(vehicle, name, value)
                names.update(row.cleaned or {})
                if vehicle.vin != known_vin:  # a VIN added (or corrected): decoded as on entry
                    vehicle.maker, vehicle.model_year = services.decoded_fields(
                        vehicle.vin, vehicle.model_year, today=ctx.today
                    )
                    vehicle.vin_warnings = row.extra.get("vin_warnings", [])
                    names.update(("maker", "model_year", "vin_warnings"))
                if row.extra.get("owner_id") and vehicle.customer_id is None:
                    vehicle.customer_id = row.extra["owner_id"]
                    names.add("customer")
                    owned.append(_Owned(vehicle.pk, vehicle.customer_id, vehicle.purchase_date, str(vehicle)))
                changed = self._apply_extra(ctx, vehicle, row)
                if "mileage_km" in changed:
                    readings.append(_Reading(vehicle.pk, vehicle.mileage_km))  # type: ignore[arg-type]
                names.update(changed)
                vehicle.updated_at = ctx.now
                updated.append(vehicle)
            bulk.update_instances(Vehicle, updated, sorted(names))  # COPY + UPDATE … FROM on PostgreSQL
        bulk.insert_rows(
            Ownership,
            [{"store_id": ctx.store_id, "vehicle_id": o.vehicle_id, "customer_id": o.customer_id,
              "started_on": o.since or ctx.today, "note": ctx.summary[:200]} for o in owned],
            returning=False,
        )  # fmt: skip
        bulk.insert_rows(
            OdometerReading,
            [{"store_id": ctx.store_id, "vehicle_id": r.vehicle_id, "km": r.km, "at": ctx.now,
              "source": ReadingSource.IMPORT} for r in readings],
            returning=False,
        )  # fmt: skip
        bulk.insert_rows(
            TimelineEvent,
            [{"store_id": ctx.store_id, "customer_id": o.customer_id, "kind": "vehicle.added", "at": ctx.now,
              "summary": o.label[:300], "object_type": "vehicles.vehicle", "object_id": str(o.vehicle_id)}
             for o in owned],
            returning=False,
        )  # fmt: skip
        return len(creates), len(updated)

    @staticmethod
    def _apply_extra(ctx: _VehicleContext, vehicle: Vehicle, row: Row) -> set[str]:
        changed: set[str] = set()
        if row.extra.get("brand_id"):
            vehicle.brand_id = row.extra["brand_id"]
            vehicle.series_id = row.extra.get("series_id")
            changed |= {"brand", "series"}
        km = row.extra.get("mileage_km")
        if km is not None and km != vehicle.mileage_km:
            vehicle.mileage_km, vehicle.mileage_at = km, ctx.now
            changed |= {"mileage_km", "mileage_at"}
        return changed


class VehicleExporter(exporting.Exporter):
    model = Vehicle
    filter_names = ("q", "customer", "fuel_type", "usage", "external_id")

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        return (
            selectors.vehicle_list(actor=actor, filters=dict(filters))
            .filter(pk__in=Vehicle.objects.for_actor(actor, "export").values("pk"))
            .select_related("customer", "brand", "series")
            .order_by("id")
        )

    def may_reveal(self, actor: Actor) -> bool:
        return can(actor, "reveal", Customer)

    def columns(self, actor: Actor, full: bool) -> list[exporting.Column]:
        m = Vehicle

        def plain(name: str) -> exporting.Column:
            return exporting.Column(name, exporting.field_label(m, name), lambda o: getattr(o, name))

        def owner_mobile(o: Vehicle) -> Any:
            return exporting.sensitive_value(actor, o.customer, "mobile", full) if o.customer_id else ""

        return [
            exporting.Column("id", "ID", lambda o: o.pk),
            plain("vin"),
            plain("plate"),
            exporting.Column("brand", _("brand"), lambda o: o.brand.name if o.brand_id else ""),
            exporting.Column("series", _("series"), lambda o: o.series.name if o.series_id else ""),
            plain("model_year"),
            exporting.Column(
                "fuel_type", exporting.field_label(m, "fuel_type"), exporting.choice_label("fuel_type", m)
            ),
            plain("colour"),
            plain("purchase_date"),
            plain("delivery_date"),
            plain("warranty_end"),
            plain("insurance_expiry"),
            plain("inspection_due"),
            plain("mileage_km"),
            exporting.Column("owner", _("owner"), lambda o: o.customer.name if o.customer_id else ""),
            exporting.Column("owner_mobile", _("owner's mobile"), owner_mobile),
            plain("external_id"),
        ]


def register() -> None:
    """Called from ``VehiclesConfig.ready``."""
    register_importer("vehicles", VehicleImporter(), order=20)
    exporting.register_exporter("vehicles", VehicleExporter(), order=20)
