"""Plans, insurer claims and accessories (ADR 0025) in the inherited role × scope matrix: every
role, on a record of the actor's own, a colleague's, another store's, and a missing one. The
pages and operations with two records per call (a repair order and a plan, an accessory) are
exempt here and tested in test_views_plans / test_api_plans."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.service.models import InsuranceClaim, PlanProduct, VehiclePlan

from .test_multistore import _car, build_ro

R, PP, VP, IC, AC = ("service.repairorder", "service.planproduct", "service.vehicleplan", "service.insuranceclaim",
                     "service.accessory")  # fmt: skip
_serial = itertools.count(1)


def build_product(store, owner):
    return PlanProduct.objects.create(store=store, code=f"M{next(_serial)}", name="保养套餐", services=3,
                                      covered_codes=["OIL"])  # fmt: skip


def build_plan(store, owner):
    _customer, vehicle = _car(store)
    today = timezone.localdate()
    return VehiclePlan.objects.create(store=store, product=build_product(store, owner), vehicle=vehicle,
                                      customer_id=vehicle.customer_id, price=Decimal("900.00"), services_total=3,
                                      remaining=3, starts_on=today, expires_on=today + dt.timedelta(days=700))  # fmt: skip


def build_claim(store, owner):
    return InsuranceClaim.objects.create(store=store, repair_order=build_ro(store, owner), insurer="人保",
                                         claim_number=f"C{next(_serial)}", share_kind="percent",
                                         share_value=Decimal("80"))  # fmt: skip


class TestPlansMultistore(MultistoreMatrix):
    builders = {R: build_ro, PP: build_product, VP: build_plan, IC: build_claim}
    ops = [
        Op("service:plan_list", VP, "view", record=False),
        Op("service:vehicle_plan_cancel", VP, "cancel", method="POST", ok=302, fresh=True, data={"reason": "退"}),
        Op("service:ro_extras", R, "view"),
        Op("service:claim_list", IC, "view", record=False),
        # allowed: past the checks, a claim without a bill is refused with a message
        Op("service:claim_paid", IC, "pay", method="POST", ok=302, fresh=True),
        Op("service:accessory_list", AC, "view", record=False),
        Op("/service-plans", PP, "view", api=True, record=False),
        Op("/service-plans/{pk}", PP, "view", api=True),
        Op("/vehicle-plans", VP, "view", api=True, record=False),
        Op("/vehicle-plans/{pk}", VP, "view", api=True),
        Op("/vehicle-plans/{pk}/cancel", VP, "cancel", api=True, method="POST", fresh=True, data={"reason": "退"}),
        Op("/insurer-claims", IC, "view", api=True, record=False),
        Op("/insurer-claims/{pk}", IC, "view", api=True),
        # allowed: past the checks, a claim without a bill is a 409
        Op("/insurer-claims/{pk}/paid", IC, "pay", api=True, method="POST", ok=409, fresh=True),
        Op("/accessories", AC, "view", api=True, record=False),
    ]
