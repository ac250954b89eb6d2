"""The vehicle UI: detail (readings, ownership, add a reading, transfer), add and edit with the
catalogue pickers, the list, and the optional first vehicle on the customer create page.

The first vehicle is a ``core.forms.CreateExtra`` registered in ``VehiclesConfig``: the customer
service checks it (``vehicle_create_check``) together with the customer and saves it with
``vehicle_create`` in the same transaction, so a bad VIN or plate leaves neither behind, and
``customers`` never imports this app. Every service call goes through ``core.forms``'
``run_service``; 404/403 are the middleware's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core.actor import Actor, actor_of
from autocrm.core.errors import NotFound, PermissionDenied
from autocrm.core.extensions import panels_for
from autocrm.core.forms import CreateExtra, ServiceFormView, run_service
from autocrm.core.permissions import can
from autocrm.core.views import all_stores_chosen
from autocrm.customers.models import Customer
from autocrm.customers.selectors import customer_get, customer_page
from autocrm.tenancy import selectors as tenancy_selectors

from . import selectors, services
from .filtersets import VehicleFilterSet
from .forms import FirstVehicleForm, ReadingForm, TransferForm, VehicleForm, series_options, trim_options
from .models import OdometerReading, Vehicle
from .panels import due_dates

READINGS_SIZE = 20


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _vehicle(actor: Actor, pk: Any, action: str = "view") -> Vehicle:
    return selectors.vehicle_get(actor=actor, pk=pk, action=action)


# --- the first vehicle on the customer create page ---------------------------------------------


def first_vehicle_check(actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    services.vehicle_create_check(actor=actor, data={k: data.get(k) for k in ("vin", "plate")})
    return {"data": {k: data.get(k) for k in ("vin", "plate")}, "mileage_km": data.get("mileage_km")}


def first_vehicle_save(actor: Actor, customer: Customer, checked: Mapping[str, Any]) -> Vehicle:
    return services.vehicle_create(
        actor=actor, data=checked["data"], customer=customer, mileage_km=checked["mileage_km"]
    )


FIRST_VEHICLE = CreateExtra(
    key="vehicle",
    form_class=FirstVehicleForm,
    template="vehicles/partials/first_vehicle_fields.html",
    check=first_vehicle_check,
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
        # Panels other modules registered for the vehicle page (maintenance: next service, recalls).
        "panels": [
            {"key": panel.key, "html": render_to_string(panel.template, {**ctx, "vehicle": vehicle, "actor": actor})}
            for panel, ctx in panels_for("vehicles.vehicle", actor, vehicle)
        ],
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
    page = selectors.reading_page(vehicle=vehicle, limit=READINGS_SIZE, cursor=request.GET.get("cursor") or None)
    return render(request, "vehicles/partials/reading_rows.html", _readings_context(vehicle, page))


@login_required
@require_POST
def reading_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an odometer reading; a lower one than the last needs a correction reason."""
    actor = _actor(request)
    vehicle = _vehicle(actor, pk)
    form = ReadingForm(request.POST)
    if form.is_valid():
        done = run_service(
            form,
            services.odometer_record,
            actor=actor,
            vehicle=vehicle,
            km=form.cleaned_data["km"],
            at=form.cleaned_data.get("at") or None,
            source=form.cleaned_data["source"],
            correction_reason=form.cleaned_data.get("correction_reason") or "",
        )
        if done is not None:
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
        except NotFound:
            # Not a customer the actor may see: a form error, never a hint that one exists.
            form.add_error("new_owner", _("Choose a customer from the search results."))
        else:
            done = run_service(
                form,
                services.ownership_transfer,
                actor=actor,
                vehicle=vehicle,
                new_owner=new_owner,
                on=form.cleaned_data.get("on"),
                note=form.cleaned_data.get("note") or "",
            )
            if done is not None:
                messages.success(request, _("Vehicle transferred to %(name)s.") % {"name": new_owner.name})
                return redirect(reverse("vehicles:vehicle_detail", args=[vehicle.pk]) + "#ownership")
    elif "new_owner" in form.errors:
        form.errors["new_owner"] = form.error_class([_("Choose a customer from the search results.")])
    vehicle.refresh_from_db()
    return render(
        request, "vehicles/vehicle_detail.html", _detail_context(actor, vehicle, transfer_form=form), status=400
    )


