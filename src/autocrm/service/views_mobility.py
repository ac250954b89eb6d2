"""Mobility pages (ADR 0023): the loaner fleet with its week of availability and the bookings,
a booking's hand-over and return checks with photos, the errands (a driver's own), and the
dispatcher's rescue board (an htmx part that refreshes itself). Phone-friendly cards; each POST
calls one service through ``run_action``; 404/403 are the middleware's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core import uploads
from autocrm.core.actor import ActorRequest, actor_of
from autocrm.core.errors import PermissionDenied
from autocrm.core.forms import REFUSED, run_action
from autocrm.core.permissions import can, get_in_scope, require_model
from autocrm.core.roles import Role
from autocrm.customers.models import Customer

from . import mobility
from . import mobility_selectors as sel
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
    MobilitySettings,
    Rescue,
    RescueStatus,
)


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()


def _booking_url(pk: int) -> str:
    return reverse("mobility:booking_detail", args=[pk])


@login_required
@require_GET
def mobility_home(request: HttpRequest) -> HttpResponse:
    """The first mobility page the actor may see: loaners, errands, then the rescue board."""
    actor = actor_of(request)
    for model, name in (
        (LoanerBooking, "mobility:loaners"),
        (Errand, "mobility:errands"),
        (Rescue, "mobility:rescues"),
    ):
        if can(actor, "view", model) and (model is not LoanerBooking or can(actor, "view", Loaner)):
            return redirect(name)
    require_model(actor, "view", Errand)  # 403, audited
    raise PermissionDenied()


def tabs(actor: Any, current: str) -> list[dict[str, Any]]:
    rows = [("loaners", _("Loaner cars"), can(actor, "view", Loaner) and can(actor, "view", LoanerBooking)),
            ("errands", _("Errands"), can(actor, "view", Errand)), ("rescues", _("Rescue"), can(actor, "view", Rescue))]  # fmt: skip
    return [{"key": k, "label": label, "url": reverse(f"mobility:{k}"), "current": k == current}
            for k, label, ok in rows if ok]  # fmt: skip


# --- loaners --------------------------------------------------------------------------------------


@login_required
@require_GET
def loaners(request: HttpRequest) -> HttpResponse:
    """The fleet and a week of availability (a card per loaner), the bookings of the day, the forms."""
    actor = actor_of(request)
    require_model(actor, "view", Loaner)
    require_model(actor, "view", LoanerBooking)
    start = _day(request.GET.get("date"))
    rows = mobility.loaner_availability(store_id=actor.require_store_id(), start=start, days=7)
    bookings = list(sel.booking_list(actor=actor).filter(status__in=(BookingStatus.BOOKED, BookingStatus.OUT))
                    .order_by("starts_on", "id")[:100])  # fmt: skip
    return render(request, "service/mobility/loaners.html", {
        "rows": rows, "start": start, "bookings": bookings, "tabs": tabs(actor, "loaners"),
        "prev": start - dt.timedelta(days=7), "next": start + dt.timedelta(days=7),
        "days": [start + dt.timedelta(days=i) for i in range(7)], "energies": Energy.choices,
        "can_add_loaner": can(actor, "add", Loaner), "can_book": can(actor, "add", LoanerBooking),
    })  # fmt: skip


@login_required
@require_POST
def loaner_add(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "add", Loaner)
    data = {k: request.POST.get(k) for k in ("plate", "model_name", "energy", "odometer_km")}
    if run_action(request, mobility.loaner_create, actor=actor, data=data) is not REFUSED:
        messages.success(request, _("Loaner added to the fleet."))
    return redirect("mobility:loaners")


@login_required
@require_POST
def booking_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "add", LoanerBooking)
    customer = get_in_scope(Customer.objects.all(), actor, request.POST.get("customer") or 0)
    data = {k: request.POST.get(k) for k in ("loaner", "starts_on", "ends_on", "appointment", "repair_order")}
    booking = run_action(request, mobility.loaner_book, actor=actor, customer=customer, data=data)
    if booking is REFUSED:
        return redirect("mobility:loaners")
    messages.success(request, _("Loaner booked."))
    return redirect(_booking_url(booking.pk))


@login_required
@require_GET
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    booking = sel.booking_get(actor=actor, pk=pk)
    return render(request, "service/mobility/booking.html", {
        "b": booking, "photos": list(booking.photos.all()), "stages": LoanerPhotoStage.choices,
        "can_change": can(actor, "change", booking), "tabs": tabs(actor, "loaners"),
    })  # fmt: skip


def _check(request: HttpRequest, pk: int, fn: Any, done: str) -> HttpResponse:
    actor = actor_of(request)
    booking = sel.booking_get(actor=actor, pk=pk, action="change")
    data = {k: request.POST.get(k) for k in ("level", "odometer_km", "damage_note", "damage_charge")}
    if run_action(request, fn, actor=actor, booking=booking, data=data) is not REFUSED:
        messages.success(request, done)
    return redirect(_booking_url(pk))


@login_required
@require_POST
def booking_handover(request: HttpRequest, pk: int) -> HttpResponse:
    return _check(request, pk, mobility.loaner_handover, _("Loaner handed over."))


@login_required
@require_POST
def booking_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _check(request, pk, mobility.loaner_return, _("Loaner returned."))


@login_required
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    booking = sel.booking_get(actor=actor, pk=pk, action="change")
    if run_action(request, mobility.loaner_booking_cancel, actor=actor, booking=booking) is not REFUSED:
        messages.success(request, _("Booking cancelled."))
    return redirect(_booking_url(pk))


@login_required
@require_POST
def booking_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    booking = sel.booking_get(actor=actor, pk=pk, action="change")
    if run_action(request, mobility.loaner_photo_add, actor=actor, booking=booking, file=request.FILES.get("file"),
                  stage=request.POST.get("stage")) is not REFUSED:  # fmt: skip
        messages.success(request, _("Photo added."))
    return redirect(_booking_url(pk))


@login_required
@require_GET
def booking_photo(request: HttpRequest, pk: int, photo: int) -> HttpResponseBase:
    actor = actor_of(request)
    booking = sel.booking_get(actor=actor, pk=pk)
    row = get_in_scope(LoanerPhoto.objects.filter(booking=booking), actor, photo)
    return uploads.response(row.path, content_type=row.content_type, name=row.name)


# --- errands --------------------------------------------------------------------------------------


@login_required
@require_GET
def errands(request: HttpRequest) -> HttpResponse:
    """The day's errands by pick-up time (a driver sees theirs), the request form, assignment."""
    actor = actor_of(request)
    require_model(actor, "view", Errand)
    day = _day(request.GET.get("date"))
    rows = list(sel.errand_list(actor=actor, filters={"date": day.isoformat()}).order_by("pickup_at", "id")[:200])
    return render(request, "service/mobility/errands.html", {
        "errands": rows, "day": day, "prev": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
        "kinds": ErrandKind.choices, "can_add": can(actor, "add", Errand), "can_assign": can(actor, "change", Errand),
        "can_progress": can(actor, "progress", Errand), "drivers": sel.drivers(actor.store_id),
        "tabs": tabs(actor, "errands"), "is_driver": actor.role == Role.TECHNICIAN,
    })  # fmt: skip


