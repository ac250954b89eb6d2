"""Prepaid maintenance plans (保养套餐) and extended warranty (延保): the products a store sells or
gives with a car, a vehicle's plans and their balance, consumption visit by visit on the repair
order, expiry, cancellation with a refund (ADR 0025).

- **Selling**: :func:`vehicle_plan_sell` (after-sales, or at delivery with ``source=delivery``);
  products with ``give_with_delivery`` are given to every car the store delivers, from the
  ``sales.deal_delivered`` event (service does not import sales: siblings talk through events).
- **Consumption**: :func:`plan_apply` puts a plan on a repair order. The visit is taken from the
  balance there and then, by one conditional UPDATE (``remaining > 0``), so two repair orders
  taking the last service at once: one wins, the other gets a 409. The ``plan_use_once``
  constraint keeps it to once per repair order; making the bill again does not touch the balance.
  :func:`plan_unapply` gives the visit back while the lines may still change.
- **The bill**: the ``service.plans`` discount rule (order 5, before loyalty's tier discount)
  takes off the amount of the approved lines the plans cover — jobs whose code the product lists
  and, with ``cover_parts``, the parts lines attached to them — so a covered service bills zero.
- **Expiry**: a plan past ``expires_on`` (or a warranty past ``km_limit``) cannot be applied;
  :func:`plans_expire` marks them (the nightly sweep and the list pages call it lazily).
- **Cancellation**: :func:`vehicle_plan_cancel` (service manager, manager) with a reason and a
  refund (default pro rata: price × services left ÷ services, or × days left ÷ days for a
  warranty, to the fen), audited.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, ValidationError
from autocrm.core.permissions import Scope, follow_parent, get_in_scope, register, require, require_model
from autocrm.core.roles import Role
from autocrm.vehicles.models import Vehicle

from . import billing
from .choices import Approval, RoStatus
from .choices_plans import PlanKind, PlanSource, VehiclePlanStatus
from .models import Job, PartLine, PlanProduct, PlanUse, RepairOrder, VehiclePlan

log = logging.getLogger(__name__)
FEN = Decimal("0.01")
PLAN_ORDER = 5  # before loyalty's tier discount (billing.TIER = 10)
EDITABLE = (RoStatus.RECEIVED, RoStatus.DIAGNOSIS, RoStatus.AWAITING_APPROVAL, RoStatus.IN_REPAIR,
            RoStatus.QUALITY_CHECK)  # fmt: skip

register(
    "service.planproduct",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.vehicleplan",
    {
        Role.ADVISOR: ("view add", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add cancel export", Scope.STORE),
        Role.MANAGER: ("view add cancel export", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
follow_parent("service.planuse", "service.repairorder")


def _conflict(field: str, message: Any) -> Conflict:
    return Conflict(message, fields={field: [message]})


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


# --- products -------------------------------------------------------------------------------------


def _codes(errors: inputs.Errors, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    if not isinstance(value, list | tuple) or len(value) > 50:
        errors.add("covered_codes", _("Give a list of job codes."))
        return []
    codes: list[str] = []
    for code in value:
        if not isinstance(code, str) or "\x00" in code or len(code.strip()) > 30:
            errors.add("covered_codes", _("Give a list of job codes."))
            return []
        if code.strip() and code.strip() not in codes:
            codes.append(code.strip())
    return codes


@transaction.atomic
def plan_product_create(*, actor: Actor, data: Mapping[str, Any]) -> PlanProduct:
    """A plan product of the store: ``code``, ``name``, ``kind`` (maintenance: ``services`` ≥ 1;
    warranty: ``warranty_km`` optional), ``validity_months``, ``price``, ``covered_codes``,
    ``cover_parts``, ``coverage``, ``give_with_delivery``."""
    require_model(actor, "add", PlanProduct)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    code = inputs.text(errors, data, "code", 30, required=True)
    name = inputs.text(errors, data, "name", 100, required=True)
    kind = inputs.choice(errors, data, "kind", PlanKind, default=PlanKind.MAINTENANCE)
    services = inputs.integer(errors, data.get("services"), "services", 1, 100)
    if kind == PlanKind.MAINTENANCE and services is None and "services" not in errors.fields:
        errors.add("services", _("This field is required."))
    months = inputs.integer(errors, data.get("validity_months"), "validity_months", 1, 120)
    price = inputs.money(errors, data.get("price"), "price", high=Decimal("9999999.99"))
    km = inputs.integer(errors, data.get("warranty_km"), "warranty_km", 1, 1_000_000)
    coverage = inputs.text(errors, data, "coverage", 300)
    codes = _codes(errors, data.get("covered_codes"))
    if code and PlanProduct.objects.filter(store_id=store_id, code=code).exists():  # scoped: the actor's store
        errors.add("code", _("A plan with this code exists already."))
    errors.raise_if_any()
    product = PlanProduct.objects.create(
        store_id=store_id, code=code, name=name, kind=kind, services=services if kind == PlanKind.MAINTENANCE else None,
        validity_months=months or (24 if kind == PlanKind.MAINTENANCE else 36), price=price or Decimal("0.00"),
        covered_codes=codes, cover_parts=inputs.boolean(data.get("cover_parts", True)),
        warranty_km=km if kind == PlanKind.WARRANTY else None, coverage=coverage,
        give_with_delivery=inputs.boolean(data.get("give_with_delivery")),
    )  # fmt: skip
    audit.record("plan_product.create", obj=product, actor=actor)
    return product


def plan_product_list(*, actor: Actor, active: bool | None = None) -> QuerySet[PlanProduct]:
    require_model(actor, "view", PlanProduct)
    qs = PlanProduct.objects.for_actor(actor, "view").order_by("kind", "code")
    return qs.filter(is_active=active) if active is not None else qs


def plan_product_get(*, actor: Actor, pk: Any, action: str = "view") -> PlanProduct:
    return get_in_scope(PlanProduct.objects.all(), actor, pk, action)


# --- a vehicle's plans ----------------------------------------------------------------------------


def _make_plan(*, product: PlanProduct, vehicle: Vehicle, source: str, price: Decimal, starts_on: dt.date,
               sold_by: int | None) -> VehiclePlan:  # fmt: skip
    km_limit = None
    if product.kind == PlanKind.WARRANTY and product.warranty_km:
        from autocrm.vehicles.models import OdometerReading

        last = OdometerReading.objects.filter(vehicle=vehicle).order_by("-at", "-id").values_list(
            "km", flat=True).first()  # fmt: skip
        km_limit = (last or 0) + product.warranty_km
    return VehiclePlan.objects.create(
        store_id=product.store_id, product=product, vehicle=vehicle, customer_id=vehicle.customer_id, source=source,
        price=price, services_total=product.services, remaining=product.services, starts_on=starts_on,
        expires_on=add_months(starts_on, product.validity_months), km_limit=km_limit, sold_by_id=sold_by,
    )  # fmt: skip


@transaction.atomic
def vehicle_plan_sell(*, actor: Actor, vehicle: Vehicle, product: PlanProduct, data: Mapping[str, Any]) -> VehiclePlan:
    """Sell (or give: ``price`` 0) a plan to a vehicle: ``source`` (delivery or after-sales, the
    default), ``price`` (default the product's), ``starts_on`` (default today)."""
    require_model(actor, "add", VehiclePlan)
    require(actor, "view", vehicle)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    inputs.same_store(errors, vehicle, store_id, "vehicle")
    inputs.same_store(errors, product, store_id, "product")
    if not product.is_active:
        errors.add("product", _("This plan is no longer sold."))
    source = inputs.choice(errors, data, "source", PlanSource, default=PlanSource.AFTERSALES)
    price = inputs.money(errors, data.get("price"), "price", high=Decimal("9999999.99"))
    starts_on = inputs.date(errors, data.get("starts_on"), "starts_on")
    errors.raise_if_any()
    plan = _make_plan(product=product, vehicle=vehicle, source=source,
                      price=product.price if price is None else price, starts_on=starts_on or timezone.localdate(),
                      sold_by=actor.user_id)  # fmt: skip
    audit.record("vehicle_plan.sell", obj=plan, actor=actor, extra={"price": str(plan.price), "source": source})
    return plan


def on_deal_delivered(event: Any) -> None:
    """Give the store's ``give_with_delivery`` plans to the delivered car (once per product)."""
    payload = event.payload
    vehicle = Vehicle.objects.filter(pk=payload.vehicle_id).first()  # scoped: the event's own record
    if vehicle is None:
        return
    products = PlanProduct.objects.filter(store_id=vehicle.store_id, give_with_delivery=True,  # scoped: its store
                                          is_active=True)  # fmt: skip
    for product in products:
        if VehiclePlan.objects.filter(product=product, vehicle=vehicle, source=PlanSource.DELIVERY).exists():
            continue
        plan = _make_plan(product=product, vehicle=vehicle, source=PlanSource.DELIVERY, price=Decimal("0.00"),
                          starts_on=timezone.localdate(), sold_by=None)  # fmt: skip
        audit.record("vehicle_plan.give", obj=plan, extra={"deal": payload.deal_id})


def effective_status(plan: VehiclePlan, *, today: dt.date | None = None, km: int | None = None) -> str:
    today = today or timezone.localdate()
    if plan.status in (VehiclePlanStatus.CANCELLED, VehiclePlanStatus.USED_UP):
        return plan.status
    if plan.expires_on < today or (km is not None and plan.km_limit is not None and km > plan.km_limit):
        return VehiclePlanStatus.EXPIRED
    return plan.status


def plans_expire(*, store_id: int | None = None, today: dt.date | None = None) -> int:
    """Mark the active plans past their end date as expired; how many."""
    qs = VehiclePlan.objects.filter(status=VehiclePlanStatus.ACTIVE,  # scoped: a sweep of every store, or one
                                    expires_on__lt=today or timezone.localdate())  # fmt: skip
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    return qs.update(status=VehiclePlanStatus.EXPIRED, updated_at=timezone.now())


def vehicle_plan_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[VehiclePlan]:
    require_model(actor, "view", VehiclePlan)
    filters = filters or {}
    qs = VehiclePlan.objects.for_actor(actor, "view").select_related("product", "vehicle", "customer")
    if filters.get("vehicle") not in (None, ""):
        errors = inputs.Errors()
        vehicle_id = inputs.integer(errors, filters["vehicle"], "vehicle", 1, 2**62)
        errors.raise_if_any()
        assert vehicle_id is not None
        qs = qs.filter(vehicle_id=vehicle_id)
    status = filters.get("status")
    if status not in (None, ""):
        if status not in VehiclePlanStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def vehicle_plan_get(*, actor: Actor, pk: Any, action: str = "view") -> VehiclePlan:
    return get_in_scope(VehiclePlan.objects.select_related("product", "vehicle"), actor, pk, action)


def plans_for_vehicle(*, actor: Actor, vehicle_id: int) -> list[VehiclePlan]:
    """The vehicle's plans for its 360 page and repair orders, usable ones first."""
    plans = list(vehicle_plan_list(actor=actor, filters={"vehicle": vehicle_id}))
    for plan in plans:
        plan.current_status = effective_status(plan)  # type: ignore[attr-defined]
    return sorted(plans, key=lambda p: (p.current_status != VehiclePlanStatus.ACTIVE, p.expires_on))  # type: ignore[attr-defined]


def refund_due(plan: VehiclePlan, *, today: dt.date | None = None) -> Decimal:
    """The pro-rata refund of a plan: price × services left ÷ services (a maintenance plan) or ×
    days left ÷ days (a warranty), rounded half up to the fen."""
    if plan.services_total:
        share = Decimal(plan.remaining or 0) / Decimal(plan.services_total)
    else:
        today = today or timezone.localdate()
        days = max((plan.expires_on - plan.starts_on).days, 1)
        left = min(max((plan.expires_on - max(today, plan.starts_on)).days, 0), days)
        share = Decimal(left) / Decimal(days)
    return (plan.price * share).quantize(FEN, rounding=ROUND_HALF_UP)


@transaction.atomic
def vehicle_plan_cancel(*, actor: Actor, plan: VehiclePlan, data: Mapping[str, Any]) -> VehiclePlan:
    """Cancel a plan with a ``reason`` (required) and a ``refund`` (default :func:`refund_due`,
    at most the price paid). A cancelled plan is a 409."""
    plan = VehiclePlan.objects.select_for_update().get(pk=plan.pk)
    require(actor, "cancel", plan)
    errors = inputs.Errors()
    reason = inputs.text(errors, data, "reason", 200, required=True)
    refund = inputs.money(errors, data.get("refund"), "refund", high=plan.price)
    errors.raise_if_any()
    if plan.status == VehiclePlanStatus.CANCELLED:
        raise _conflict("status", _("This plan is cancelled already."))
    refund = refund_due(plan) if refund is None else refund
    before = plan.status
    plan.status, plan.cancelled_at, plan.cancel_reason, plan.refund = (VehiclePlanStatus.CANCELLED, timezone.now(),
                                                                       reason, refund)  # fmt: skip
    plan.save(update_fields=["status", "cancelled_at", "cancel_reason", "refund", "updated_at"])
    audit.record("vehicle_plan.cancel", obj=plan, actor=actor, changes={"status": [before, plan.status]},
                 extra={"refund": str(refund), "reason": reason, "remaining": plan.remaining})  # fmt: skip
    return plan


# --- consumption on the repair order --------------------------------------------------------------


@transaction.atomic
def plan_apply(*, actor: Actor, repair_order: RepairOrder, plan: VehiclePlan) -> PlanUse:
    """Take one visit of ``plan`` for ``repair_order`` (the same vehicle, plan usable: not
    cancelled, used up or expired, the odometer within a warranty's limit). The last visit taken
    by another repair order meanwhile, or the plan already on this one → 409."""
    ro = RepairOrder.objects.select_for_update(of=("self",)).get(pk=repair_order.pk)
    require(actor, "change", ro)
    if ro.status not in EDITABLE:
        raise _conflict("status", _("Plans can no longer be applied at this status."))
    if plan.vehicle_id != ro.vehicle_id or plan.store_id != ro.store_id:
        raise ValidationError(fields={"plan": [_("Choose a plan of this repair order's vehicle.")]})
    status = effective_status(plan, km=ro.odometer_km)
    if status != VehiclePlanStatus.ACTIVE:
        raise _conflict(
            "plan", _("This plan cannot be used: %(status)s.") % {"status": VehiclePlanStatus(status).label}
        )
    if PlanUse.objects.filter(vehicle_plan=plan, repair_order=ro).exists():
        raise _conflict("plan", _("This plan is on this repair order already."))
    if plan.remaining is not None:
        taken = VehiclePlan.objects.filter(pk=plan.pk, status=VehiclePlanStatus.ACTIVE, remaining__gt=0).update(
            remaining=F("remaining") - 1, updated_at=timezone.now())  # fmt: skip
        if not taken:
            raise _conflict("plan", _("The last service of this plan was just used."))
        VehiclePlan.objects.filter(pk=plan.pk, remaining=0).update(status=VehiclePlanStatus.USED_UP)
    try:
        with transaction.atomic():
            use = PlanUse.objects.create(store_id=ro.store_id, vehicle_plan=plan, repair_order=ro, by_id=actor.user_id)
    except IntegrityError:
        raise _conflict("plan", _("This plan is on this repair order already.")) from None
    audit.record("plan.apply", obj=use, actor=actor, extra={"repair_order": ro.pk, "plan": plan.pk})
    return use


@transaction.atomic
def plan_unapply(*, actor: Actor, repair_order: RepairOrder, plan: VehiclePlan) -> None:
    """Take the plan off the repair order and give its visit back (while lines may change)."""
    ro = RepairOrder.objects.select_for_update(of=("self",)).get(pk=repair_order.pk)
    require(actor, "change", ro)
    if ro.status not in EDITABLE:
        raise _conflict("status", _("Plans can no longer be changed at this status."))
    deleted, _rows = PlanUse.objects.filter(vehicle_plan=plan, repair_order=ro).delete()
    if not deleted:
        raise ValidationError(fields={"plan": [_("This plan is not on this repair order.")]})
    if plan.remaining is not None:
        VehiclePlan.objects.filter(pk=plan.pk).update(remaining=F("remaining") + 1, updated_at=timezone.now())
        VehiclePlan.objects.filter(pk=plan.pk, status=VehiclePlanStatus.USED_UP).update(
            status=VehiclePlanStatus.ACTIVE)  # fmt: skip
    audit.record("plan.unapply", obj=plan, actor=actor, extra={"repair_order": ro.pk})


def uses_of(repair_order: RepairOrder) -> list[PlanUse]:
    return list(PlanUse.objects.filter(repair_order=repair_order).select_related("vehicle_plan__product"))


def covered_amount(repair_order_id: int, products: list[PlanProduct]) -> Decimal:
    """What the plans cover of the repair order's approved lines, to the fen: jobs whose code a
    product lists, and (``cover_parts``) the parts lines attached to those jobs."""
    codes = {code for p in products for code in (p.covered_codes or [])}
    with_parts = {code for p in products if p.cover_parts for code in (p.covered_codes or [])}
    jobs = list(Job.objects.filter(repair_order_id=repair_order_id, approval=Approval.APPROVED, code__in=codes))
    amount = sum((billing.line_amount(j.hours, j.rate) for j in jobs), billing.ZERO)
    part_jobs = [j.pk for j in jobs if j.code in with_parts]
    if part_jobs:
        parts = PartLine.objects.filter(repair_order_id=repair_order_id, approval=Approval.APPROVED,
                                        job_id__in=part_jobs)  # fmt: skip
        amount += sum((billing.line_amount(p.quantity, p.unit_price) for p in parts), billing.ZERO)
    return amount


def plan_discount(ctx: billing.BillContext) -> billing.Discount | None:
    uses = list(PlanUse.objects.filter(repair_order_id=ctx.repair_order_id).select_related("vehicle_plan__product")
                .order_by("id"))  # fmt: skip
    if not uses:
        return None
    products = [u.vehicle_plan.product for u in uses]
    amount = covered_amount(ctx.repair_order_id, products)
    if amount <= 0:
        return None
    code = "plan:" + ",".join(str(u.vehicle_plan_id) for u in uses)
    label = "、".join(p.name for p in products)
    return billing.Discount(code=code, label=label, amount=amount)


def install() -> None:
    """Register the discount rule and the delivery hook (``ServiceConfig.ready``)."""
    from autocrm.core.events import subscribe

    billing.register_discount(billing.DiscountRule("service.plans", PLAN_ORDER, plan_discount))
    subscribe("sales.deal_delivered", on_deal_delivered, key="service.plans.on_deal_delivered")
