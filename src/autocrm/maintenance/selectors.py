"""Reads of the maintenance app, each starting from ``for_actor``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import Scope, can, get_in_scope, require_model, scope_for
from autocrm.vehicles.models import Vehicle

from . import engine
from .choices import Item, RecallStatus
from .models import MaintenanceRecord, RecallCampaign, RecallVehicle, VehicleDue
from .services import fleet_fallback, store_plans

MAX_WEEKS = 52
MAX_DAYS = 366


@dataclass(frozen=True)
class Computed:
    rate: engine.Rate
    prediction: engine.Prediction
    readings: int  # readings on file (before cleaning)
    delivered: dt.date


def _start(vehicle: Vehicle) -> dt.date:
    return vehicle.delivery_date or vehicle.purchase_date or timezone.localtime(vehicle.created_at).date()


def prediction_for(*, vehicle: Vehicle, today: dt.date | None = None) -> Computed:
    """One vehicle's rate and next visit, computed now with the engine (the caller has checked
    that the vehicle is in scope)."""
    today = today or timezone.localdate()
    readings = [
        engine.Reading(engine.day_number(at), km, bool(reason))
        for km, at, reason in vehicle.readings.order_by("at", "id").values_list("km", "at", "correction_reason")
    ]
    done: dict[str, tuple[dt.date, int | None]] = {}
    for item, done_on, km in (
        MaintenanceRecord.objects.filter(vehicle=vehicle, store_id=vehicle.store_id)  # scoped: the vehicle's own rows
        .order_by("done_on", "id").values_list("item", "done_on", "km")
    ):  # fmt: skip
        done[item] = (done_on, km)
    start = _start(vehicle)
    rate = engine.mileage_rate(
        readings, delivered=start, fallback=fleet_fallback(store_id=vehicle.store_id, series_id=vehicle.series_id)
    )
    plan = store_plans(store_id=vehicle.store_id).for_series(vehicle.series_id)
    prediction = engine.predict(
        plan, rate=rate, delivered=start, last_done=done, fuel_type=vehicle.fuel_type, today=today
    )
    return Computed(rate, prediction, len(readings), start)


_METHOD_TEXT = {
    "readings": _("Median of the slopes between %(n)d odometer readings (Theil–Sen)."),
    "delivery": _("One reading, counted from the delivery date at 0 km."),
    "series": _("No usable readings: the median of this model's fleet in the store."),
    "store": _("No usable readings: the median of the store's fleet."),
    "default": _("No usable readings and no fleet yet: a typical private car."),
}


def rate_explained(rate: engine.Rate) -> str:
    return str(_METHOD_TEXT.get(rate.method, "")) % {"n": rate.readings}


def vehicle_maintenance(*, actor: Actor, pk: Any) -> dict[str, Any]:
    """The vehicle's next due date, due items and the mileage rate used (the API's answer and the
    vehicle page's panel). Another store's vehicle, or one out of the role's scope: 404."""
    vehicle = get_in_scope(Vehicle.objects.for_actor(actor, "view"), actor, pk)
    require_model(actor, "view", VehicleDue)
    computed = prediction_for(vehicle=vehicle)
    labels = dict(Item.choices)

    def item_out(d: engine.ItemDue) -> dict[str, Any]:
        return {"item": d.item, "label": str(labels.get(d.item, d.item)), "due_on": d.due_on, "by": d.by,
                "due_km": d.due_km, "last_done_on": d.last_done_on}  # fmt: skip

    p = computed.prediction
    return {
        "vehicle": vehicle.pk,
        "next_due_on": p.next_due_on,
        "due_items": [item_out(d) for d in p.items],
        "all_items": [item_out(d) for d in p.all_items],
        "estimated_km": p.estimated_km,
        "rate": {
            "km_per_day": round(computed.rate.km_per_day, 2),
            "km_per_year": round(computed.rate.km_per_day * 365),
            "method": computed.rate.method,
            "readings_used": computed.rate.readings,
            "readings_on_file": computed.readings,
            "explanation": rate_explained(computed.rate),
        },
        "open_recalls": open_recalls(actor=actor, vehicle=vehicle),
    }


