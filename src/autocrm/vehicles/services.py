"""Writes of vehicle records: registration with VIN/plate validation, odometer readings,
ownership transfer.

A vehicle needs a VIN or a plate. Without a VIN it is kept by its plate with the warning
:data:`VIN_MISSING` (spreadsheets without VINs keep their cars); the VIN is added later with
the same checks and the same organization-wide uniqueness. A plate another vehicle of the store
carries is a warning (:func:`plate_elsewhere`), not a refusal: plates move between cars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import identifiers
from autocrm.core.actor import Actor
from autocrm.core.conflicts import store_key_conflict
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.core.events import emit
from autocrm.core.models import model_field
from autocrm.core.permissions import Scope, can, require, scope_for
from autocrm.customers.models import Customer
from autocrm.customers.services import timeline_record

from . import events
from .choices import FuelType, ReadingSource, Usage
from .models import Brand, OdometerReading, Ownership, Series, Trim, Vehicle

DATE_FIELDS = (
    "purchase_date", "delivery_date", "warranty_end", "extended_warranty_end", "insurance_expiry", "inspection_due",
)  # fmt: skip
EDITABLE_FIELDS = ("vin", "plate", "fuel_type", "usage", "colour", "model_year", "external_id", *DATE_FIELDS)
VIN_MISSING = _("VIN missing; add it later.")
VIN_OR_PLATE = _("Enter the VIN or the plate.")
PLATE_ELSEWHERE = _(
    "Another vehicle of this store has the plate %(plate)s: if the plate moved to this car, clear it on the other one."
)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def vehicle_clean(data: Mapping[str, Any], *, today: dt.date | None = None) -> tuple[dict[str, Any], list[str]]:
    """Validate and normalise vehicle fields; returns ``(cleaned, warnings)``. All field errors
    are reported at once, each naming its field and rule. ``today`` (default: the local date)
    bounds the model year; an import passes it once for all its rows."""
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    warnings: list[str] = []

    def fail(exc: ValidationError, name: str) -> None:
        for field, messages in (exc.fields or {name: [exc.message]}).items():
            errors.setdefault(field, []).extend(messages)

    if "vin" in data:
        text = _text(data["vin"])
        try:
            out["vin"], vin_warnings = identifiers.vin_validate(text) if text else ("", [])
            warnings += [str(w) for w in vin_warnings]
        except ValidationError as exc:
            fail(exc, "vin")
    if "plate" in data:
        text = _text(data["plate"])
        try:
            out["plate"] = identifiers.normalize_plate(text) if text else ""
            out["plate_kind"] = identifiers.plate_kind(out["plate"]) or "" if text else ""
        except ValidationError as exc:
            fail(exc, "plate")
    for name in DATE_FIELDS:
        if name in data:
            value = data[name]
            if value in (None, ""):
                out[name] = None
            elif isinstance(value, dt.date):
                out[name] = value
            else:
                try:
                    out[name] = dt.date.fromisoformat(_text(value))
                except ValueError:
                    errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
    for name, choices in (("fuel_type", FuelType), ("usage", Usage)):
        if name in data:
            text = _text(data[name])
            if text and text not in choices.values:
                errors.setdefault(name, []).append(_("Choose one of the listed values."))
            out[name] = text
    if "model_year" in data:
        value = data["model_year"]
        if value in (None, ""):
            out["model_year"] = None
        else:
            try:
                year = int(value)
                if not 1980 <= year <= (today or timezone.localdate()).year + 1:
                    raise ValueError
                out["model_year"] = year
            except (TypeError, ValueError):
                errors.setdefault("model_year", []).append(_("Enter a model year between 1980 and next year."))
    for name in ("colour", "external_id"):
        if name in data:
            out[name] = _text(data[name])[: model_field(Vehicle, name).max_length]
            if "\x00" in out[name]:  # PostgreSQL cannot store it; an imported file may carry one
                errors.setdefault(name, []).append(_("Text may not contain NUL characters or unpaired surrogates."))
    if out.get("delivery_date") and out.get("purchase_date") and out["delivery_date"] < out["purchase_date"]:
        errors.setdefault("delivery_date", []).append(_("Delivery cannot be before purchase."))
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    return out, warnings


def identity_check(vin: str, plate: str) -> list[str]:
    """The rule for a whole vehicle: a VIN or a plate. Without a VIN, the warning that it is
    missing; without either, a ``ValidationError`` on the VIN."""
    if vin:
        return []
    if not plate:
        raise ValidationError(_("Some fields are not valid."), fields={"vin": [VIN_OR_PLATE]})
    return [str(VIN_MISSING)]


def plate_elsewhere(*, store_id: int, plate: str, exclude_id: int | None = None) -> list[str]:
    """The warning that another vehicle of the store has ``plate`` (one indexed lookup), else []."""
    if not plate:
        return []
    others = Vehicle.objects.filter(store_id=store_id, plate=plate)  # scoped: existence only, store-wide
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    return [str(PLATE_ELSEWHERE % {"plate": plate})] if others.exists() else []


def decoded_fields(vin: str, model_year: int | None, *, today: dt.date | None = None) -> tuple[str, int | None]:
    """``(maker, model year)`` of a vehicle from its VIN (vininfo): the model year given wins;
    else the latest year the VIN's year code allows that is not after next year. The maker and
    years depend only on the VIN's maker and year positions, so they are looked up once per such
    key (an import of 100,000 vehicles has a few hundred). Without a VIN, nothing is decoded."""
    if not vin:
        return "", model_year
    maker, years = identifiers.vin_facts(vin)
    if model_year is None and years:
        this_year = (today or timezone.localdate()).year + 1
        plausible = [y for y in years if y <= this_year]
        model_year = max(plausible) if plausible else None
    return (maker or "")[:60], model_year


def _decode_into(vehicle: Vehicle) -> None:
    vehicle.maker, vehicle.model_year = decoded_fields(vehicle.vin, vehicle.model_year)


def _vin_conflict(actor: Actor, vin: str) -> Conflict:
    existing = Vehicle.objects.filter(organization_id=actor.require_organization_id(), vin=vin).first()
    message = _("This VIN is already registered in your organization.")
    existing_id = existing.pk if existing is not None and can(actor, "view", existing) else None
    exc = Conflict(message, fields={"vin": [message]}, extra={"existing_id": existing_id})
    exc.existing_id = existing_id  # type: ignore[attr-defined]
    return exc


def _catalogue(data: Mapping[str, Any], vehicle: Vehicle) -> None:
    """Set brand/series/trim from ids when given; keep them consistent with each other."""
    trim_id, series_id, brand_id = data.get("trim"), data.get("series"), data.get("brand")
    if trim_id:
        trim = Trim.objects.select_related("series__brand").filter(pk=trim_id).first()
        if trim is None:
            raise ValidationError(fields={"trim": [_("Choose a trim from the catalogue.")]})
        vehicle.trim, vehicle.series, vehicle.brand = trim, trim.series, trim.series.brand
        vehicle.fuel_type = vehicle.fuel_type or trim.fuel_type
        vehicle.model_year = vehicle.model_year or trim.model_year
    elif series_id:
        series = Series.objects.select_related("brand").filter(pk=series_id).first()
        if series is None:
            raise ValidationError(fields={"series": [_("Choose a series from the catalogue.")]})
        vehicle.series, vehicle.brand, vehicle.trim = series, series.brand, None
    elif brand_id:
        brand = Brand.objects.filter(pk=brand_id).first()
        if brand is None:
            raise ValidationError(fields={"brand": [_("Choose a brand from the catalogue.")]})
        vehicle.brand, vehicle.series, vehicle.trim = brand, None, None


def vehicle_create_check(*, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a new vehicle without writing anything: the cleaned fields, or every field
    error at once (``ValidationError``), or a 409 when the VIN is already registered in the
    organization. The customer create page checks its first vehicle with this before anything
    is saved. A plate without a VIN is enough (the VIN is added later)."""
    if scope_for(actor, Vehicle, "add") is None:
        raise PermissionDenied()
    cleaned = _create_clean(data)[0]
    if cleaned["vin"] and _vin_taken(actor.require_organization_id(), cleaned["vin"]):
        raise _vin_conflict(actor, cleaned["vin"])
    return cleaned


