"""The vehicle UI: detail (readings, ownership, add a reading, transfer), add and edit with the
catalogue pickers, and the optional first vehicle on the customer create page.

The first vehicle is a :class:`customers.views.CreateExtra` registered in ``VehiclesConfig``:
it is saved with ``vehicle_create`` in the same transaction as the customer, so a bad VIN or
plate leaves neither behind, and ``customers`` never imports this app."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from autocrm.core.permissions import can
from autocrm.customers.forms import add_domain_errors
from autocrm.customers.models import Customer
from autocrm.customers.selectors import customer_get, customer_page
from autocrm.customers.views import CreateExtra

from . import selectors, services
from .forms import FirstVehicleForm, ReadingForm, TransferForm, VehicleForm, series_options, trim_options
from .models import OdometerReading, Vehicle
from .panels import due_dates

READINGS_SIZE = 20


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _vehicle(actor: Actor, pk: Any, action: str = "view") -> Vehicle:
    return selectors.vehicle_get(actor=actor, pk=pk, action=action)


def _vin_conflict_error(form: Any, exc: Conflict) -> None:
    """A VIN already registered: say so on the field, with a link when the actor may see it."""
    existing_id = getattr(exc, "existing_id", None)
    if existing_id:
        form.add_error(
            "vin",
            format_html(
                '{} <a href="{}" data-testid="existing-vehicle">{}</a>',
                exc.message,
                reverse("vehicles:vehicle_detail", args=[existing_id]),
                _("Open the existing vehicle"),
            ),
        )
    else:
        form.add_error("vin", str(exc.message))
    form.mark_invalid()


# --- the first vehicle on the customer create page ---------------------------------------------


def first_vehicle_save(actor: Actor, customer: Customer, form: FirstVehicleForm) -> Vehicle | None:
    if form.is_empty():
        return None
    data = {k: form.cleaned_data[k] for k in ("vin", "plate")}
    try:
        return services.vehicle_create(
            actor=actor, data=data, customer=customer, mileage_km=form.cleaned_data.get("mileage_km")
        )
    except Conflict as exc:
        _vin_conflict_error(form, exc)
        raise


FIRST_VEHICLE = CreateExtra(
    key="vehicle",
    form_class=FirstVehicleForm,
    template="vehicles/partials/first_vehicle_fields.html",
    save=first_vehicle_save,
    visible=lambda actor: can(actor, "add", Vehicle),
    order=10,
)


# --- detail ------------------------------------------------------------------------------------


def _readings_context(vehicle: Vehicle, page: Any) -> dict[str, Any]:
    more_url = None
    if page.next_cursor:
        more_url = reverse("vehicles:vehicle_readings", args=[vehicle.pk]) + "?cursor=" + page.next_cursor
    return {"readings": page.items, "readings_more_url": more_url}


def _detail_context(actor: Actor, vehicle: Vehicle, **extra: Any) -> dict[str, Any]:
    page = selectors.reading_page(vehicle=vehicle, limit=READINGS_SIZE)
    return {
        "vehicle": vehicle,
        "owner": vehicle.customer,
        "due": due_dates(vehicle, timezone.localdate()),
        "ownerships": selectors.ownership_history(vehicle=vehicle),
        "can_change": can(actor, "change", vehicle),
        "can_read": can(actor, "add", OdometerReading),
        "can_transfer": can(actor, "transfer", vehicle),
        "reading_form": extra.pop("reading_form", None) or ReadingForm(),
        "transfer_form": extra.pop("transfer_form", None) or TransferForm(),
        **_readings_context(vehicle, page),
        **extra,
    }


@login_required
@require_GET
def vehicle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    vehicle = _vehicle(actor, pk)
    return render(request, "vehicles/vehicle_detail.html", _detail_context(actor, vehicle))


@login_required
@require_GET
def vehicle_readings(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    vehicle = _vehicle(actor, pk)
    try:
        page = selectors.reading_page(vehicle=vehicle, limit=READINGS_SIZE, cursor=request.GET.get("cursor") or None)
    except DomainError as exc:
        return HttpResponseBadRequest(str(exc.message))
    return render(request, "vehicles/partials/reading_rows.html", _readings_context(vehicle, page))


@login_required
@require_POST
def reading_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an odometer reading; a lower one than the last needs a correction reason."""
    actor = _actor(request)
    vehicle = _vehicle(actor, pk)
    form = ReadingForm(request.POST)
    if form.is_valid():
        try:
            services.odometer_record(
                actor=actor,
                vehicle=vehicle,
                km=form.cleaned_data["km"],
                at=form.cleaned_data.get("at") or None,
                source=form.cleaned_data["source"],
                correction_reason=form.cleaned_data.get("correction_reason") or "",
            )
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Reading recorded."))
            return redirect(reverse("vehicles:vehicle_detail", args=[vehicle.pk]) + "#readings")
    vehicle.refresh_from_db()
    return render(
        request, "vehicles/vehicle_detail.html", _detail_context(actor, vehicle, reading_form=form), status=400
    )


@login_required
@require_GET
def owner_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Candidates for a transfer: customers in the actor's scope matching the search box."""
    actor = _actor(request)
    vehicle = _vehicle(actor, pk)
    q = (request.GET.get("q") or "").strip()
    customers: list[Customer] = []
    if q:
        customers = [
            c for c in customer_page(actor=actor, filters={"q": q}, limit=10).items if c.pk != vehicle.customer_id
        ]
    return render(request, "vehicles/partials/owner_candidates.html", {"customers": customers, "q": q})