def open_recalls(*, actor: Actor, vehicle: Vehicle) -> list[dict[str, Any]]:
    """The vehicle's recalls not yet done (none for a role that does not see recalls)."""
    if not can(actor, "view", RecallVehicle):
        return []
    rows = (
        RecallVehicle.objects.for_actor(actor, "view")
        .filter(vehicle=vehicle).exclude(status=RecallStatus.COMPLETED).select_related("campaign")
    )  # fmt: skip
    return [{"id": r.pk, "code": r.campaign.code, "title": r.campaign.title, "status": r.status} for r in rows]


def _whole(name: str, value: Any, default: int, top: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(fields={name: [_("Enter a whole number.")]}) from None
    if not 1 <= number <= top:
        raise ValidationError(fields={name: [_("Choose between 1 and %(max)s.") % {"max": top}]})
    return number


def due_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[VehicleDue]:
    """Vehicles whose next visit falls in the next ``weeks`` (default 4), overdue ones included
    unless ``overdue=no``; ``item`` keeps those with that item due."""
    require_model(actor, "view", VehicleDue)
    filters = filters or {}
    weeks = _whole("weeks", filters.get("weeks"), 4, MAX_WEEKS)
    today = timezone.localdate()
    qs = VehicleDue.objects.for_actor(actor, "view").filter(next_due_on__lte=today + dt.timedelta(weeks=weeks))
    overdue = str(filters.get("overdue") or "").strip().lower()
    if overdue not in ("", "yes", "no", "only"):
        raise ValidationError(fields={"overdue": [_("Choose one of the listed values.")]})
    if overdue == "no":
        qs = qs.filter(next_due_on__gte=today)
    elif overdue == "only":
        qs = qs.filter(next_due_on__lt=today)
    item = str(filters.get("item") or "").strip()
    if item:
        if item not in Item.values:
            raise ValidationError(fields={"item": [_("Choose one of the listed values.")]})
        qs = qs.filter(items__contains=[item]) if _json_contains() else qs.filter(items__icontains=f'"{item}"')
    return qs.select_related("vehicle__customer", "vehicle__brand", "vehicle__series")


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def due_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(due_list(actor=actor, filters=filters), ordering=("next_due_on", "vehicle_id"), limit=limit,
                    cursor=cursor)  # fmt: skip


# How far back the home panel's "to call this week" reaches: a car overdue longer than this is a
# lapsed owner (the care team's win-back list, and the due list's "only overdue"), not a call the
# advisor makes this week among hundreds.
CALL_OVERDUE_DAYS = 60
# The panel's count stops here ("500+"): no whole-table count on a home page.
COUNT_CAP = 500


def due_this_week(*, actor: Actor, limit: int = 10) -> dict[str, Any]:
    """The advisor's home panel: vehicles due within 7 days or overdue by at most
    ``CALL_OVERDUE_DAYS``, soonest first, with the owner's name; the count capped."""
    today = timezone.localdate()
    qs = VehicleDue.objects.for_actor(actor, "view").filter(
        next_due_on__gte=today - dt.timedelta(days=CALL_OVERDUE_DAYS), next_due_on__lte=today + dt.timedelta(days=7)
    )
    rows = list(
        qs.select_related("vehicle", "vehicle__customer", "vehicle__series").order_by("next_due_on", "vehicle_id")[
            :limit
        ]
    )
    counted = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return {"rows": rows, "count": counted if counted <= COUNT_CAP else f"{COUNT_CAP}+", "today": today,
            "overdue_days": CALL_OVERDUE_DAYS}  # fmt: skip


def insurance_renewals(*, actor: Actor, days: Any = None, limit: Any = None, cursor: Any = None) -> tuple[Page, int]:
    """Vehicles whose insurance expires within ``days`` (default 60), soonest first (续保)."""
    require_model(actor, "view", Vehicle)
    window = _whole("days", days, 60, MAX_DAYS)
    today = timezone.localdate()
    qs = (
        Vehicle.objects.for_actor(actor, "view")
        .filter(insurance_expiry__gte=today, insurance_expiry__lte=today + dt.timedelta(days=window))
        .select_related("customer", "brand", "series")
    )
    return paginate(qs, ordering=("insurance_expiry", "id"), limit=limit, cursor=cursor), window


# --------------------------------------------------------------------------- recalls


def recall_list(*, actor: Actor) -> list[dict[str, Any]]:
    """Campaigns in scope with their vehicles counted by status and the completion rate (a
    director sees one row per campaign and store)."""
    require_model(actor, "view", RecallCampaign)
    rows = (
        RecallCampaign.objects.for_actor(actor, "view")
        .annotate(
            affected=Count("vehicles"),
            completed=Count("vehicles", filter=Q(vehicles__status=RecallStatus.COMPLETED)),
            notified=Count("vehicles", filter=Q(vehicles__status=RecallStatus.NOTIFIED)),
        )
        .order_by("-created_at", "-id")
    )
    return [
        {"id": c.pk, "code": c.code, "title": c.title, "description": c.description, "store": c.store_id,
         "vin_count": c.vin_count, "affected": c.affected, "completed": c.completed, "notified": c.notified,
         "completion_rate": round(c.completed / c.affected, 4) if c.affected else None, "created_at": c.created_at}
        for c in rows
    ]  # fmt: skip


def recall_get(*, actor: Actor, pk: Any, action: str = "view") -> RecallCampaign:
    return get_in_scope(RecallCampaign.objects.for_actor(actor, "view"), actor, pk, action)


def recall_vehicles(*, actor: Actor, campaign: RecallCampaign, status: str = "") -> QuerySet[RecallVehicle]:
    qs = RecallVehicle.objects.for_actor(actor, "view").filter(campaign=campaign)
    if status:
        if status not in RecallStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=status)
    return qs.select_related("vehicle__customer", "vehicle__brand", "vehicle__series").order_by("status", "id")


