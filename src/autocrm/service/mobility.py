"""Mobility services (ADR 0023): loaner cars and their bookings (race-free: one lock per store),
hand-over and return checks with photos and charges on the bill, concierge errands, roadside
rescue with the service area and the arrival target. Keyword-only, one transaction each; bad
input → 400 naming the field, wrong state → 409, not allowed → 403."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs, uploads
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, ValidationError
from autocrm.core.permissions import require, require_model, scope_for
from autocrm.core.roles import Role
from autocrm.customers.models import Customer

from .choices import Approval, BillStatus, RoStatus
from .models import Appointment, Bill, PartLine, RepairOrder
from .models_mobility import (
    BookingStatus,
    Energy,
    Errand,
    ErrandKind,
    ErrandStatus,
    Loaner,
    LoanerBooking,
    LoanerPhoto,
    LoanerPhotoStage,
    LoanerStatus,
    MobilitySettings,
    Rescue,
    RescueStatus,
)

FEN = Decimal("0.01")
MAX_KM = 2_000_000
MAX_LOAN_DAYS = 60
DRIVERS = (Role.TECHNICIAN, Role.SERVICE_MANAGER)
# Lines the loaner's charges put on the repair order (part numbers the bill shows).
CHARGE_CODES = {"day": "LOANER-DAYS", "level": "LOANER-LEVEL", "damage": "LOANER-DAMAGE"}


def _conflict(field: str, message: Any) -> Conflict:
    return Conflict(message, fields={field: [message]})


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def mobility_settings(store_id: int) -> MobilitySettings:
    """The store's mobility rules, created with the defaults on first use (a lost creation race
    reads the winner's row)."""
    found = MobilitySettings.objects.filter(store_id=store_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MobilitySettings.objects.create(store_id=store_id)
    except IntegrityError:
        return MobilitySettings.objects.get(store_id=store_id)


def _lock_store(store_id: int) -> MobilitySettings:
    """Serialise the loaner bookings of one store: an UPDATE of its settings row first (the row
    lock on PostgreSQL, the write lock on SQLite, held until commit)."""
    mobility_settings(store_id)
    MobilitySettings.objects.filter(store_id=store_id).update(lock=F("lock") + 1)
    return MobilitySettings.objects.get(store_id=store_id)


def _staff(errors: inputs.Errors, store_id: int, value: Any, name: str, roles: tuple[str, ...]) -> int | None:
    from autocrm.accounts.models import Membership

    user_id = inputs.integer(errors, value, name, 1, 2**62)
    if user_id is None:
        return None
    if not Membership.objects.filter(user_id=user_id, store_id=store_id, role__in=roles).exists():
        errors.add(name, _("Choose a colleague of this store with the right role."))
        return None
    return user_id


def _row(errors: inputs.Errors, model: Any, value: Any, name: str, store_id: int) -> Any:
    """A row of this store by id (``None`` when empty; a bad or foreign id is a field error)."""
    if value in (None, ""):
        return None
    pk = inputs.integer(errors, value, name, 1, 2**62)
    if pk is None:
        return None
    found = model.objects.filter(pk=pk, store_id=store_id).first()
    if found is None:
        errors.add(name, _("Choose one of this store's records."))
    return found


# --- the fleet ------------------------------------------------------------------------------------


@transaction.atomic
def loaner_create(*, actor: Actor, data: Mapping[str, Any]) -> Loaner:
    """Add a car to the store's loaner fleet: ``plate``, ``model_name``, ``energy`` (fuel/ev),
    ``odometer_km``."""
    require_model(actor, "add", Loaner)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    plate = inputs.text(errors, data, "plate", 12, required=True).upper()
    model_name = inputs.text(errors, data, "model_name", 60, required=True)
    energy = inputs.choice(errors, data, "energy", Energy, default=Energy.FUEL)
    km = inputs.integer(errors, data.get("odometer_km"), "odometer_km", 0, MAX_KM) or 0
    if plate and Loaner.objects.filter(store_id=store_id, plate=plate).exists():
        errors.add("plate", _("This plate is already in the fleet."))
    errors.raise_if_any()
    loaner = Loaner.objects.create(store_id=store_id, plate=plate, model_name=model_name, energy=energy, odometer_km=km)
    audit.record("loaner.create", obj=loaner, actor=actor)
    return loaner


@transaction.atomic
def loaner_set_status(*, actor: Actor, loaner: Loaner, status: Any) -> Loaner:
    """Take a loaner out of service (maintenance, retired) or back in."""
    require(actor, "change", loaner)
    errors = inputs.Errors()
    value = inputs.choice(errors, {"status": status}, "status", LoanerStatus)
    errors.raise_if_any()
    loaner.status = value
    loaner.save(update_fields=["status", "updated_at"])
    audit.record("loaner.status", obj=loaner, actor=actor, changes={"status": [None, value]})
    return loaner


def _overlapping(store_id: int, starts_on: dt.date, ends_on: dt.date) -> Any:
    return LoanerBooking.objects.filter(store_id=store_id, status__in=(BookingStatus.BOOKED, BookingStatus.OUT),
                                        starts_on__lte=ends_on, ends_on__gte=starts_on)  # fmt: skip


def loaner_availability(*, store_id: int, start: dt.date, days: int = 7) -> list[dict[str, Any]]:
    """Each loaner of the store in service and, for each of ``days`` days from ``start``, the
    booking holding it (or None): two queries."""
    days = max(1, min(days, 31))
    end = start + dt.timedelta(days=days - 1)
    loaners = list(Loaner.objects.filter(store_id=store_id, status=LoanerStatus.ACTIVE).order_by("plate"))
    held: dict[tuple[int, dt.date], LoanerBooking] = {}
    for booking in _overlapping(store_id, start, end).select_related("customer"):
        day = max(booking.starts_on, start)
        while day <= min(booking.ends_on, end):
            held[(booking.loaner_id, day)] = booking
            day += dt.timedelta(days=1)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    return [{"loaner": loaner, "days": [{"day": d, "booking": held.get((loaner.pk, d))} for d in dates]}
            for loaner in loaners]  # fmt: skip


@transaction.atomic
def loaner_book(*, actor: Actor, customer: Customer, data: Mapping[str, Any]) -> LoanerBooking:
    """Lend a loaner from ``starts_on`` to ``ends_on`` (dates, both included), optionally a
    given ``loaner`` (else the first free one), with an ``appointment`` and/or ``repair_order``
    of the store. Race-free: the store's loaner bookings are serialised, so two advisors taking
    the last loaner get one booking and one 409 naming ``loaner``."""
    require_model(actor, "add", LoanerBooking)
    store_id = actor.require_store_id()
    require(actor, "view", customer)
    errors = inputs.Errors()
    inputs.same_store(errors, customer, store_id, "customer")
    starts_on = inputs.date(errors, data.get("starts_on"), "starts_on")
    ends_on = inputs.date(errors, data.get("ends_on"), "ends_on") or starts_on
    if data.get("starts_on") in (None, ""):
        errors.add("starts_on", _("This field is required."))
    loaner = _row(errors, Loaner, data.get("loaner"), "loaner", store_id)
    appointment = _row(errors, Appointment, data.get("appointment"), "appointment", store_id)
    repair_order = _row(errors, RepairOrder, data.get("repair_order"), "repair_order", store_id)
    if appointment is not None and appointment.customer_id != customer.pk:
        errors.add("appointment", _("This appointment is another customer's."))
    if repair_order is not None and repair_order.customer_id != customer.pk:
        errors.add("repair_order", _("This repair order is another customer's."))
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors.add("ends_on", _("The return day comes before the first day."))
        elif (ends_on - starts_on).days >= MAX_LOAN_DAYS:
            errors.add("ends_on", _("Lend a loaner for at most %(n)s days.") % {"n": MAX_LOAN_DAYS})
        if starts_on < timezone.localdate():
            errors.add("starts_on", _("Choose a day that has not passed."))
    if loaner is not None and loaner.status != LoanerStatus.ACTIVE:
        errors.add("loaner", _("This loaner is not in service."))
    errors.raise_if_any()
    assert starts_on is not None and ends_on is not None
    _lock_store(store_id)
    busy = set(_overlapping(store_id, starts_on, ends_on).values_list("loaner_id", flat=True))
    if loaner is not None:
        if loaner.pk in busy:
            raise _conflict("loaner", _("This loaner is already lent on these days; choose another."))
    else:
        loaner = (Loaner.objects.filter(store_id=store_id, status=LoanerStatus.ACTIVE).exclude(pk__in=busy)
                  .order_by("plate").first())  # fmt: skip
        if loaner is None:
            raise _conflict("loaner", _("No loaner is free on these days."))
    booking = LoanerBooking.objects.create(
        store_id=store_id, loaner=loaner, customer=customer, appointment=appointment, repair_order=repair_order,
        advisor_id=actor.user_id, starts_on=starts_on, ends_on=ends_on,
    )  # fmt: skip
    audit.record("loaner_booking.create", obj=booking, actor=actor, extra={"loaner": loaner.pk})
    return booking


def _locked_booking(booking: LoanerBooking) -> LoanerBooking:
    return LoanerBooking.objects.select_for_update().select_related("loaner").get(pk=booking.pk)


@transaction.atomic
def loaner_booking_cancel(*, actor: Actor, booking: LoanerBooking) -> LoanerBooking:
    booking = _locked_booking(booking)
    require(actor, "change", booking)
    if booking.status != BookingStatus.BOOKED:
        raise _conflict("status", _("Only a booking not yet handed over can be cancelled."))
    booking.status = BookingStatus.CANCELLED
    booking.save(update_fields=["status", "updated_at"])
    audit.record("loaner_booking.cancel", obj=booking, actor=actor)
    return booking


def _level_km(errors: inputs.Errors, data: Mapping[str, Any]) -> tuple[int | None, int | None]:
    level = inputs.integer(errors, data.get("level"), "level", 0, 100)
    km = inputs.integer(errors, data.get("odometer_km"), "odometer_km", 0, MAX_KM)
    for name, value in (("level", level), ("odometer_km", km)):
        if value is None and name not in errors.fields:
            errors.add(name, _("This field is required."))
    return level, km


@transaction.atomic
def loaner_handover(*, actor: Actor, booking: LoanerBooking, data: Mapping[str, Any]) -> LoanerBooking:
    """Hand the loaner over: its ``level`` (fuel or charge, 0–100 %) and ``odometer_km`` (not
    below the car's last known reading)."""
    booking = _locked_booking(booking)
    require(actor, "change", booking)
    if booking.status != BookingStatus.BOOKED:
        raise _conflict("status", _("This loaner was already handed over."))
    errors = inputs.Errors()
    level, km = _level_km(errors, data)
    if km is not None and km < booking.loaner.odometer_km:
        errors.add("odometer_km", _("The reading is below the car's last one (%(km)s km).")
                   % {"km": booking.loaner.odometer_km})  # fmt: skip
    errors.raise_if_any()
    booking.status, booking.out_at, booking.out_km, booking.out_level = BookingStatus.OUT, timezone.now(), km, level
    booking.save(update_fields=["status", "out_at", "out_km", "out_level", "updated_at"])
    Loaner.objects.filter(pk=booking.loaner_id).update(odometer_km=km, level=level, updated_at=timezone.now())
    audit.record("loaner_booking.handover", obj=booking, actor=actor, extra={"km": km, "level": level})
    return booking


def charges_for(booking: LoanerBooking, rules: MobilitySettings, returned_on: dt.date,
                return_level: int) -> tuple[Decimal, Decimal]:  # fmt: skip
    """The day charge (days used beyond the free ones × the day rate; a day begun counts) and the
    level charge (each 10 % missing, pro rata, × the rate), to the fen."""
    days = max(1, (returned_on - booking.starts_on).days + 1)
    extra = max(0, days - rules.loaner_free_days)
    day_charge = _fen(Decimal(extra) * rules.loaner_day_rate)
    missing = max(0, (booking.out_level or 0) - return_level)
    level_charge = _fen(Decimal(missing) / Decimal(10) * rules.level_rate)
    return day_charge, level_charge


def _bill_lines(booking: LoanerBooking) -> bool:
    """Put the charges on the repair order's bill as approved lines (remaking an unpaid bill);
    False when there is no repair order or its bill is already paid (collected apart)."""
    ro = booking.repair_order
    if ro is None or booking.total_charge == 0:
        return False
    ro = RepairOrder.objects.select_for_update().get(pk=ro.pk)
    bill = Bill.objects.filter(repair_order=ro).first()
    if ro.status == RoStatus.DELIVERED or (bill is not None and bill.status == BillStatus.PAID):
        return False
    labels = {"day": _("Loaner: extra days"), "level": _("Loaner: fuel or charge missing"),
              "damage": _("Loaner: damage")}  # fmt: skip
    amounts = {"day": booking.day_charge, "level": booking.level_charge, "damage": booking.damage_charge}
    for key, amount in amounts.items():
        if amount > 0:
            PartLine.objects.create(store_id=ro.store_id, repair_order=ro, part_number=CHARGE_CODES[key],
                                    name=str(labels[key]), quantity=Decimal("1"), unit_price=amount,
                                    approval=Approval.APPROVED)  # fmt: skip
    if bill is not None:
        from .services import bill_make

        bill_make(ro)
    return True


@transaction.atomic
def loaner_return(*, actor: Actor, booking: LoanerBooking, data: Mapping[str, Any]) -> LoanerBooking:
    """Take the loaner back: ``level`` and ``odometer_km`` (below the hand-over reading → 400),
    ``damage_note`` and ``damage_charge``. The charges are computed and land on the repair
    order's bill."""
    booking = _locked_booking(booking)
    require(actor, "change", booking)
    if booking.status != BookingStatus.OUT:
        raise _conflict("status", _("This loaner is not out."))
    errors = inputs.Errors()
    level, km = _level_km(errors, data)
    damage_note = inputs.text(errors, data, "damage_note", 300)
    damage = inputs.money(errors, data.get("damage_charge"), "damage_charge", high=Decimal("999999.99"))
    if km is not None and booking.out_km is not None and km < booking.out_km:
        errors.add("odometer_km", _("The reading is below the hand-over reading (%(km)s km).") % {"km": booking.out_km})
    if damage and not damage_note:
        errors.add("damage_note", _("Describe the damage that is charged."))
    errors.raise_if_any()
    assert level is not None and km is not None
    rules = mobility_settings(booking.store_id)
    now = timezone.now()
    booking.day_charge, booking.level_charge = charges_for(booking, rules, timezone.localdate(now), level)
    booking.damage_charge = damage or Decimal("0.00")
    booking.status, booking.returned_at, booking.return_km, booking.return_level = (
        BookingStatus.RETURNED,
        now,
        km,
        level,
    )
    booking.damage_note = damage_note
    booking.billed = _bill_lines(booking)
    booking.save()
    Loaner.objects.filter(pk=booking.loaner_id).update(odometer_km=km, level=level, updated_at=now)
    audit.record("loaner_booking.return", obj=booking, actor=actor,
                 extra={"km": km, "level": level, "charge": str(booking.total_charge)})  # fmt: skip
    return booking


def loaner_photo_add(*, actor: Actor, booking: LoanerBooking, file: Any, stage: Any) -> LoanerPhoto:
    """A photo of the loaner (damage) at hand-over or return, type and size checked by
    ``core.uploads``."""
    require(actor, "change", booking)
    if stage not in LoanerPhotoStage.values:
        raise ValidationError(inputs.NOT_VALID, fields={"stage": [_("Choose one of the listed values.")]})
    if file is None:
        raise ValidationError(inputs.NOT_VALID, fields={"file": [_("This field is required.")]})
    stored = uploads.store(file, store_id=booking.store_id, kind="photo", name=getattr(file, "name", ""))
    photo: LoanerPhoto = uploads.record(LoanerPhoto, stored, uploaded_by_id=actor.user_id,
                                        store_id=booking.store_id, booking=booking, stage=stage)  # fmt: skip
    return photo


# --- concierge errands ----------------------------------------------------------------------------

ERRAND_NEXT: dict[str, str] = {ErrandStatus.REQUESTED: ErrandStatus.ASSIGNED, ErrandStatus.ASSIGNED: ErrandStatus.EN_ROUTE,
               ErrandStatus.EN_ROUTE: ErrandStatus.DONE}  # fmt: skip


@transaction.atomic
def errand_create(*, actor: Actor, customer: Customer, data: Mapping[str, Any]) -> Errand:
    """Request an errand: ``kind`` (年检代办, 上门取车, 送车上门), ``vehicle``, ``pickup_address``,
    ``dropoff_address``, ``pickup_at``, ``dropoff_at``, ``note``, optionally the ``driver`` at
    once (then it starts assigned)."""
    require_model(actor, "add", Errand)
    store_id = actor.require_store_id()
    require(actor, "view", customer)
    from autocrm.vehicles.models import Vehicle

    errors = inputs.Errors()
    inputs.same_store(errors, customer, store_id, "customer")
    kind = inputs.choice(errors, data, "kind", ErrandKind)
    vehicle = _row(errors, Vehicle, data.get("vehicle"), "vehicle", store_id)
    if vehicle is not None and vehicle.customer_id != customer.pk:
        errors.add("vehicle", _("This car is another customer's."))
    pickup_address = inputs.text(errors, data, "pickup_address", 200, required=True)
    dropoff_address = inputs.text(errors, data, "dropoff_address", 200, required=True)
    pickup_at = inputs.aware(errors, data.get("pickup_at"), "pickup_at")
    dropoff_at = inputs.aware(errors, data.get("dropoff_at"), "dropoff_at", required=False)
    note = inputs.text(errors, data, "note", 300)
    driver_id = _staff(errors, store_id, data.get("driver"), "driver", DRIVERS)
    if driver_id is not None and scope_for(actor, Errand, "change") is None:  # the call centre requests only
        errors.add("driver", _("A driver is given by the service desk."))
    if pickup_at and dropoff_at and dropoff_at < pickup_at:
        errors.add("dropoff_at", _("The drop-off comes before the pick-up."))
    if pickup_at and pickup_at < timezone.now() - dt.timedelta(hours=1):
        errors.add("pickup_at", _("Choose a time that has not passed."))
    errors.raise_if_any()
    assert pickup_at is not None
    now = timezone.now()
    errand = Errand.objects.create(
        store_id=store_id, kind=kind, customer=customer, vehicle=vehicle, driver_id=driver_id,
        pickup_address=pickup_address, dropoff_address=dropoff_address, pickup_at=pickup_at, dropoff_at=dropoff_at,
        note=note, status=ErrandStatus.ASSIGNED if driver_id else ErrandStatus.REQUESTED,
        assigned_at=now if driver_id else None,
    )  # fmt: skip
    audit.record("errand.create", obj=errand, actor=actor)
    return errand


def _locked_errand(errand: Errand) -> Errand:
    return Errand.objects.select_for_update().get(pk=errand.pk)


@transaction.atomic
def errand_assign(*, actor: Actor, errand: Errand, driver: Any) -> Errand:
    """Give the errand to a driver (requested → assigned; an assigned one may change driver)."""
    errand = _locked_errand(errand)
    require(actor, "change", errand)
    if errand.status not in (ErrandStatus.REQUESTED, ErrandStatus.ASSIGNED):
        raise _conflict("status", _("This errand is already under way or over."))
    errors = inputs.Errors()
    driver_id = _staff(errors, errand.store_id, driver, "driver", DRIVERS)
    if driver_id is None and "driver" not in errors.fields:
        errors.add("driver", _("This field is required."))
    errors.raise_if_any()
    before = errand.status
    errand.driver_id, errand.status, errand.assigned_at = driver_id, ErrandStatus.ASSIGNED, timezone.now()
    errand.save(update_fields=["driver", "status", "assigned_at", "updated_at"])
    audit.record("errand.assign", obj=errand, actor=actor, changes={"status": [before, errand.status]})
    return errand


@transaction.atomic
def errand_advance(*, actor: Actor, errand: Errand, to_status: Any) -> Errand:
    """The driver's steps: assigned → en route → done, exactly one step (any other → 409);
    ``cancelled`` before it is done (the desk's, ``change``)."""
    errand = _locked_errand(errand)
    if to_status == ErrandStatus.CANCELLED:
        require(actor, "change", errand)
        if errand.status in (ErrandStatus.DONE, ErrandStatus.CANCELLED):
            raise _conflict("status", _("This errand is already over."))
    else:
        require(actor, "progress", errand)
        if to_status not in ErrandStatus.values:
            raise ValidationError(inputs.NOT_VALID, fields={"status": [_("Choose one of the listed values.")]})
        if to_status == ErrandStatus.ASSIGNED or ERRAND_NEXT.get(errand.status) != to_status:
            raise _conflict("status", _("The errand cannot move there from its current status."))
    before, now = errand.status, timezone.now()
    errand.status = to_status
    if to_status == ErrandStatus.EN_ROUTE:
        errand.started_at = now
    elif to_status in (ErrandStatus.DONE, ErrandStatus.CANCELLED):
        errand.done_at = now
    errand.save(update_fields=["status", "started_at", "done_at", "updated_at"])
    audit.record("errand.advance", obj=errand, actor=actor, changes={"status": [before, to_status]})
    return errand


# --- roadside rescue ------------------------------------------------------------------------------

RESCUE_NEXT: dict[str, tuple[str, ...]] = {RescueStatus.DISPATCHED: (RescueStatus.ARRIVED,),
               RescueStatus.ARRIVED: (RescueStatus.TOWED, RescueStatus.FIXED),
               RescueStatus.TOWED: (RescueStatus.CLOSED,), RescueStatus.FIXED: (RescueStatus.CLOSED,)}  # fmt: skip
EARTH_KM = 6371.0088


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _coordinate(errors: inputs.Errors, data: Mapping[str, Any], name: str, limit: int) -> Decimal | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    found = inputs.number(value)
    if found is None or not -limit <= found <= limit:
        errors.add(name, _("Enter a number between %(low)s and %(high)s.") % {"low": -limit, "high": limit})
        return None
    return found.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def area_check(rules: MobilitySettings, lat: Decimal | None, lng: Decimal | None) -> tuple[Decimal | None, bool | None]:
    """The distance from the area's centre and whether it is inside; (None, None) when either the
    location or the area is unknown (then the dispatcher decides)."""
    if lat is None or lng is None or rules.area_lat is None or rules.area_lng is None:
        return None, None
    km = distance_km(float(rules.area_lat), float(rules.area_lng), float(lat), float(lng))
    return Decimal(str(round(km, 1))), km <= float(rules.area_radius_km)


@transaction.atomic
def rescue_create(*, actor: Actor, data: Mapping[str, Any]) -> Rescue:
    """Dispatch a rescue: where (``lat``/``lng`` and/or ``address``; one is required), the
    ``problem``, optionally the ``customer``/``vehicle`` and the ``technician`` (crew). Inside the
    service area the store's arrival target applies; outside it the rescue is flagged and has no
    target."""
    require_model(actor, "add", Rescue)
    store_id = actor.require_store_id()
    from autocrm.vehicles.models import Vehicle

    errors = inputs.Errors()
    lat = _coordinate(errors, data, "lat", 90)
    lng = _coordinate(errors, data, "lng", 180)
    address = inputs.text(errors, data, "address", 200)
    problem = inputs.text(errors, data, "problem", 300)
    customer = _row(errors, Customer, data.get("customer"), "customer", store_id)
    vehicle = _row(errors, Vehicle, data.get("vehicle"), "vehicle", store_id)
    technician_id = _staff(errors, store_id, data.get("technician"), "technician", DRIVERS)
    if (lat is None) != (lng is None) and not {"lat", "lng"} & set(errors.fields):
        errors.add("lng" if lng is None else "lat", _("Give both latitude and longitude."))
    if lat is None and lng is None and not address and not {"lat", "lng", "address"} & set(errors.fields):
        errors.add("address", _("Give the address or the coordinates of the car."))
    errors.raise_if_any()
    rules = mobility_settings(store_id)
    km, inside = area_check(rules, lat, lng)
    rescue = Rescue.objects.create(
        store_id=store_id, customer=customer, vehicle=vehicle, technician_id=technician_id, lat=lat, lng=lng,
        address=address, problem=problem, distance_km=km, inside_area=inside,
        target_minutes=rules.rescue_target_minutes if inside is not False else None, dispatched_at=timezone.now(),
    )  # fmt: skip
    audit.record("rescue.create", obj=rescue, actor=actor, extra={"inside_area": inside})
    return rescue


@transaction.atomic
def rescue_advance(*, actor: Actor, rescue: Rescue, to_status: Any) -> Rescue:
    """One step: dispatched → arrived (the minutes taken and whether the target was met are
    recorded) → towed or fixed → closed. Any other move → 409, nothing changed."""
    rescue = Rescue.objects.select_for_update().get(pk=rescue.pk)
    require(actor, "progress", rescue)
    if to_status not in RescueStatus.values:
        raise ValidationError(inputs.NOT_VALID, fields={"status": [_("Choose one of the listed values.")]})
    if to_status not in RESCUE_NEXT.get(rescue.status, ()):
        raise _conflict("status", _("The rescue cannot move there from its current status."))
    before, now = rescue.status, timezone.now()
    rescue.status = to_status
    if to_status == RescueStatus.ARRIVED:
        rescue.arrived_at = now
        rescue.minutes_taken = max(0, math.ceil((now - rescue.dispatched_at).total_seconds() / 60))
        rescue.target_met = rescue.minutes_taken <= rescue.target_minutes if rescue.target_minutes else None
    elif to_status in (RescueStatus.TOWED, RescueStatus.FIXED):
        rescue.resolved_at = now
    else:
        rescue.closed_at = now
    rescue.save()
    audit.record("rescue.advance", obj=rescue, actor=actor, changes={"status": [before, to_status]})
    return rescue


@transaction.atomic
def rescue_assign(*, actor: Actor, rescue: Rescue, technician: Any) -> Rescue:
    """Give the rescue to a crew member (before the car is closed)."""
    rescue = Rescue.objects.select_for_update().get(pk=rescue.pk)
    require(actor, "change", rescue)
    if rescue.status == RescueStatus.CLOSED:
        raise _conflict("status", _("This rescue is closed."))
    errors = inputs.Errors()
    technician_id = _staff(errors, rescue.store_id, technician, "technician", DRIVERS)
    if technician_id is None and "technician" not in errors.fields:
        errors.add("technician", _("This field is required."))
    errors.raise_if_any()
    rescue.technician_id = technician_id
    rescue.save(update_fields=["technician", "updated_at"])
    audit.record("rescue.assign", obj=rescue, actor=actor)
    return rescue


@transaction.atomic
def mobility_settings_change(*, actor: Actor, data: Mapping[str, Any]) -> MobilitySettings:
    """The store's free loaner days, day rate, level rate, service area and rescue target."""
    store_id = actor.require_store_id()
    rules = mobility_settings(store_id)
    require(actor, "change", rules)
    errors = inputs.Errors()
    free = inputs.integer(errors, data.get("loaner_free_days"), "loaner_free_days", 0, 60)
    day_rate = inputs.money(errors, data.get("loaner_day_rate"), "loaner_day_rate", high=Decimal("99999.99"))
    level_rate = inputs.money(errors, data.get("level_rate"), "level_rate", high=Decimal("99999.99"))
    lat = _coordinate(errors, data, "area_lat", 90)
    lng = _coordinate(errors, data, "area_lng", 180)
    radius = inputs.decimal(errors, data, "area_radius_km", high=Decimal("500"), places=1, required=False,
                            positive=True)  # fmt: skip
    target = inputs.integer(errors, data.get("rescue_target_minutes"), "rescue_target_minutes", 5, 600)
    errors.raise_if_any()
    for name, value in (("loaner_free_days", free), ("loaner_day_rate", day_rate), ("level_rate", level_rate),
                        ("area_lat", lat), ("area_lng", lng), ("area_radius_km", radius),
                        ("rescue_target_minutes", target)):  # fmt: skip
        if value is not None:
            setattr(rules, name, value)
    rules.save()
    audit.record("mobility_settings.change", obj=rules, actor=actor)
    return rules