@login_required
@require_POST
def vehicle_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the vehicle to another customer; the past owner keeps their history."""
    actor = _actor(request)
    vehicle = _vehicle(actor, pk, "transfer")
    form = TransferForm(request.POST)
    if form.is_valid():
        try:
            new_owner = customer_get(actor=actor, pk=form.cleaned_data["new_owner"])
            services.ownership_transfer(
                actor=actor,
                vehicle=vehicle,
                new_owner=new_owner,
                on=form.cleaned_data.get("on"),
                note=form.cleaned_data.get("note") or "",
            )
        except NotFound:
            form.add_error("new_owner", _("Choose a customer from the search results."))
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Vehicle transferred to %(name)s.") % {"name": new_owner.name})
            return redirect(reverse("vehicles:vehicle_detail", args=[vehicle.pk]) + "#ownership")
    elif "new_owner" in form.errors:
        form.errors["new_owner"] = form.error_class([_("Choose a customer from the search results.")])
    vehicle.refresh_from_db()
    return render(
        request, "vehicles/vehicle_detail.html", _detail_context(actor, vehicle, transfer_form=form), status=400
    )


# --- add / edit --------------------------------------------------------------------------------


@login_required
def vehicle_create(request: HttpRequest) -> HttpResponse:
    """Register a vehicle, for a customer (``?customer=<id>``) or without an owner yet."""
    actor = _actor(request)
    if not can(actor, "add", Vehicle):
        raise DjangoPermissionDenied()
    customer = None
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if customer_id:
        customer = customer_get(actor=actor, pk=customer_id, action="change")
    form = VehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_create(
                actor=actor, data=form.service_data(), customer=customer, mileage_km=form.cleaned_data.get("mileage_km")
            )
        except Conflict as exc:
            _vin_conflict_error(form, exc)
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Vehicle %(vehicle)s saved.") % {"vehicle": vehicle})
            if customer is not None:
                return redirect("customers:customer_detail", pk=customer.pk)
            return redirect("vehicles:vehicle_detail", pk=vehicle.pk)
    return render(request, "vehicles/vehicle_form.html", {"form": form, "customer": customer, "creating": True})


@login_required
def vehicle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    vehicle = _vehicle(actor, pk, "change")
    form = VehicleForm(request.POST or None, instance=vehicle)
    if request.method == "POST" and form.is_valid():
        try:
            services.vehicle_update(actor=actor, vehicle=vehicle, data=form.service_data())
        except Conflict as exc:
            _vin_conflict_error(form, exc)
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Vehicle %(vehicle)s saved.") % {"vehicle": vehicle})
            return redirect("vehicles:vehicle_detail", pk=vehicle.pk)
        vehicle.refresh_from_db()
    return render(
        request, "vehicles/vehicle_form.html", {"form": form, "vehicle": vehicle, "customer": vehicle.customer,
                                                "creating": False}
    )  # fmt: skip


# --- catalogue pickers (htmx) ------------------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def catalogue_series(request: HttpRequest) -> HttpResponse:
    """``<option>``s of a brand's series; the trim picker is emptied out of band."""
    return render(
        request,
        "vehicles/partials/catalogue_options.html",
        {"options": series_options(_int(request.GET.get("brand"))), "reset_trim": True},
    )


@login_required
@require_GET
def catalogue_trims(request: HttpRequest) -> HttpResponse:
    return render(
        request, "vehicles/partials/catalogue_options.html", {"options": trim_options(_int(request.GET.get("series")))}
    )


LIST_SIZE = 25


@login_required
@require_GET
def vehicle_list(request: HttpRequest) -> HttpResponse:
    """Vehicles in the actor's scope, newest first, keyset "load more". The search box takes a
    full plate or VIN, the last six of a VIN or the last digits of a plate; htmx gets the rows."""
    actor = _actor(request)
    if not can(actor, "view", Vehicle):
        raise DjangoPermissionDenied()
    q = (request.GET.get("q") or "").strip()
    try:
        page = selectors.vehicle_page(
            actor=actor, filters={"q": q} if q else {}, limit=LIST_SIZE, cursor=request.GET.get("cursor") or None
        )
    except DomainError as exc:
        return HttpResponseBadRequest(str(exc.message))
    today = timezone.localdate()
    owners = (
        {
            c.pk: c
            for c in Customer.objects.for_actor(actor, "view").filter(
                pk__in={v.customer_id for v in page.items if v.customer_id}
            )
        }
        if can(actor, "view", Customer)
        else {}
    )  # a technician reads vehicles, not their owners
    rows = [
        {
            "vehicle": v,
            "url": reverse("vehicles:vehicle_detail", args=[v.pk]),
            "owner": owners.get(v.customer_id),
            "due": due_dates(v, today),
        }
        for v in page.items
    ]
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    context = {
        "rows": rows,
        "q": q,
        "next_cursor": page.next_cursor,
        "more_query": query.urlencode(),
        "first_page": not request.GET.get("cursor"),
    }
    if getattr(request, "htmx", False):
        return render(request, "vehicles/partials/vehicle_rows.html", context)
    return render(request, "vehicles/vehicle_list.html", context)