def recalled_get(*, actor: Actor, pk: Any, action: str = "view") -> RecallVehicle:
    return get_in_scope(
        RecallVehicle.objects.for_actor(actor, "view").select_related("campaign", "vehicle__customer"),
        actor,
        pk,
        action,
    )


# --------------------------------------------------------------------------- the plan editor


def plan_list(*, actor: Actor) -> list[Any]:
    """The plans that apply in the actor's store, its own first (per series, then its default),
    then the shipped ones, each with its items."""
    from .models import ServicePlan

    require_model(actor, "view", ServicePlan)
    store_id = actor.require_store_id()
    plans = list(
        ServicePlan.objects.filter(Q(store_id=store_id) | Q(store__isnull=True))  # scoped: the store's and the shipped plans
        .select_related("series__brand").prefetch_related("items")
    )  # fmt: skip
    plans.sort(key=lambda p: (p.store_id is None, p.series_id is None, p.name, p.pk))
    return plans


def plan_get(*, actor: Actor, pk: Any) -> Any:
    """One plan the store uses (its own, or a shipped one); another store's is not found."""
    from .models import ServicePlan

    scope = scope_for(actor, ServicePlan, "view")
    if scope is None:  # a plan is a record: out of reach reads as not found, as get_in_scope does
        raise NotFound()
    store_id = actor.require_store_id()
    stores = (
        actor.organization_store_ids if scope is Scope.ORGANIZATION else (store_id,)
    )  # a director reads every store's
    try:
        if isinstance(pk, bool):
            raise ValueError
        number = int(pk)
    except (TypeError, ValueError):
        raise ValidationError(fields={"plan": [_("Enter a whole number.")]}) from None
    plan = (
        ServicePlan.objects.filter(Q(store_id__in=stores) | Q(store__isnull=True), pk=number)  # scoped: the stores in reach and the shipped plans
        .select_related("series__brand").prefetch_related("items").first()
    ) if 0 < number < 2**62 else None  # fmt: skip
    if plan is None:
        raise NotFound()
    return plan