@login_required
@require_POST
def errand_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "add", Errand)
    customer = get_in_scope(Customer.objects.all(), actor, request.POST.get("customer") or 0)
    data = {k: request.POST.get(k) for k in ("kind", "vehicle", "driver", "pickup_address", "dropoff_address",
                                             "pickup_at", "dropoff_at", "note")}  # fmt: skip
    for key in ("pickup_at", "dropoff_at"):  # a datetime-local input has no offset: the store's time
        data[key] = _local(data[key])
    if run_action(request, mobility.errand_create, actor=actor, customer=customer, data=data) is not REFUSED:
        messages.success(request, _("Errand requested."))
    day = (data.get("pickup_at") or "")[:10]
    return redirect(reverse("mobility:errands") + (f"?date={day}" if len(day) == 10 else ""))


def _local(value: Any) -> Any:
    """A ``datetime-local`` value (no offset) read in the store's time zone, as ISO with offset."""
    if not isinstance(value, str) or not value or "+" in value[10:] or value.endswith("Z"):
        return value
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if naive.tzinfo is not None:
        return value
    return timezone.make_aware(naive).isoformat()


@login_required
@require_POST
def errand_assign(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    errand = sel.errand_get(actor=actor, pk=pk, action="change")
    if run_action(request, mobility.errand_assign, actor=actor, errand=errand,
                  driver=request.POST.get("driver")) is not REFUSED:  # fmt: skip
        messages.success(request, _("Errand assigned."))
    return redirect(reverse("mobility:errands") + f"?date={timezone.localdate(errand.pickup_at).isoformat()}")


@login_required
@require_POST
def errand_advance(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    status = request.POST.get("status", "")
    errand = sel.errand_get(actor=actor, pk=pk, action="change" if status == ErrandStatus.CANCELLED else "progress")
    if run_action(request, mobility.errand_advance, actor=actor, errand=errand, to_status=status) is not REFUSED:
        messages.success(request, _("Errand updated."))
    return redirect(reverse("mobility:errands") + f"?date={timezone.localdate(errand.pickup_at).isoformat()}")


# --- rescue ---------------------------------------------------------------------------------------


def _board(actor: Any) -> dict[str, Any]:
    now = timezone.now()
    open_rows = list(sel.rescue_list(actor=actor, filters={"open": True}).order_by("dispatched_at", "id")[:100])
    since = now - dt.timedelta(hours=24)
    closed = list(sel.rescue_list(actor=actor, filters={"status": RescueStatus.CLOSED})
                  .filter(closed_at__gte=since).order_by("-closed_at", "-id")[:50])  # fmt: skip
    for r in open_rows:
        r.waiting = sel.minutes_waiting(r, now)  # type: ignore[attr-defined]
        r.late = bool(r.target_minutes and not r.arrived_at and r.waiting > r.target_minutes)  # type: ignore[attr-defined]
    arrived = [r for r in closed if r.target_met is not None]
    return {"open": open_rows, "closed": closed, "met": sum(1 for r in arrived if r.target_met),
            "measured": len(arrived), "can_progress": can(actor, "progress", Rescue),
            "can_assign": can(actor, "change", Rescue), "drivers": sel.drivers(actor.store_id), "now": now}  # fmt: skip


@login_required
@require_GET
def rescues(request: HttpRequest) -> HttpResponse:
    """The dispatcher's board: open rescues by dispatch time with the minutes waiting against the
    target (late ones red, outside the area flagged), the last day's closed ones; the part
    refreshes itself every 30 seconds (htmx)."""
    actor = actor_of(request)
    require_model(actor, "view", Rescue)
    context = _board(actor)
    if request.headers.get("HX-Request"):
        response = render(request, "service/mobility/rescue_board.html", context)
    else:
        rules = mobility.mobility_settings(actor.require_store_id()) if can(actor, "view", MobilitySettings) else None
        response = render(request, "service/mobility/rescues.html", {
            **context, "tabs": tabs(actor, "rescues"), "can_add": can(actor, "add", Rescue), "rules": rules,
            "can_settings": rules is not None and can(actor, "change", rules),
        })  # fmt: skip
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def rescue_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "add", Rescue)
    data = {k: request.POST.get(k) for k in ("lat", "lng", "address", "problem", "customer", "vehicle", "technician")}
    rescue = run_action(request, mobility.rescue_create, actor=actor, data=data)
    if rescue is not REFUSED:
        if rescue.inside_area is False:
            messages.warning(request, _("Rescue dispatched; the car is outside the service area."))
        else:
            messages.success(request, _("Rescue dispatched."))
    return redirect("mobility:rescues")


@login_required
@require_POST
def rescue_advance(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rescue = sel.rescue_get(actor=actor, pk=pk, action="progress")
    if run_action(request, mobility.rescue_advance, actor=actor, rescue=rescue,
                  to_status=request.POST.get("status", "")) is not REFUSED:  # fmt: skip
        messages.success(request, _("Rescue updated."))
    return redirect("mobility:rescues")


@login_required
@require_POST
def rescue_assign(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rescue = sel.rescue_get(actor=actor, pk=pk, action="change")
    if run_action(request, mobility.rescue_assign, actor=actor, rescue=rescue,
                  technician=request.POST.get("technician")) is not REFUSED:  # fmt: skip
        messages.success(request, _("Rescue assigned."))
    return redirect("mobility:rescues")


@login_required
@require_POST
def settings_change(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "change", MobilitySettings)
    data = {k: request.POST.get(k) for k in ("loaner_free_days", "loaner_day_rate", "level_rate", "area_lat",
                                             "area_lng", "area_radius_km", "rescue_target_minutes")}  # fmt: skip
    if run_action(request, mobility.mobility_settings_change, actor=actor, data=data) is not REFUSED:
        messages.success(request, _("Settings saved."))
    return redirect("mobility:rescues")


def panel_driver(request: ActorRequest) -> dict[str, Any] | None:
    """A driver's home: today's errands and open rescues given to them."""
    actor = request.actor
    if actor is None or actor.role != Role.TECHNICIAN or not can(actor, "view", Errand):
        return None
    today = timezone.localdate().isoformat()
    errands_today = list(sel.errand_list(actor=actor, filters={"date": today})
                         .exclude(status__in=(ErrandStatus.DONE, ErrandStatus.CANCELLED)).order_by("pickup_at")[:20])  # fmt: skip
    open_rescues = list(sel.rescue_list(actor=actor, filters={"open": True}).order_by("dispatched_at")[:20])
    if not errands_today and not open_rescues:
        return None
    return {"errands": errands_today, "rescues": open_rescues}
