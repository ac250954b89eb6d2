"""/api/v1/parts, /stock-movements, /purchase-orders, /suppliers: thin handlers over
parts.services and parts.selectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import Access, field_access, present, require_model

from . import selectors, services
from .models import Part, PurchaseOrder, StockMovement, Supplier
from .schemas import (
    MovementIn,
    MovementOut,
    MovementPage,
    OrderIn,
    OrderOut,
    OrderPage,
    PartIn,
    PartOut,
    PartPage,
    PartPatch,
    ReceiveIn,
    SupplierIn,
    SupplierOut,
)

router = Router(tags=["parts"])
PREFIX = ""
KINDS = ("receipt", "adjustment", "transfer")


def _d(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def part_out(actor: Actor, part: Part) -> dict[str, Any]:
    return {
        "id": part.pk, "store": part.store_id, "part_number": part.part_number, "name": part.name,
        "brand": part.brand, "unit": part.unit, "category": part.category, "price": _d(part.price),
        "cost": _d(present(actor, part, "cost")), "on_hand": _d(part.on_hand), "reserved": _d(part.reserved),
        "available": _d(part.available), "reorder_point": _d(part.reorder_point), "reorder_qty": _d(part.reorder_qty),
        "low": part.is_low, "supplier": part.supplier_id, "is_active": part.is_active,
    }  # fmt: skip


def movement_out(actor: Actor, m: StockMovement, show_cost: bool) -> dict[str, Any]:
    return {
        "id": m.pk, "store": m.store_id, "part": m.part_id, "kind": m.kind, "quantity": _d(m.quantity),
        "on_hand_after": _d(m.on_hand_after), "unit_cost": _d(m.unit_cost) if show_cost else None,
        "reference_kind": m.reference_kind, "reference_id": m.reference_id, "reason": m.reason,
        "other_store": m.other_store_id, "created_by": m.created_by_id, "created_at": m.created_at,
    }  # fmt: skip


def order_out(order: PurchaseOrder) -> dict[str, Any]:
    lines = [
        {"id": line.pk, "part": line.part_id, "part_number": line.part.part_number, "quantity": _d(line.quantity),
         "received": _d(line.received), "unit_cost": _d(line.unit_cost)}
        for line in order.lines.select_related("part").order_by("pk")
    ]  # fmt: skip
    return {
        "id": order.pk, "store": order.store_id, "number": order.number, "supplier": order.supplier_id,
        "supplier_name": order.supplier.name, "status": order.status, "note": order.note,
        "expected_date": order.expected_date, "sent_at": order.sent_at, "received_at": order.received_at,
        "lines": lines,
    }  # fmt: skip


def _cost_visible(actor: Actor) -> bool:
    return field_access(actor, Part, "cost") is Access.FULL


# --- parts ---------------------------------------------------------------------------------------


@router.get("/parts", response=PartPage)
def part_list(
    request: ActorRequest,
    q: str | None = None,
    category: str | None = None,
    low: bool | None = None,
    store: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The catalogue with stock, by part number; ``low=true``: at or below the reorder point."""
    filters = {"q": q, "category": category, "low": low, "store": store}
    page = selectors.part_page(actor=request.actor, filters=filters, limit=limit, cursor=cursor)
    return {"items": [part_out(request.actor, p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/parts", response={201: PartOut})
def part_create(request: ActorRequest, payload: PartIn) -> Status[dict[str, Any]]:
    part = services.part_create(actor=request.actor, data=payload.dict(exclude_none=True))
    return Status(201, part_out(request.actor, part))


@router.get("/parts/{int:part_id}", response=PartOut)
def part_get(request: ActorRequest, part_id: int) -> dict[str, Any]:
    return part_out(request.actor, selectors.part_get(actor=request.actor, pk=part_id))


@router.patch("/parts/{int:part_id}", response=PartOut)
def part_update(request: ActorRequest, part_id: int, payload: PartPatch) -> dict[str, Any]:
    part = selectors.part_get(actor=request.actor, pk=part_id)
    part = services.part_update(actor=request.actor, part=part, data=payload.dict(exclude_unset=True))
    return part_out(request.actor, selectors.part_get(actor=request.actor, pk=part.pk))


# --- the ledger ----------------------------------------------------------------------------------


@router.get("/stock-movements", response=MovementPage)
def movement_list(
    request: ActorRequest,
    part: int | None = None,
    kind: str | None = None,
    reference_kind: str | None = None,
    reference_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Ledger rows, newest first; ``part``, ``kind``, ``reference_kind`` + ``reference_id`` narrow it."""
    filters = {"part": part, "kind": kind, "reference_kind": reference_kind, "reference_id": reference_id}
    page = selectors.movement_page(actor=request.actor, filters=filters, limit=limit, cursor=cursor)
    show = _cost_visible(request.actor)
    return {"items": [movement_out(request.actor, m, show) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/stock-movements", response={200: MovementOut, 201: MovementOut})
def movement_create(request: ActorRequest, payload: MovementIn) -> Status[dict[str, Any]]:
    """Record a receipt, an adjustment or a transfer (the outgoing row is answered)."""
    actor = request.actor
    require_model(actor, "view", Part)
    if payload.kind not in KINDS:
        raise ValidationError(fields={"kind": [_("Choose one of the listed values.")]})
    if isinstance(payload.part, bool) or not isinstance(payload.part, int):
        raise ValidationError(fields={"part": [_("Choose a part of the store's catalogue.")]})
    part = selectors.part_get(actor=actor, pk=payload.part)
    key = request.headers.get("Idempotency-Key") or payload.idempotency_key or ""
    replay = services.replayed(part.store_id, key)
    if payload.kind == "receipt":
        movement = services.stock_receive(actor=actor, part=part, qty=payload.quantity, unit_cost=payload.unit_cost,
                                          idempotency_key=key)  # fmt: skip
    elif payload.kind == "adjustment":
        movement = services.stock_adjust(actor=actor, part=part, qty=payload.quantity, reason=payload.reason,
                                         idempotency_key=key)  # fmt: skip
    else:
        movement = services.stock_transfer(actor=actor, part=part, qty=payload.quantity, to_store=payload.to_store,
                                           idempotency_key=key)[0]  # fmt: skip
    return Status(200 if replay else 201, movement_out(actor, movement, _cost_visible(actor)))


# --- suppliers and purchase orders ---------------------------------------------------------------


@router.get("/suppliers", response=list[SupplierOut])
def supplier_list(request: ActorRequest) -> list[Supplier]:
    return list(selectors.supplier_list(actor=request.actor)[:500])


@router.post("/suppliers", response={201: SupplierOut})
def supplier_create(request: ActorRequest, payload: SupplierIn) -> Status[Supplier]:
    return Status(201, services.supplier_create(actor=request.actor, data=payload.dict(exclude_none=True)))


@router.get("/purchase-orders", response=OrderPage)
def po_list(
    request: ActorRequest,
    status: str | None = None,
    supplier: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    page = selectors.po_page(actor=request.actor, filters={"status": status, "supplier": supplier}, limit=limit,
                             cursor=cursor)  # fmt: skip
    return {"items": [order_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/purchase-orders", response={201: OrderOut})
def po_create(request: ActorRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    """A draft order: ``supplier`` and ``lines`` ``[{part, quantity, unit_cost?}]``."""
    require_model(request.actor, "add", PurchaseOrder)
    if isinstance(payload.supplier, bool) or not isinstance(payload.supplier, int):
        raise ValidationError(fields={"supplier": [_("Choose one of the store's suppliers.")]})
    supplier = selectors.supplier_get(actor=request.actor, pk=payload.supplier)
    lines = [line.dict() for line in payload.lines or []]
    order = services.po_create(actor=request.actor, supplier=supplier, lines=lines, note=payload.note or "")
    return Status(201, order_out(selectors.po_get(actor=request.actor, pk=order.pk)))


@router.get("/purchase-orders/{int:order_id}", response=OrderOut)
def po_get(request: ActorRequest, order_id: int) -> dict[str, Any]:
    return order_out(selectors.po_get(actor=request.actor, pk=order_id))


@router.post("/purchase-orders/{int:order_id}/send", response=OrderOut)
def po_send(request: ActorRequest, order_id: int) -> dict[str, Any]:
    order = services.po_send(actor=request.actor, order=selectors.po_get(actor=request.actor, pk=order_id))
    return order_out(selectors.po_get(actor=request.actor, pk=order.pk))


@router.post("/purchase-orders/{int:order_id}/cancel", response=OrderOut)
def po_cancel(request: ActorRequest, order_id: int) -> dict[str, Any]:
    order = services.po_cancel(actor=request.actor, order=selectors.po_get(actor=request.actor, pk=order_id))
    return order_out(selectors.po_get(actor=request.actor, pk=order.pk))


@router.post("/purchase-orders/{int:order_id}/receive", response=OrderOut)
def po_receive(request: ActorRequest, order_id: int, payload: ReceiveIn) -> dict[str, Any]:
    """Goods in against the order: what arrived per line id, or everything outstanding."""
    order = selectors.po_get(actor=request.actor, pk=order_id)
    order = services.po_receive(actor=request.actor, order=order, quantities=payload.lines)
    return order_out(selectors.po_get(actor=request.actor, pk=order.pk))
