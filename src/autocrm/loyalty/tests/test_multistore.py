"""Loyalty in the inherited role × scope matrix (autocrm.core.testing): every page and API
operation, as every role, on a membership of the actor's store, of another store, and a missing
one. Operations keyed by a customer or a coupon code are tried in test_api (scope and roles)."""

from __future__ import annotations

import itertools

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.loyalty.models import Membership
from autocrm.loyalty.services import new_code

M, C, CT, P, R = "loyalty.membership", "loyalty.coupon", "loyalty.coupontype", "loyalty.programme", "loyalty.referral"
_serial = itertools.count(1)


def build_member(store, owner):
    from autocrm.customers.models import Customer

    customer = Customer.objects.create(store=store, name=f"会员{next(_serial)}", consultant=owner)
    return Membership.objects.create(store=store, customer=customer, referral_code=new_code(8))


def new_type(world, role):
    return {"code": f"T{next(_serial)}", "name": "保养券", "kind": "amount", "value": "50"}


class TestLoyaltyMultistore(MultistoreMatrix):
    builders = {M: build_member}
    namespaces = ["loyalty"]
    api_prefixes = ["/memberships", "/points", "/coupons", "/coupon-types", "/bill-loyalty", "/referrals",
                    "/loyalty-programme"]  # fmt: skip
    ops = [
        Op("loyalty:member_list", M, "view", record=False),
        Op("loyalty:member_detail", M, "view"),
        # allowed: past the checks, an empty coupon type is refused with a message on the member's page
        Op("loyalty:member_issue", M, "view", method="POST", ok=302, also_needs=((C, "add"),)),
        Op("loyalty:member_adjust", M, "adjust", method="POST", ok=302),
        Op("loyalty:coupon_list", C, "view", record=False),
        Op("loyalty:coupon_redeem", C, "redeem", record=False, method="POST", ok=302),
        Op("loyalty:coupon_type_add", CT, "add", record=False, method="POST", ok=302),
        Op("loyalty:programme", P, "view", record=False),
        Op("/memberships", M, "view", api=True, record=False),
        Op("/memberships/{pk}", M, "view", api=True),
        Op("/coupon-types", CT, "view", api=True, record=False),
        Op("/coupon-types", CT, "add", api=True, record=False, method="POST", ok=201, data=new_type),
        Op("/coupons", C, "view", api=True, record=False),
        Op("/referrals", R, "view", api=True, record=False),
        Op("/loyalty-programme", P, "view", api=True, record=False),
        Op("/loyalty-programme", P, "change", api=True, record=False, method="PATCH", data={"grace_days": 20}),
    ]
    exempt = {
        "loyalty:bill_choose": "keyed by a repair order: scope and roles in test_views (and test_bills)",
        "loyalty:customer_part": "keyed by a customer: scope and roles in test_views",
        "loyalty:customer_enrol": "keyed by a customer: scope and roles in test_views",
        "POST /api/v1/memberships": "takes a customer: scope and roles in test_api",
        "GET /api/v1/points": "takes a customer: scope and roles in test_api",
        "POST /api/v1/points": "takes a customer: scope and roles in test_api",
        "POST /api/v1/coupons": "takes a customer: scope and roles in test_api",
        "POST /api/v1/coupons/{code}/redeem": "keyed by a coupon code: scope, roles and the race in test_api/test_services",
        "PUT /api/v1/bill-loyalty": "takes a customer: scope and roles in test_api and test_bills",
    }
