"""/api/v1/loaners, /loaner-bookings (hand-over, return, cancel), /errands (assign, advance),
/rescues (assign, advance): thin handlers over service.mobility and service.mobility_selectors
(ADR 0023)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import get_in_scope, require_model
from autocrm.customers.models import Customer

from . import mobility
from . import mobility_selectors as sel
from .models_mobility import Errand, Loaner, LoanerBooking, Rescue
from .schemas_mobility import (
    BookingIn,
    BookingOut,
    BookingPage,
    CheckIn,
    ErrandAdvanceIn,
    ErrandAssignIn,
    ErrandIn,
    ErrandOut,
    ErrandPage,
    LoanerAvailabilityOut,
    LoanerIn,
    LoanerOut,
    LoanerPage,
    LoanerStatusIn,
    RescueAdvanceIn,
    RescueAssignIn,
    RescueIn,
    RescueOut,
    RescuePage,
)

router = Router(tags=["mobility"])
PREFIX = ""


def _s(value: Any) -> str:
    return f"{value:.2f}"


def loaner_out(x: Loaner) -> dict[str, Any]:
    return {"id": x.pk, "store": x.store_id, "plate": x.plate, "model_name": x.model_name, "energy": x.energy,
            "status": x.status, "odometer_km": x.odometer_km, "level": x.level}  # fmt: skip


def booking_out(b: LoanerBooking) -> dict[str, Any]:
    return {"id": b.pk, "store": b.store_id, "loaner": b.loaner_id, "customer": b.customer_id,
            "appointment": b.appointment_id, "repair_order": b.repair_order_id, "advisor": b.advisor_id,
            "starts_on": b.starts_on, "ends_on": b.ends_on, "status": b.status, "out_at": b.out_at,
            "out_km": b.out_km, "out_level": b.out_level, "returned_at": b.returned_at, "return_km": b.return_km,
            "return_level": b.return_level, "damage_note": b.damage_note, "day_charge": _s(b.day_charge),
            "level_charge": _s(b.level_charge), "damage_charge": _s(b.damage_charge),
            "total_charge": _s(b.total_charge), "billed": b.billed,
            "photos": [p.pk for p in b.photos.all()]}  # fmt: skip


def errand_out(e: Errand) -> dict[str, Any]:
    return {"id": e.pk, "store": e.store_id, "kind": e.kind, "customer": e.customer_id, "vehicle": e.vehicle_id,
            "driver": e.driver_id, "pickup_address": e.pickup_address, "dropoff_address": e.dropoff_address,
            "pickup_at": e.pickup_at, "dropoff_at": e.dropoff_at, "status": e.status, "note": e.note,
            "assigned_at": e.assigned_at, "started_at": e.started_at, "done_at": e.done_at}  # fmt: skip


def rescue_out(r: Rescue) -> dict[str, Any]:
    return {"id": r.pk, "store": r.store_id, "customer": r.customer_id, "vehicle": r.vehicle_id,
            "technician": r.technician_id, "lat": None if r.lat is None else str(r.lat),
            "lng": None if r.lng is None else str(r.lng), "address": r.address, "problem": r.problem,
            "distance_km": None if r.distance_km is None else str(r.distance_km), "inside_area": r.inside_area,
            "target_minutes": r.target_minutes, "status": r.status, "dispatched_at": r.dispatched_at,
            "arrived_at": r.arrived_at, "resolved_at": r.resolved_at, "closed_at": r.closed_at,
            "minutes_taken": r.minutes_taken, "target_met": r.target_met}  # fmt: skip


# --- loaners --------------------------------------------------------------------------------------


@router.get("/loaners", response=LoanerPage)
def loaner_list(request: ActorRequest, status: str | None = None, limit: int | None = None,
                cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = sel.loaner_page(actor=request.actor, status=status, limit=limit, cursor=cursor)
    return {"items": [loaner_out(x) for x in page.items], "next_cursor": page.next_cursor}


@router.post("/loaners", response={201: LoanerOut})
def loaner_create(request: ActorRequest, payload: LoanerIn) -> Status[dict[str, Any]]:
    return Status(201, loaner_out(mobility.loaner_create(actor=request.actor, data=payload.dict())))


@router.get("/loaners/availability", response=list[LoanerAvailabilityOut])
def loaner_availability(request: ActorRequest, date: str | None = None, days: int = 7) -> list[dict[str, Any]]:
    """Each loaner in service and, day by day from ``date`` (today by default, up to 31 days), the
    booking holding it or null."""
    require_model(request.actor, "view", Loaner)
    require_model(request.actor, "view", LoanerBooking)
    try:
        start = dt.date.fromisoformat(date) if date else timezone.localdate()
    except ValueError:
        raise ValidationError(fields={"date": [_("Enter a date, e.g. 2026-12-01.")]}) from None
    if not 1 <= days <= 31:
        raise ValidationError(fields={"days": [_("Choose between 1 and %(max)s.") % {"max": 31}]})
    rows = mobility.loaner_availability(store_id=request.actor.require_store_id(), start=start, days=days)
    return [{"loaner": loaner_out(r["loaner"]),
             "days": [{"day": d["day"], "booking": d["booking"].pk if d["booking"] else None} for d in r["days"]]}
            for r in rows]  # fmt: skip


@router.get("/loaners/{int:loaner_id}", response=LoanerOut)
def loaner_get(request: ActorRequest, loaner_id: int) -> dict[str, Any]:
    return loaner_out(sel.loaner_get(actor=request.actor, pk=loaner_id))


@router.post("/loaners/{int:loaner_id}/status", response=LoanerOut)
def loaner_status(request: ActorRequest, loaner_id: int, payload: LoanerStatusIn) -> dict[str, Any]:
    loaner = sel.loaner_get(actor=request.actor, pk=loaner_id, action="change")
    return loaner_out(mobility.loaner_set_status(actor=request.actor, loaner=loaner, status=payload.status))


# --- loaner bookings ------------------------------------------------------------------------------


@router.get("/loaner-bookings", response=BookingPage)
def booking_list(request: ActorRequest, status: str | None = None, date: str | None = None, limit: int | None = None,
                 cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = sel.booking_page(actor=request.actor, filters={"status": status, "date": date}, limit=limit, cursor=cursor)
    return {"items": [booking_out(b) for b in page.items], "next_cursor": page.next_cursor}


@router.post("/loaner-bookings", response={201: BookingOut})
def booking_create(request: ActorRequest, payload: BookingIn) -> Status[dict[str, Any]]:
    """Book a loaner; the last free one taken by someone else meanwhile → 409 naming ``loaner``."""
    require_model(request.actor, "add", LoanerBooking)
    customer = get_in_scope(Customer.objects.all(), request.actor, payload.customer)
    booking = mobility.loaner_book(actor=request.actor, customer=customer, data=payload.dict(exclude={"customer"}))
    return Status(201, booking_out(booking))


@router.get("/loaner-bookings/{int:booking_id}", response=BookingOut)
def booking_get(request: ActorRequest, booking_id: int) -> dict[str, Any]:
    return booking_out(sel.booking_get(actor=request.actor, pk=booking_id))


@router.post("/loaner-bookings/{int:booking_id}/handover", response=BookingOut)
def booking_handover(request: ActorRequest, booking_id: int, payload: CheckIn) -> dict[str, Any]:
    booking = sel.booking_get(actor=request.actor, pk=booking_id, action="change")
    return booking_out(mobility.loaner_handover(actor=request.actor, booking=booking, data=payload.dict()))


@router.post("/loaner-bookings/{int:booking_id}/return", response=BookingOut)
def booking_return(request: ActorRequest, booking_id: int, payload: CheckIn) -> dict[str, Any]:
    """Take the loaner back; a reading below the hand-over → 400; the charges land on the bill."""
    booking = sel.booking_get(actor=request.actor, pk=booking_id, action="change")
    return booking_out(mobility.loaner_return(actor=request.actor, booking=booking, data=payload.dict()))


@router.post("/loaner-bookings/{int:booking_id}/cancel", response=BookingOut)
def booking_cancel(request: ActorRequest, booking_id: int) -> dict[str, Any]:
    booking = sel.booking_get(actor=request.actor, pk=booking_id, action="change")
    return booking_out(mobility.loaner_booking_cancel(actor=request.actor, booking=booking))


# --- errands --------------------------------------------------------------------------------------


@router.get("/errands", response=ErrandPage)
def errand_list(request: ActorRequest, status: str | None = None, date: str | None = None, limit: int | None = None,
                cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Errands in scope by pick-up time (a driver's own)."""
    page = sel.errand_page(actor=request.actor, filters={"status": status, "date": date}, limit=limit, cursor=cursor)
    return {"items": [errand_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post("/errands", response={201: ErrandOut})
def errand_create(request: ActorRequest, payload: ErrandIn) -> Status[dict[str, Any]]:
    require_model(request.actor, "add", Errand)
    customer = get_in_scope(Customer.objects.all(), request.actor, payload.customer)
    errand = mobility.errand_create(actor=request.actor, customer=customer, data=payload.dict(exclude={"customer"}))
    return Status(201, errand_out(errand))


@router.get("/errands/{int:errand_id}", response=ErrandOut)
def errand_get(request: ActorRequest, errand_id: int) -> dict[str, Any]:
    return errand_out(sel.errand_get(actor=request.actor, pk=errand_id))


@router.post("/errands/{int:errand_id}/assign", response=ErrandOut)
def errand_assign(request: ActorRequest, errand_id: int, payload: ErrandAssignIn) -> dict[str, Any]:
    errand = sel.errand_get(actor=request.actor, pk=errand_id, action="change")
    return errand_out(mobility.errand_assign(actor=request.actor, errand=errand, driver=payload.driver))


@router.post("/errands/{int:errand_id}/advance", response=ErrandOut)
def errand_advance(request: ActorRequest, errand_id: int, payload: ErrandAdvanceIn) -> dict[str, Any]:
    """One step (assigned → en_route → done), or ``cancelled``; out of order → 409."""
    action = "change" if payload.status == "cancelled" else "progress"
    errand = sel.errand_get(actor=request.actor, pk=errand_id, action=action)
    return errand_out(mobility.errand_advance(actor=request.actor, errand=errand, to_status=payload.status))


# --- rescues --------------------------------------------------------------------------------------


@router.get("/rescues", response=RescuePage)
def rescue_list(request: ActorRequest, status: str | None = None, open: bool = False, limit: int | None = None,
                cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = sel.rescue_page(actor=request.actor, filters={"status": status, "open": open}, limit=limit, cursor=cursor)
    return {"items": [rescue_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/rescues", response={201: RescueOut})
def rescue_create(request: ActorRequest, payload: RescueIn) -> Status[dict[str, Any]]:
    """Dispatch a rescue; outside the service area it is flagged (``inside_area`` false, no target)."""
    return Status(201, rescue_out(mobility.rescue_create(actor=request.actor, data=payload.dict())))


@router.get("/rescues/{int:rescue_id}", response=RescueOut)
def rescue_get(request: ActorRequest, rescue_id: int) -> dict[str, Any]:
    return rescue_out(sel.rescue_get(actor=request.actor, pk=rescue_id))


@router.post("/rescues/{int:rescue_id}/assign", response=RescueOut)
def rescue_assign(request: ActorRequest, rescue_id: int, payload: RescueAssignIn) -> dict[str, Any]:
    rescue = sel.rescue_get(actor=request.actor, pk=rescue_id, action="change")
    return rescue_out(mobility.rescue_assign(actor=request.actor, rescue=rescue, technician=payload.technician))


@router.post("/rescues/{int:rescue_id}/advance", response=RescueOut)
def rescue_advance(request: ActorRequest, rescue_id: int, payload: RescueAdvanceIn) -> dict[str, Any]:
    """One step: dispatched → arrived → towed | fixed → closed; out of order → 409."""
    rescue = sel.rescue_get(actor=request.actor, pk=rescue_id, action="progress")
    return rescue_out(mobility.rescue_advance(actor=request.actor, rescue=rescue, to_status=payload.status))