# --- add / edit --------------------------------------------------------------------------------


def _warn(request: HttpRequest, vehicle: Vehicle) -> None:
    """The save's warnings (VIN missing, a plate another vehicle has) as messages: saved, but
    worth a look."""
    for text in vehicle.warnings:
        messages.warning(request, text)


class VehicleCreateView(ServiceFormView):
    """Register a vehicle, for a customer (``?customer=<id>``) or without an owner yet."""

    form_class = VehicleForm
    template_name = "vehicles/vehicle_form.html"

    def setup_view(self, request: HttpRequest, **kwargs: Any) -> None:
        if not can(self.actor, "add", Vehicle):
            raise PermissionDenied()
        self.customer = None
        customer_id = request.POST.get("customer") or request.GET.get("customer")
        if customer_id:
            self.customer = customer_get(actor=self.actor, pk=customer_id, action="change")

    def call(self, form: Any) -> Vehicle:
        return services.vehicle_create(
            actor=self.actor,
            data=form.service_data(),
            customer=self.customer,
            mileage_km=form.cleaned_data.get("mileage_km"),
        )

    def message(self, result: Vehicle) -> str:
        _warn(self.request, result)
        return _("Vehicle %(vehicle)s saved.") % {"vehicle": result}

    def success_url(self, result: Vehicle) -> str:
        if self.customer is not None:
            return reverse("customers:customer_detail", args=[self.customer.pk])
        return reverse("vehicles:vehicle_detail", args=[result.pk])

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return {**context, "customer": self.customer, "creating": True}


class VehicleEditView(ServiceFormView):
    form_class = VehicleForm
    template_name = "vehicles/vehicle_form.html"

    def setup_view(self, request: HttpRequest, **kwargs: Any) -> None:
        self.vehicle = _vehicle(self.actor, kwargs["pk"], "change")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"instance": self.vehicle}

    def call(self, form: Any) -> Vehicle:
        return services.vehicle_update(actor=self.actor, vehicle=self.vehicle, data=form.service_data())

    def message(self, result: Vehicle) -> str:
        _warn(self.request, result)
        return _("Vehicle %(vehicle)s saved.") % {"vehicle": result}

    def success_url(self, result: Vehicle) -> str:
        return reverse("vehicles:vehicle_detail", args=[self.vehicle.pk])

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        if getattr(context["form"], "service_error", None) is not None:
            self.vehicle.refresh_from_db()  # the refused save may have set attributes in memory
        return {**context, "vehicle": self.vehicle, "customer": self.vehicle.customer, "creating": False}


vehicle_create = VehicleCreateView.as_view()
vehicle_edit = VehicleEditView.as_view()


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
        raise PermissionDenied()
    form = VehicleFilterSet(request.GET or None, actor=actor, all_stores=all_stores_chosen(request))
    chosen = form.chosen()
    page = selectors.vehicle_page(
        actor=actor, filters=form.filters(), limit=LIST_SIZE, cursor=request.GET.get("cursor") or None
    )
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
    store_names: dict[int, str] = {}
    if form.show_store and page.items:
        store_names = tenancy_selectors.store_names(actor=form.actor, ids={v.store_id for v in page.items})
    for row in rows:
        row["store"] = store_names.get(row["vehicle"].store_id, "")
    list_store = None
    if "store" in form.fixed:
        list_store = tenancy_selectors.store_name(actor=form.actor, store_id=form.fixed["store"])
    context = {
        "form": form,
        "rows": rows,
        "q": chosen.get("q", ""),
        "filtered": bool(chosen),
        "show_store": form.show_store,
        "columns": 7 if form.show_store else 6,
        "list_store": list_store,
        "next_cursor": page.next_cursor,
        "more_query": query.urlencode(),
        "first_page": not request.GET.get("cursor"),
    }
    if getattr(request, "htmx", False):
        return render(request, "vehicles/partials/vehicle_rows.html", context)
    return render(request, "vehicles/vehicle_list.html", context)
