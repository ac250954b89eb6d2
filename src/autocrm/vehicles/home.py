"""Home-page panels of the vehicles app: what falls due in the coming weeks (the service manager's
reminders, the finance and insurance specialist's renewals 续保) and, for technicians, the cars
that came through reception lately (their odometer readings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.permissions import can
from autocrm.core.roles import Role

from .models import OdometerReading, Vehicle

WITHIN_DAYS = 30
SIZE = 10
DUE_FIELDS = {
    "insurance_expiry": _("Insurance expires"),
    "inspection_due": _("Annual inspection due"),
    "warranty_end": _("Warranty ends"),
}
# Who sees which dates: renewals are finance and insurance's work; the service side sees them all,
# and so do consultants (their own customers' cars: renewal and replacement talks) and agents (reminder calls).
DUE_FOR_ROLE: dict[str | None, tuple[str, ...]] = {  # looked up by the actor's role (None: no role)
    Role.SALES: tuple(DUE_FIELDS),
    Role.AGENT: tuple(DUE_FIELDS),
    Role.SERVICE_MANAGER: tuple(DUE_FIELDS),
    Role.ADVISOR: tuple(DUE_FIELDS),
    Role.MANAGER: tuple(DUE_FIELDS),
    Role.FINANCE: ("insurance_expiry",),
}


def vehicles_due(*, actor: Actor, fields: tuple[str, ...], within_days: int = WITHIN_DAYS, limit: int = SIZE) -> Any:
    """Vehicles in the actor's scope with one of ``fields`` between today and ``within_days`` from
    now, soonest first: ``{"rows": [(vehicle, field, date)], "count": n}``."""
    today = timezone.localdate()
    until = today + dt.timedelta(days=within_days)
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__gte": today, f"{name}__lte": until})
    qs = Vehicle.objects.for_actor(actor, "view").filter(condition)
    rows = []
    for vehicle in qs.select_related("brand", "series").order_by("id")[:500]:
        for name in fields:
            day = getattr(vehicle, name)
            if day is not None and today <= day <= until:
                rows.append({"vehicle": vehicle, "label": DUE_FIELDS[name], "date": day, "days": (day - today).days})
    rows.sort(key=lambda r: (r["date"], r["vehicle"].pk))
    return {"rows": rows[:limit], "count": qs.count(), "within_days": within_days}


def readings_recent(*, actor: Actor, limit: int = SIZE) -> list[OdometerReading]:
    """The latest odometer readings in the actor's scope (readings follow their vehicle's rule)."""
    return list(
        OdometerReading.objects.for_actor(actor, "view").select_related("vehicle__brand", "vehicle__series")
        .order_by("-at", "-id")[:limit]
    )  # fmt: skip


def panel_due(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    fields = DUE_FOR_ROLE.get(actor.role)
    if not fields or not can(actor, "view", Vehicle):
        return None
    return {**vehicles_due(actor=actor, fields=fields), "insurance_only": fields == ("insurance_expiry",)}


def panel_readings(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor.role != Role.TECHNICIAN or not can(actor, "view", OdometerReading):
        return None
    return {"readings": readings_recent(actor=actor)}
