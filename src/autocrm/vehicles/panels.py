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

SOON_DAYS = 30  # the reminder window: a date within it is due

# (field, label, what a past date means). A warranty that ended is a fact, not a task: nothing
# can be done about it, so it is shown as ended. A missed insurance renewal or annual
# inspection still has to be done, so it stays a reminder, overdue.
DUE_FIELDS = (
    ("warranty_end", _("Warranty end"), "ended"),
    ("extended_warranty_end", _("Extended warranty end"), "ended"),
    ("insurance_expiry", _("Insurance expiry"), "overdue"),
    ("inspection_due", _("Annual inspection due"), "overdue"),
)
REMINDER_STATUSES = frozenset({"soon", "overdue"})


def due_status(value: dt.date | None, today: dt.date, *, past: str = "overdue") -> str:
    """``soon`` (today up to ``SOON_DAYS`` ahead), ``past`` for a date before today (``overdue``
    for a task still to do, ``ended`` for a period that is over), or ``""`` (later, or unknown).
    ``today`` is the store's local date (``timezone.localdate()``, Asia/Shanghai)."""
    if value is None:
        return ""
    if value < today:
        return past
    if value <= today + dt.timedelta(days=SOON_DAYS):
        return "soon"
    return ""


def due_dates(vehicle: Vehicle, today: dt.date) -> list[dict[str, Any]]:
    """The known due dates of a vehicle, each with its status and whether it is a reminder
    (due soon or overdue; an ended warranty is not)."""
    out = []
    for name, label, past in DUE_FIELDS:
        value = getattr(vehicle, name)
        if value is not None:
            status = due_status(value, today, past=past)
            out.append(
                {"name": name, "label": label, "date": value, "status": status, "reminder": status in REMINDER_STATUSES}
            )
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
