"""Panels of the maintenance app on other apps' pages (``core.extensions``): the vehicle page's
next visit and open recalls, the customer 360's (loaded after the first paint, so the page keeps
its query budget), and the advisor's home panel "due to call this week"."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from autocrm.core.actor import ActorRequest
from autocrm.core.extensions import Panel, register_panel
from autocrm.core.permissions import can
from autocrm.core.roles import Role

from .choices import Item
from .models import VehicleDue
from .selectors import due_this_week, vehicle_maintenance

HOME_ROLES = frozenset({Role.ADVISOR, Role.SERVICE_MANAGER, Role.AGENT})


def vehicle_panel_context(actor: Any, vehicle: Any) -> dict[str, Any] | None:
    """The next visit computed now (a few queries: readings, records, the plan); hidden when the
    role may not read predictions."""
    if not can(actor, "view", VehicleDue):
        return None
    return {"m": vehicle_maintenance(actor=actor, pk=vehicle.pk)}


def customer_panel_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """No query: a placeholder the page loads after its first paint."""
    if not can(actor, "view", VehicleDue):
        return None
    return {"part_url": reverse("maintenance:customer_part", args=[customer.pk])}


def panel_home_due(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor.role not in HOME_ROLES or not can(actor, "view", VehicleDue):
        return None
    data = due_this_week(actor=actor)
    labels = dict(Item.choices)
    data["rows"] = [{"due": d, "labels": [labels.get(i, i) for i in d.items or []]} for d in data["rows"]]
    return data


def register() -> None:
    register_panel(
        Panel(target="vehicles.vehicle", key="maintenance", template="maintenance/panels/vehicle_maintenance.html",
              context=vehicle_panel_context, order=10)
    )  # fmt: skip
    register_panel(
        Panel(target="customers.customer", key="maintenance", template="maintenance/panels/customer_maintenance.html",
              context=customer_panel_context, order=11)
    )  # fmt: skip
