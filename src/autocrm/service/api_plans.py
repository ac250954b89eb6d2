"""/api/v1/service-plans, /vehicle-plans (sell, cancel), /repair-orders/{id}/plans (apply,
take off), /insurer-claims (the receivables; mark paid), /repair-orders/{id}/insurer-claim,
/accessories, /repair-orders/{id}/accessories, /accessory-offers (ADR 0025). Thin handlers over
service.plans, service.insurance and service.accessories, on the after-sales router."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.pagination import paginate
from autocrm.core.permissions import get_in_scope
from autocrm.vehicles.models import Vehicle

from . import accessories, insurance, plans, selectors
from .api import router
from .models import Accessory, InsuranceClaim, PlanProduct, VehiclePlan

Number = str | int | float


def _s(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


class PlanProductIn(Schema):
    code: str
    name: str
    kind: str | None = None
    services: int | str | None = None
    validity_months: int | str | None = None
    price: Number | None = None
    covered_codes: list[str] | str | None = None
    cover_parts: bool = True
    warranty_km: int | str | None = None
    coverage: str | None = None
    give_with_delivery: bool = False


class PlanProductOut(Schema):
    id: int
    store: int
    code: str
    name: str
    kind: str
    services: int | None
    validity_months: int
    price: str
    covered_codes: list[str]
    cover_parts: bool
    warranty_km: int | None
    coverage: str
    give_with_delivery: bool
    is_active: bool


class PlanProductPage(Schema):
    items: list[PlanProductOut]
    next_cursor: str | None


class VehiclePlanIn(Schema):
    vehicle: int
    product: int
    source: str | None = None
    price: Number | None = None
    starts_on: str | None = None


class VehiclePlanOut(Schema):
    id: int
    store: int
    product: int
    product_name: str
    kind: str
    vehicle: int
    customer: int | None
    source: str
    price: str
    services_total: int | None
    remaining: int | None
    starts_on: dt.date
    expires_on: dt.date
    km_limit: int | None
    status: str
    refund: str | None
    cancel_reason: str


class VehiclePlanPage(Schema):
    items: list[VehiclePlanOut]
    next_cursor: str | None


class CancelIn(Schema):
    reason: str | None = None
    refund: Number | None = None


class PlanApplyIn(Schema):
    plan: int


class PlanUseOut(Schema):
    id: int
    plan: int
    repair_order: int
    remaining: int | None


class ClaimIn(Schema):
    insurer: str
    claim_number: str
    share_kind: str
    share_value: Number


class ClaimOut(Schema):
    id: int
    store: int
    repair_order: int
    insurer: str
    claim_number: str
    share_kind: str
    share_value: str
    insurer_amount: str | None
    owner_amount: str | None
    status: str
    paid_at: dt.datetime | None


class ClaimPage(Schema):
    items: list[ClaimOut]
    next_cursor: str | None


class AccessoryIn(Schema):
    code: str
    name: str
    category: str | None = None
    price: Number
    cost: Number | None = None
    part: int | None = None


class AccessoryOut(Schema):
    id: int
    code: str
    name: str
    category: str
    price: str
    cost: str | None = None
    margin: str | None = None


class AccessorySellIn(Schema):
    accessory: int
    quantity: Number | None = None
    unit_price: Number | None = None


class AccessorySaleOut(Schema):
    id: int
    accessory: int
    part_line: int
    repair_order: int
    amount: str


class OfferOut(Schema):
    vehicle: int
    vin: str
    plate: str
    customer: int
    customer_name: str
    delivery_date: dt.date
    months: int
    consent: bool


def product_out(p: PlanProduct) -> dict[str, Any]:
    return {"id": p.pk, "store": p.store_id, "code": p.code, "name": p.name, "kind": p.kind, "services": p.services,
            "validity_months": p.validity_months, "price": _s(p.price), "covered_codes": list(p.covered_codes or []),
            "cover_parts": p.cover_parts, "warranty_km": p.warranty_km, "coverage": p.coverage,
            "give_with_delivery": p.give_with_delivery, "is_active": p.is_active}  # fmt: skip


def plan_out(v: VehiclePlan) -> dict[str, Any]:
    return {"id": v.pk, "store": v.store_id, "product": v.product_id, "product_name": v.product.name,
            "kind": v.product.kind, "vehicle": v.vehicle_id, "customer": v.customer_id, "source": v.source,
            "price": _s(v.price), "services_total": v.services_total, "remaining": v.remaining,
            "starts_on": v.starts_on, "expires_on": v.expires_on, "km_limit": v.km_limit,
            "status": plans.effective_status(v), "refund": _s(v.refund), "cancel_reason": v.cancel_reason}  # fmt: skip


def claim_out(c: InsuranceClaim) -> dict[str, Any]:
    return {"id": c.pk, "store": c.store_id, "repair_order": c.repair_order_id, "insurer": c.insurer,
            "claim_number": c.claim_number, "share_kind": c.share_kind, "share_value": _s(c.share_value),
            "insurer_amount": _s(c.insurer_amount), "owner_amount": _s(c.owner_amount), "status": c.status,
            "paid_at": c.paid_at}  # fmt: skip


def accessory_out(a: Accessory, margin: bool) -> dict[str, Any]:
    out = {"id": a.pk, "code": a.code, "name": a.name, "category": a.category, "price": _s(a.price)}
    if margin:
        out |= {"cost": _s(a.cost), "margin": _s(a.price - a.cost)}
    return out


# --- plans ---------------------------------------------------------------------------------------


@router.get("/service-plans", response=PlanProductPage)
def plan_product_list(request: ActorRequest, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
    page = paginate(plans.plan_product_list(actor=request.actor), ordering=("id",), limit=limit, cursor=cursor)
    return {"items": [product_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/service-plans", response={201: PlanProductOut})
def plan_product_create(request: ActorRequest, payload: PlanProductIn) -> Status[dict[str, Any]]:
    return Status(201, product_out(plans.plan_product_create(actor=request.actor, data=payload.dict())))


@router.get("/service-plans/{int:product_id}", response=PlanProductOut)
def plan_product_get(request: ActorRequest, product_id: int) -> dict[str, Any]:
    return product_out(plans.plan_product_get(actor=request.actor, pk=product_id))


@router.get("/vehicle-plans", response=VehiclePlanPage)
def vehicle_plan_list(request: ActorRequest, vehicle: str | None = None, status: str | None = None,
                      limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A store's vehicle plans (``vehicle`` for one car's balance), newest first."""
    qs = plans.vehicle_plan_list(actor=request.actor, filters={"vehicle": vehicle, "status": status})
    page = paginate(qs, ordering=("-created_at", "-id"), limit=limit, cursor=cursor)
    return {"items": [plan_out(v) for v in page.items], "next_cursor": page.next_cursor}


