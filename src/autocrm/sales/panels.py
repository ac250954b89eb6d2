"""The deals panel of the customer 360 page (``core.extensions``): a link to the customer's deals
and repeat purchases (cars bought, years between them) on the deal list. No query of its own:
the 360 page keeps its query budget; the list reads them when opened."""

from __future__ import annotations

from typing import Any

from autocrm.core.extensions import Panel, register_panel
from autocrm.core.permissions import can

from .models import Deal


def customer_deals_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """Hidden when the role may not see deals at all."""
    if not can(actor, "view", Deal):
        return None
    return {"can_view_deals": True}


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
