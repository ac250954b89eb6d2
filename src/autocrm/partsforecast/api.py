"""/api/v1/parts-forecast (the next four weeks per part), /parts-forecast/items (the store's item →
part mapping) and /parts-forecast/purchase-order (a draft order from the suggestions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeAlias

from ninja import Query, Router, Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.permissions import require_model
from autocrm.parts.selectors import supplier_get

from . import selectors, services
from .models import ItemPart

router = Router(tags=["parts"])
PREFIX = ""
Number: TypeAlias = str | int | float


def _d(value: Decimal) -> str:
    return f"{value:.2f}"


class ForecastPart(Schema):
    part: int
    part_number: str
    name: str
    unit: str
    weeks: list[str]  # plan + other demand of each week
    plan: list[str]  # the due list's share of each week
    other_per_week: str
    need: str
    on_hand: str
    on_order: str
    reserved: str
    suggested: str
    supplier: int | None


class ForecastOut(Schema):
    store: int
    starts_on: dt.date
    weeks: int
    show_rate: str
    show_rate_measured: bool
    parts: list[ForecastPart]


class ForecastQuery(Schema):
    store: str | None = None


class ItemPartIn(Schema):
    item: str | None = None
    part_number: str | None = None
    quantity: Number | None = None


class ItemPartOut(Schema):
    item: str
    part: int
    part_number: str
    quantity: str


class OrderFromForecastIn(Schema):
    supplier: Number | None = None


class OrderCreatedOut(Schema):
    id: int
    number: str
    lines: int


def _out(result: selectors.StoreForecast) -> dict[str, Any]:
    data = selectors.forecast_out(result)
    data["show_rate"] = _d(data["show_rate"])
    for p in data["parts"]:
        p["weeks"], p["plan"] = [_d(v) for v in p["weeks"]], [_d(v) for v in p["plan"]]
        for key in ("other_per_week", "need", "on_hand", "on_order", "reserved", "suggested"):
            p[key] = _d(p[key])
    return data


@router.get("/parts-forecast", response=ForecastOut)
def parts_forecast(request: ActorRequest, filters: Query[ForecastQuery]) -> dict[str, Any]:
    """Each part's expected demand in each of the next four weeks (the due list × the store's
    show rate × the item's parts, plus the part's smoothed other issues), its stock and the
    suggested order quantity. ``store``: a director's other store."""
    return _out(selectors.store_forecast(actor=request.actor, store=filters.store))


def _item_out(row: ItemPart) -> dict[str, Any]:
    return {"item": row.item, "part": row.part_id, "part_number": row.part.part_number, "quantity": _d(row.quantity)}


@router.get("/parts-forecast/items", response=list[ItemPartOut])
def item_parts(request: ActorRequest) -> list[dict[str, Any]]:
    """The store's mapping: which parts (and how much) each plan item uses."""
    require_model(request.actor, "view", ItemPart)
    _mapping, rows = selectors.mapping_of(request.actor.require_store_id())
    return [_item_out(r) for r in rows]


@router.put("/parts-forecast/items", response={200: ItemPartOut, 204: None})
def item_part_set(request: ActorRequest, payload: ItemPartIn) -> Any:
    """Set the quantity of a part an item uses (quantity 0 removes it: 204)."""
    row = services.item_part_set(actor=request.actor, data=payload.dict())
    if row is None:
        return Status(204, None)
    return _item_out(row)


@router.post("/parts-forecast/purchase-order", response={201: OrderCreatedOut})
def order_from_forecast(request: ActorRequest, payload: OrderFromForecastIn) -> Any:
    """A draft purchase order to ``supplier`` for its parts the forecast suggests ordering."""
    from autocrm.parts.models import PurchaseOrder
    from autocrm.parts.selectors import _id

    require_model(request.actor, "add", PurchaseOrder)  # before the supplier is looked up: 403, not 404
    supplier = supplier_get(actor=request.actor, pk=_id(payload.supplier, "supplier"))
    order = services.po_from_forecast(actor=request.actor, supplier=supplier)
    return Status(201, {"id": order.pk, "number": order.number, "lines": order.lines.count()})