@router.post("/vehicle-plans", response={201: VehiclePlanOut})
def vehicle_plan_sell(request: ActorRequest, payload: VehiclePlanIn) -> Status[dict[str, Any]]:
    actor = request.actor
    vehicle = get_in_scope(Vehicle.objects.all(), actor, payload.vehicle)
    product = plans.plan_product_get(actor=actor, pk=payload.product)
    plan = plans.vehicle_plan_sell(actor=actor, vehicle=vehicle, product=product,
                                   data=payload.dict(exclude={"vehicle", "product"}))  # fmt: skip
    return Status(201, plan_out(plan))


@router.get("/vehicle-plans/{int:plan_id}", response=VehiclePlanOut)
def vehicle_plan_get(request: ActorRequest, plan_id: int) -> dict[str, Any]:
    return plan_out(plans.vehicle_plan_get(actor=request.actor, pk=plan_id))


@router.post("/vehicle-plans/{int:plan_id}/cancel", response=VehiclePlanOut)
def vehicle_plan_cancel(request: ActorRequest, plan_id: int, payload: CancelIn) -> dict[str, Any]:
    """Cancel with a ``reason`` and a ``refund`` (default pro rata); cancelled already → 409."""
    plan = plans.vehicle_plan_get(actor=request.actor, pk=plan_id, action="cancel")
    return plan_out(plans.vehicle_plan_cancel(actor=request.actor, plan=plan, data=payload.dict()))


