"""Loyalty's menu entries and its member card on the customer 360 page (lazy: no query on the page)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from autocrm.core.extensions import Panel, register_panel
from autocrm.core.navigation import register_menu
from autocrm.core.permissions import can


def customer_member_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    from .models import Membership

    if not can(actor, "view", Membership):
        return None
    return {"loyalty_part_url": reverse("loyalty:customer_part", args=[customer.pk])}


def register() -> None:
    from . import services
    from .models import Coupon, Membership, Programme

    register_panel(Panel(target="customers.customer", key="loyalty", template="loyalty/panels/customer_member.html",
                         context=customer_member_context, order=14, module="loyalty"))  # fmt: skip
    register_panel(Panel(target="sales.deal", key="loyalty", template="loyalty/panels/deal_points.html",
                         context=services.deal_points_panel, order=20, module="loyalty"))  # fmt: skip
    register_menu("loyalty_members", _("Members"), "loyalty:member_list", icon="crown", order=70, module="loyalty",
                  visible=lambda actor: can(actor, "view", Membership))  # fmt: skip
    register_menu("loyalty_coupons", _("Coupons"), "loyalty:coupon_list", icon="ticket", order=71, module="loyalty",
                  visible=lambda actor: can(actor, "view", Coupon))  # fmt: skip
    register_menu("loyalty_programme", _("Membership programme"), "loyalty:programme", icon="settings", order=72,
                  module="loyalty", visible=lambda actor: can(actor, "view", Programme))  # fmt: skip
