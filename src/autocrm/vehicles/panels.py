"""The vehicles panel of the customer 360 page, registered with ``core.extensions`` so that
``customers`` shows vehicles without importing this app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.extensions import Panel, register_panel
from autocrm.core.permissions import can

from .models import Vehicle
from .selectors import vehicles_of_customer

SOON_DAYS = 30

DUE_FIELDS = (
    ("warranty_end", _("Warranty end")),
    ("extended_warranty_end", _("Extended warranty end")),
    ("insurance_expiry", _("Insurance expiry")),
    ("inspection_due", _("Annual inspection due")),
)


def due_status(value: dt.date | None, today: dt.date) -> str:
    """``overdue`` (in the past), ``soon`` (within 30 days), or ``""``."""
    if value is None:
        return ""
    if value < today:
        return "overdue"
    if value <= today + dt.timedelta(days=SOON_DAYS):
        return "soon"
    return ""


def due_dates(vehicle: Vehicle, today: dt.date) -> list[dict[str, Any]]:
    """The known due dates of a vehicle, each with its status."""
    out = []
    for name, label in DUE_FIELDS:
        value = getattr(vehicle, name)
        if value is not None:
            out.append({"name": name, "label": label, "date": value, "status": due_status(value, today)})
    return out


def customer_vehicles_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """One query: the customer's vehicles with brand and series. Hidden when the role may not
    see vehicles at all."""
    if not can(actor, "view", Vehicle):
        return None
    today = timezone.localdate()
    vehicles = vehicles_of_customer(customer_id=customer.pk)
    return {
        "vehicles": [{"vehicle": v, "due": due_dates(v, today)} for v in vehicles],
        "can_add_vehicle": can(actor, "add", Vehicle) and can(actor, "change", customer),
    }


def register() -> None:
    register_panel(
        Panel(
            target="customers.customer",
            key="vehicles",
            template="vehicles/panels/customer_vehicles.html",
            context=customer_vehicles_context,
            order=10,
        )
    )
