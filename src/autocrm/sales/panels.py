"""The deals panel of the customer 360 page (``core.extensions``): the customer's deals in the
actor's scope with their stage, and the repeat purchases — how many cars, years between them."""

from __future__ import annotations

from typing import Any

from autocrm.core.extensions import Panel, register_panel
from autocrm.core.permissions import can

from .models import Deal
from .selectors import customer_purchases


def customer_deals_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """Hidden when the role may not see deals at all."""
    if not can(actor, "view", Deal):
        return None
    deals = list(Deal.objects.for_actor(actor, "view").filter(customer_id=customer.pk).order_by("-updated_at")[:10])
    return {"deals": deals, "purchases": customer_purchases(actor=actor, customer_id=customer.pk)}


def register() -> None:
    register_panel(
        Panel(
            target="customers.customer",
            key="deals",
            template="sales/panels/customer_deals.html",
            context=customer_deals_context,
            order=12,
        )
    )