def _create_clean(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """:func:`vehicle_clean` of a new vehicle with the VIN-or-plate rule, every error at once."""
    data = {**data, "vin": data.get("vin") or "", "plate": data.get("plate") or ""}
    errors: dict[str, list[Any]] = {}
    cleaned: dict[str, Any] = {}
    warnings: list[str] = []
    try:
        cleaned, warnings = vehicle_clean(data)
    except ValidationError as exc:
        errors = dict(exc.fields)
    try:
        warnings = identity_check(_text(data["vin"]), _text(data["plate"])) + warnings
    except ValidationError as exc:
        errors.setdefault("vin", []).extend(exc.fields["vin"])
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    return cleaned, warnings


def _vin_taken(organization_id: int, vin: str, exclude_id: int | None = None) -> bool:
    taken = Vehicle.objects.filter(organization_id=organization_id, vin=vin)  # scoped: existence only, org-wide
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    return bool(vin) and taken.exists()


def _integrity_conflict(actor: Actor, vehicle: Vehicle) -> Conflict | None:
    """What a save refused by a unique constraint collided with (a concurrent write of the same
    VIN or external ID that passed the checks before this one did): its 409, else None."""
    if _vin_taken(vehicle.organization_id, vehicle.vin, exclude_id=vehicle.pk):
        return _vin_conflict(actor, vehicle.vin)
    return _external_id_conflict(store_id=vehicle.store_id, external_id=vehicle.external_id, exclude_id=vehicle.pk)


def _external_id_conflict(*, store_id: int, external_id: str, exclude_id: int | None = None) -> Conflict | None:
    """The 409 for an ``external_id`` (the key external systems upsert by) another vehicle of the
    store holds, else None (:func:`autocrm.core.conflicts.store_key_conflict`)."""
    return store_key_conflict(
        Vehicle, store_id=store_id, field="external_id", value=external_id, exclude_id=exclude_id,
        message=_("Another vehicle of this store already has this external ID."),
    )  # fmt: skip


@transaction.atomic
def vehicle_create(
    *,
    actor: Actor,
    data: Mapping[str, Any],
    customer: Customer | None = None,
    mileage_km: int | None = None,
) -> Vehicle:
    """Register a vehicle in the actor's store, optionally with its owner and a first reading.

    A VIN already registered anywhere in the organization is a 409 naming the existing vehicle
    when the actor may see it, as is an external ID another vehicle of the store has (checked
    first, and by the database's unique constraints for a concurrent write). Without a VIN the
    plate is needed. The warnings (VIN missing, a plate another vehicle has) are on the returned
    vehicle's ``warnings``."""
    scope = scope_for(actor, Vehicle, "add")
    if scope is None:
        raise PermissionDenied()
    if customer is None and scope in (Scope.OWN, Scope.OWN_OR_UNASSIGNED):
        # a consultant's vehicles are their customers': one without an owner would vanish from
        # their scope the moment it is written
        raise ValidationError(fields={"customer": [_("Choose the owner among your customers.")]})
    cleaned, warnings = _create_clean(data)
    if customer is not None:
        require(actor, "change", customer)
        if customer.store_id != actor.store_id:
            raise ValidationError(fields={"customer": [_("The owner must be a customer of this store.")]})
    if _vin_taken(actor.require_organization_id(), cleaned["vin"]):
        raise _vin_conflict(actor, cleaned["vin"])
    if taken := _external_id_conflict(store_id=actor.require_store_id(), external_id=cleaned.get("external_id", "")):
        raise taken
    vehicle = Vehicle(
        store_id=actor.require_store_id(), organization_id=actor.require_organization_id(), customer=customer, **cleaned
    )
    vehicle.vin_warnings = [w for w in warnings if w != str(VIN_MISSING)]
    _catalogue(data, vehicle)
    _decode_into(vehicle)
    _save_or_conflict(actor, vehicle)
    vehicle.warnings = warnings + plate_elsewhere(store_id=vehicle.store_id, plate=vehicle.plate, exclude_id=vehicle.pk)
    if customer is not None:
        Ownership.objects.create(
            store_id=vehicle.store_id,
            vehicle=vehicle,
            customer=customer,
            started_on=vehicle.purchase_date or timezone.localdate(),
        )
        timeline_record(customer=customer, kind="vehicle.added", summary=str(vehicle), obj=vehicle)
    emit(events.VEHICLE_CREATED, store_id=vehicle.store_id,
         payload=events.VehicleCreated(vehicle_id=vehicle.pk, customer_id=vehicle.customer_id))  # fmt: skip
    if mileage_km is not None:
        odometer_record(actor=actor, vehicle=vehicle, km=mileage_km, source=ReadingSource.DELIVERY)
    return vehicle


def _save_or_conflict(actor: Actor, vehicle: Vehicle) -> None:
    """Save; a unique constraint a concurrent write won (the same VIN or external ID) is the 409
    the check before the save would have given."""
    try:
        with transaction.atomic():
            vehicle.save()
    except IntegrityError:
        conflict = _integrity_conflict(actor, vehicle)
        if conflict is None:
            raise
        raise conflict from None


@transaction.atomic
def vehicle_update(*, actor: Actor, vehicle: Vehicle, data: Mapping[str, Any]) -> Vehicle:
    """Change fields of a vehicle. A VIN missing until now may be added (same checks, same
    uniqueness); a known VIN is corrected, never removed; a vehicle keeps a VIN or a plate.
    The warnings are on the returned vehicle's ``warnings``."""
    require(actor, "change", vehicle)
    cleaned, warnings = vehicle_clean(data)
    if "vin" in cleaned and not cleaned["vin"]:
        if vehicle.vin:
            raise ValidationError(fields={"vin": [_("A VIN cannot be removed: correct it instead.")]})
        del cleaned["vin"]
    identity_check(cleaned.get("vin", vehicle.vin), cleaned.get("plate", vehicle.plate))
    if cleaned.get("vin") and cleaned["vin"] != vehicle.vin:
        if _vin_taken(vehicle.organization_id, cleaned["vin"]):
            raise _vin_conflict(actor, cleaned["vin"])
        vehicle.vin_warnings = warnings
    if cleaned.get("external_id") and cleaned["external_id"] != vehicle.external_id:
        taken = _external_id_conflict(
            store_id=vehicle.store_id, external_id=cleaned["external_id"], exclude_id=vehicle.pk
        )
        if taken:
            raise taken
    for name, value in cleaned.items():
        setattr(vehicle, name, value)
    _catalogue(data, vehicle)
    if "vin" in cleaned:
        _decode_into(vehicle)
    _save_or_conflict(actor, vehicle)
    vehicle.warnings = identity_check(vehicle.vin, vehicle.plate) + plate_elsewhere(
        store_id=vehicle.store_id, plate=vehicle.plate, exclude_id=vehicle.pk
    )
    return vehicle


@transaction.atomic
def odometer_record(
    *,
    actor: Actor,
    vehicle: Vehicle,
    km: Any,
    at: dt.datetime | None = None,
    source: str = ReadingSource.RECEPTION,
    correction_reason: str = "",
) -> OdometerReading:
    """Add a mileage reading. A reading lower than the latest one is refused unless it is a
    correction with a reason (a replaced instrument cluster, a typo at reception)."""
    require(actor, "view", vehicle)
    if scope_for(actor, OdometerReading, "add") is None:
        raise PermissionDenied()
    try:
        km = int(km)
        if not 0 <= km <= 2_000_000:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(fields={"km": [_("Enter the mileage in whole kilometres.")]}) from None
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValidationError(fields={"at": [_("Give the time with its time zone.")]})
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError(fields={"at": [_("A reading cannot be in the future.")]})
    reason = _text(correction_reason)
    latest = OdometerReading.objects.filter(vehicle=vehicle).order_by("-at", "-id").first()
    if latest is not None and km < latest.km and not reason:
        raise ValidationError(
            _("The mileage is lower than the last reading (%(km)s km). Give a correction reason.") % {"km": latest.km},
            fields={"correction_reason": [_("A lower reading needs a correction reason.")]},
        )
    if source not in ReadingSource.values:
        raise ValidationError(fields={"source": [_("Choose one of the listed values.")]})
    reading = OdometerReading.objects.create(
        store_id=vehicle.store_id,
        vehicle=vehicle,
        km=km,
        at=at,
        source=ReadingSource.CORRECTION if reason and latest and km < latest.km else source,
        correction_reason=reason[:200],
    )
    if vehicle.mileage_at is None or at >= vehicle.mileage_at or reason:
        vehicle.mileage_km, vehicle.mileage_at = km, at
        vehicle.save(update_fields=["mileage_km", "mileage_at", "updated_at"])
    emit(events.ODOMETER_RECORDED, store_id=vehicle.store_id, payload=events.OdometerRecorded(
        vehicle_id=vehicle.pk, reading_id=reading.pk, km=km, at=at, correction=reading.source == ReadingSource.CORRECTION,
    ))  # fmt: skip
    return reading


@transaction.atomic
def ownership_transfer(
    *, actor: Actor, vehicle: Vehicle, new_owner: Customer, on: dt.date | None = None, note: str = ""
) -> Ownership:
    """Hand the vehicle to another customer of the store. The past owner's ownership row is
    closed and their history (timeline, past repair orders) stays with them."""
    require(actor, "transfer", vehicle)
    require(actor, "view", new_owner)
    if new_owner.store_id != vehicle.store_id:
        raise ValidationError(fields={"new_owner": [_("The new owner must be a customer of this store.")]})
    if vehicle.customer_id == new_owner.pk:
        raise ValidationError(fields={"new_owner": [_("This customer already owns the vehicle.")]})
    on = on or timezone.localdate()
    previous_owner = vehicle.customer_id
    current = Ownership.objects.filter(vehicle=vehicle, ended_on__isnull=True).first()
    if current is not None:
        if on < current.started_on:
            raise ValidationError(fields={"on": [_("The transfer cannot be before the current ownership began.")]})
        current.ended_on = on
        current.save(update_fields=["ended_on", "updated_at"])
        timeline_record(customer=current.customer_id, kind="vehicle.transferred_out", summary=str(vehicle),
                        obj=vehicle, store_id=vehicle.store_id)  # fmt: skip
    ownership = Ownership.objects.create(
        store_id=vehicle.store_id, vehicle=vehicle, customer=new_owner, started_on=on, note=_text(note)[:200]
    )
    vehicle.customer = new_owner
    vehicle.save(update_fields=["customer", "updated_at"])
    timeline_record(customer=new_owner, kind="vehicle.transferred_in", summary=str(vehicle), obj=vehicle)
    emit(events.OWNERSHIP_TRANSFERRED, store_id=vehicle.store_id, payload=events.OwnershipTransferred(
        vehicle_id=vehicle.pk, ownership_id=ownership.pk, from_customer_id=previous_owner, to_customer_id=new_owner.pk,
        on=on,
    ))  # fmt: skip
    return ownership
