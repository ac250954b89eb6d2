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


# Statuses of a repair order whose bill is not made yet (after-sales' workflow, by value: loyalty
# does not import its sibling). The bill is made when the order reaches 待结算.
BEFORE_BILL = ("received", "diagnosis", "awaiting_approval", "in_repair", "quality_check")


def repair_order_bill_context(actor: Any, ro: Any) -> dict[str, Any] | None:
    """On the repair order page (``service.repair_order``): the member's tier, points and coupons,
    and the coupon and points the bill is to use — before the bill is made."""
    from .choices import CouponStatus
    from .models import BillLoyalty, Coupon, Membership

    if getattr(ro, "status", None) not in BEFORE_BILL or not can(actor, "apply", Membership):
        return None
    member = (Membership.objects.for_actor(actor, "view").select_related("tier")
              .filter(customer_id=ro.customer_id).first())  # fmt: skip
    coupons = []
    if can(actor, "view", Coupon):
        coupons = list(Coupon.objects.for_actor(actor, "view").select_related("type")
                       .filter(customer_id=ro.customer_id, status=CouponStatus.ISSUED).order_by("valid_until")[:20])  # fmt: skip
    chosen = (
        BillLoyalty.objects.filter(store_id=ro.store_id, repair_order_id=ro.pk).select_related("coupon").first()
    )  # scoped: the repair order the page read in scope
    return {"member": member, "coupons": coupons, "chosen": chosen,
            "action": reverse("loyalty:bill_choose", args=[ro.pk])}  # fmt: skip


def register() -> None:
    from . import services
    from .models import Coupon, Membership, Programme

    register_panel(Panel(target="customers.customer", key="loyalty", template="loyalty/panels/customer_member.html",
                         context=customer_member_context, order=14, module="loyalty"))  # fmt: skip
    register_panel(Panel(target="sales.deal", key="loyalty", template="loyalty/panels/deal_points.html",
                         context=services.deal_points_panel, order=20, module="loyalty"))  # fmt: skip
    register_panel(Panel(target="service.repair_order", key="loyalty_bill", template="loyalty/panels/ro_bill.html",
                         context=repair_order_bill_context, order=10, module="loyalty"))  # fmt: skip
    register_menu("loyalty_members", _("Members"), "loyalty:member_list", icon="crown", order=70, module="loyalty",
                  visible=lambda actor: can(actor, "view", Membership))  # fmt: skip
    register_menu("loyalty_coupons", _("Coupons"), "loyalty:coupon_list", icon="ticket", order=71, module="loyalty",
                  visible=lambda actor: can(actor, "view", Coupon))  # fmt: skip
    register_menu("loyalty_programme", _("Membership programme"), "loyalty:programme", icon="settings", order=72,
                  module="loyalty", visible=lambda actor: can(actor, "view", Programme))  # fmt: skip
