"""How the audit trail names loyalty's actions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action


def register() -> None:
    register_action("loyalty.enrol", _("Customer enrolled in the loyalty programme"))
    register_action("loyalty.points", _("Points moved by hand or by a partner"))
    register_action("loyalty.coupon_type_create", _("Coupon type created"))
    register_action("loyalty.coupon_issue", _("Coupon issued"))
    register_action("loyalty.deal_points", _("Points applied to a car deal"))
    register_action("loyalty.gift_add", _("Gift added to the catalogue"))
    register_action("loyalty.gift_change", _("Gift changed"))
    register_action("loyalty.gift_redeem", _("Gift redeemed for points"))
    register_action("loyalty.gift_cancel", _("Gift redemption cancelled"))
    register_action("loyalty.coupon_redeem", _("Coupon redeemed at the till"))
    register_action("loyalty.bill_choose", _("Coupon and points chosen for a bill"))
    register_action("loyalty.programme_update", _("Loyalty programme changed"))
