"""Demo prepaid plans (保养套餐), extended warranty (延保), accessories (精品/改装) and insurer direct
billing (直赔) (ADR 0025), after the after-sales demo: per store three plan products, plans
sold to a handful of cars and one used on an open repair order, an accessory list with one sold,
and insurer claims on repair orders waiting for payment (one paid), made through the services."""

from __future__ import annotations

import contextlib
import random
from typing import Any

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.errors import DomainError
from autocrm.core.roles import Role
from autocrm.service import accessories, insurance, plans
from autocrm.service.choices import RoStatus
from autocrm.service.models import InsuranceClaim, PlanProduct, RepairOrder
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import Vehicle

PRODUCTS = (
    {"code": "BY3", "name": "三次保养套餐", "kind": "maintenance", "services": 3, "validity_months": 24,
     "price": "1280.00", "covered_codes": ["OIL", "AIR"], "coverage": "机油机滤、空气滤芯及工时"},
    {"code": "SB1", "name": "首保赠送", "kind": "maintenance", "services": 1, "validity_months": 12, "price": "0",
     "covered_codes": ["OIL", "INSP"], "give_with_delivery": True, "coverage": "5000公里首保"},
    {"code": "YB2", "name": "延保两年/10万公里", "kind": "warranty", "validity_months": 24, "warranty_km": 100000,
     "price": "3680.00", "covered_codes": ["ENG", "GBX"], "coverage": "发动机、变速箱主要部件"},
)  # fmt: skip
ACCESSORIES = (
    ("MAT", "全包围脚垫", "accessory", "680.00", "310.00"),
    ("FILM", "隔热膜（全车）", "accessory", "1980.00", "760.00"),
    ("DVR", "行车记录仪", "accessory", "899.00", "420.00"),
    ("RACK", "车顶行李架", "modification", "2600.00", "1450.00"),
    ("RIM", "18寸轮毂升级", "modification", "6800.00", "4100.00"),
)


def _first(store: Store, *roles: str) -> User | None:
    ids = Membership.objects.filter(store=store, role__in=roles, is_active=True).values_list("user_id", flat=True)
    return User.objects.filter(pk__in=list(ids)).order_by("pk").first()


def demo_plans_store(store: Store, *, seed: int = 42) -> int:
    """Plans, accessories and claims for one store; 0 when it has plan products already."""
    if PlanProduct.objects.filter(store=store).exists():
        return 0
    keeper_user, advisor_user = _first(store, Role.SERVICE_MANAGER, Role.MANAGER), _first(store, Role.ADVISOR)
    if keeper_user is None or advisor_user is None:
        return 0
    keeper = actor_build(user=keeper_user, store_id=store.pk)
    advisor = actor_build(user=advisor_user, store_id=store.pk)
    rng = random.Random(seed + store.pk)
    products = [plans.plan_product_create(actor=keeper, data=data) for data in PRODUCTS]
    items = [accessories.accessory_create(actor=keeper, data={"code": c, "name": n, "category": k, "price": p,
                                                              "cost": cost}) for c, n, k, p, cost in ACCESSORIES]  # fmt: skip
    made = 0
    open_ros = list(RepairOrder.objects.filter(store=store, status__in=(RoStatus.RECEIVED, RoStatus.DIAGNOSIS))
                    .order_by("pk")[:3])  # fmt: skip
    in_shop = [Vehicle.objects.get(pk=ro.vehicle_id) for ro in open_ros]  # scoped: the repair orders' own cars
    others = [c for c in Vehicle.objects.filter(store=store, customer__isnull=False).order_by("pk")[:10]
              if c not in in_shop][:8]  # fmt: skip
    sales = [(car, products[0]) for car in in_shop] + [(car, products[0] if n % 3 else products[2])
                                                        for n, car in enumerate(others)]  # fmt: skip
    for n, (car, product) in enumerate(sales):
        try:
            plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product,
                                    data={"source": "delivery" if n % 2 else "aftersales"})  # fmt: skip
            made += 1
        except DomainError:
            continue
    for ro in open_ros[:1]:
        plan = plans.vehicle_plan_list(actor=advisor, filters={"vehicle": ro.vehicle_id}).filter(
            product=products[0]).first()  # fmt: skip
        if plan is not None:
            with contextlib.suppress(DomainError):
                plans.plan_apply(actor=advisor, repair_order=ro, plan=plan)
    for ro in open_ros[1:2]:
        with contextlib.suppress(DomainError):
            accessories.accessory_sell(actor=advisor, repair_order=ro, accessory=rng.choice(items), data={})
    waiting = list(RepairOrder.objects.filter(store=store, status=RoStatus.AWAITING_PAYMENT).order_by("pk")[:2])
    for n, ro in enumerate(waiting):
        try:
            claim = insurance.claim_set(actor=advisor, repair_order=ro, data={
                "insurer": ("中国人保", "平安产险")[n % 2], "claim_number": f"DEMO-{store.code}-{ro.pk:05d}",
                "share_kind": "percent" if n % 2 == 0 else "amount",
                "share_value": "80" if n % 2 == 0 else "300.00"})  # fmt: skip
        except DomainError:
            continue
        if n == 1 and claim.insurer_amount is not None:
            insurance.claim_mark_paid(actor=keeper, claim=claim)
    return made + InsuranceClaim.objects.filter(store=store).count()


def demo_plans_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook, after the after-sales demo (needs its repair orders): only with the
    generated customers (not in the bare test demo)."""
    if not int(options.get("customers") or 0) // 100:
        return
    with audit.acting_as(None):
        for store in stores.values():
            demo_plans_store(store, seed=int(options.get("seed") or 42))