@router.post("/repair-orders/{int:ro_id}/plans", response={201: PlanUseOut})
def plan_apply(request: ActorRequest, ro_id: int, payload: PlanApplyIn) -> Status[dict[str, Any]]:
    """Use one visit of the vehicle's plan on this repair order (once; the last visit taken
    meanwhile → 409)."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id, action="change")
    plan = plans.vehicle_plan_get(actor=request.actor, pk=payload.plan)
    use = plans.plan_apply(actor=request.actor, repair_order=ro, plan=plan)
    plan.refresh_from_db()
    return Status(201, {"id": use.pk, "plan": plan.pk, "repair_order": ro.pk, "remaining": plan.remaining})


@router.post("/repair-orders/{int:ro_id}/plans/{int:plan_id}/remove", response=VehiclePlanOut)
def plan_unapply(request: ActorRequest, ro_id: int, plan_id: int) -> dict[str, Any]:
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id, action="change")
    plan = plans.vehicle_plan_get(actor=request.actor, pk=plan_id)
    plans.plan_unapply(actor=request.actor, repair_order=ro, plan=plan)
    return plan_out(plans.vehicle_plan_get(actor=request.actor, pk=plan_id))


# --- insurer direct billing ----------------------------------------------------------------------


@router.get("/insurer-claims", response=ClaimPage)
def claim_list(request: ActorRequest, status: str | None = None, limit: int | None = None,
               cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Insurer claims (``status=pending`` for the open receivables), newest first."""
    page = paginate(insurance.claim_list(actor=request.actor, status=status), ordering=("-created_at", "-id"),
                    limit=limit, cursor=cursor)  # fmt: skip
    return {"items": [claim_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.put("/repair-orders/{int:ro_id}/insurer-claim", response=ClaimOut)
def claim_set(request: ActorRequest, ro_id: int, payload: ClaimIn) -> dict[str, Any]:
    """The insurer, claim number and the insurer's share (``amount`` or ``percent``)."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id, action="change")
    return claim_out(insurance.claim_set(actor=request.actor, repair_order=ro, data=payload.dict()))


@router.get("/insurer-claims/{int:claim_id}", response=ClaimOut)
def claim_get(request: ActorRequest, claim_id: int) -> dict[str, Any]:
    return claim_out(insurance.claim_get(actor=request.actor, pk=claim_id))


@router.post("/insurer-claims/{int:claim_id}/paid", response=ClaimOut)
def claim_mark_paid(request: ActorRequest, claim_id: int) -> dict[str, Any]:
    claim = insurance.claim_get(actor=request.actor, pk=claim_id, action="pay")
    return claim_out(insurance.claim_mark_paid(actor=request.actor, claim=claim))


# --- accessories ---------------------------------------------------------------------------------


@router.get("/accessories", response=list[AccessoryOut])
def accessory_list(request: ActorRequest) -> list[dict[str, Any]]:
    """The store's accessories; ``cost`` and ``margin`` only for roles allowed to see them."""
    margin = accessories.shows_margin(request.actor)
    return [accessory_out(a, margin) for a in accessories.accessory_list(actor=request.actor)[:500]]


@router.post("/accessories", response={201: AccessoryOut})
def accessory_create(request: ActorRequest, payload: AccessoryIn) -> Status[dict[str, Any]]:
    item = accessories.accessory_create(actor=request.actor, data=payload.dict())
    return Status(201, accessory_out(item, accessories.shows_margin(request.actor)))


@router.post("/repair-orders/{int:ro_id}/accessories", response={201: AccessorySaleOut})
def accessory_sell(request: ActorRequest, ro_id: int, payload: AccessorySellIn) -> Status[dict[str, Any]]:
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id, action="change")
    item = accessories.accessory_get(actor=request.actor, pk=payload.accessory)
    sale = accessories.accessory_sell(actor=request.actor, repair_order=ro, accessory=item,
                                      data=payload.dict(exclude={"accessory"}))  # fmt: skip
    return Status(201, {"id": sale.pk, "accessory": item.pk, "part_line": sale.part_line_id, "repair_order": ro.pk,
                        "amount": _s(sale.part_line.amount)})  # fmt: skip


@router.get("/accessory-offers", response=list[OfferOut])
def accessory_offers(request: ActorRequest, months_from: str | None = None,
                     months_to: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Owners about six months after delivery (``months_from``–``months_to``, default 5–7) with
    no accessory bought; ``consent``: marketing by SMS allowed."""
    low, high = accessories.offer_window(months_from, months_to)
    rows = accessories.offer_list(actor=request.actor, months_from=low, months_to=high)
    return [{"vehicle": r["vehicle"].pk, "vin": r["vehicle"].vin, "plate": r["vehicle"].plate or "",
             "customer": r["customer"].pk, "customer_name": r["customer"].name, "delivery_date": r["delivery_date"],
             "months": r["months"], "consent": r["consent"]} for r in rows]  # fmt: skip
