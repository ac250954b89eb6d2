"""What sales shows on other apps' pages (``core.extensions``): the deals panel of the customer
360 page (repeat purchases: cars bought, years between them — loaded after the first paint, so
the 360 page keeps its query budget), the sales panel of the lead page (the lead's deals, "open a
deal", the 话术库 search box), and the home panels: a consultant's test drives and deliveries
this week, a sales manager's quotes to approve."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from autocrm.core.extensions import Panel, register_panel
from autocrm.core.permissions import can
from autocrm.core.roles import Role
from autocrm.core.views import register_home_panel

from .models import Deal, Quote, SalesScript


def customer_deals_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """Hidden when the role may not see deals at all; no query of its own."""
    if not can(actor, "view", Deal):
        return None
    return {"can_view_deals": True, "purchases_url": reverse("sales:customer_purchases", args=[customer.pk])}


def lead_sales_context(actor: Any, lead: Any) -> dict[str, Any] | None:
    from . import selectors

    show_deals = can(actor, "view", Deal)
    show_scripts = can(actor, "view", SalesScript)
    if not (show_deals or show_scripts):
        return None
    return {
        "deals": selectors.lead_deals(actor=actor, lead=lead) if show_deals else [],
        "can_open": can(actor, "add", Deal) and can(actor, "change", lead),
        "show_scripts": show_scripts,
        "model": lead.model_interest,
    }


def home_day(request: Any) -> dict[str, Any] | None:
    """The consultant's test drives booked and deliveries this week (beside the lead to-do)."""
    from . import selectors

    actor = request.actor
    if actor.role != Role.SALES or not can(actor, "view", Deal):
        return None
    return selectors.consultant_day(actor=actor)


def home_quotes(request: Any) -> dict[str, Any] | None:
    """A sales manager's quotes waiting for their approval."""
    from . import selectors

    actor = request.actor
    if not can(actor, "approve", Quote):
        return None
    return {"quotes": selectors.quotes_to_approve(actor=actor, limit=10)}


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
    register_panel(
        Panel(target="leads.lead", key="sales", template="sales/panels/lead_sales.html", context=lead_sales_context)
    )
    register_home_panel("sales_day", template="sales/panels/home_day.html", context=home_day, order=7)
    register_home_panel("sales_quotes", template="sales/panels/home_quotes.html", context=home_quotes, order=8)
