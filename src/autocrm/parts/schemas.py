"""API schemas of parts. Money and quantities travel as decimal strings ("1280.00", "4.50");
the services parse and check every value (a 400 naming the field), so the schemas take strings
or numbers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeAlias

from ninja import Schema

from autocrm.core.api import choice

from .choices import Category, Unit

if TYPE_CHECKING:
    UnitChoice: TypeAlias = str
    CategoryChoice: TypeAlias = str
else:
    UnitChoice = choice(Unit)
    CategoryChoice = choice(Category)

Number: TypeAlias = str | int | float


class PartIn(Schema):
    part_number: str
    name: str
    brand: str | None = None
    unit: UnitChoice | None = None
    category: CategoryChoice | None = None
    price: Number | None = None
    cost: Number | None = None
    reorder_point: Number | None = None
    reorder_qty: Number | None = None
    supplier: int | None = None


class PartPatch(Schema):
    part_number: str | None = None
    name: str | None = None
    brand: str | None = None
    unit: UnitChoice | None = None
    category: CategoryChoice | None = None
    price: Number | None = None
    cost: Number | None = None
    reorder_point: Number | None = None
    reorder_qty: Number | None = None
    supplier: int | None = None
    is_active: bool | None = None


class PartOut(Schema):
    id: int
    store: int
    part_number: str
    name: str
    brand: str
    unit: str
    category: str
    price: str | None
    cost: str | None  # null when hidden from the role
    on_hand: str
    reserved: str
    available: str
    reorder_point: str
    reorder_qty: str
    low: bool
    supplier: int | None
    is_active: bool


class PartPage(Schema):
    items: list[PartOut]
    next_cursor: str | None


class MovementIn(Schema):
    """Goods in (``receipt``), a stock count's correction (``adjustment``, signed, with a reason)
    or a transfer to another store of the organization (``transfer``, with ``to_store``). Send an
    ``idempotency_key`` (or the ``Idempotency-Key`` header): the same key again answers the first
    movement with 200 and changes nothing."""

    kind: Any = None
    part: Any = None
    quantity: Any = None
    unit_cost: Any = None
    reason: Any = None
    to_store: Any = None
    idempotency_key: Any = None


class MovementOut(Schema):
    id: int
    store: int
    part: int
    kind: str
    quantity: str
    on_hand_after: str
    unit_cost: str | None  # null when hidden from the role
    reference_kind: str
    reference_id: int | None
    reason: str
    other_store: int | None
    created_by: int | None
    created_at: dt.datetime


class MovementPage(Schema):
    items: list[MovementOut]
    next_cursor: str | None


class LineIn(Schema):
    part: Any = None
    quantity: Any = None
    unit_cost: Any = None


class OrderIn(Schema):
    supplier: Any = None
    lines: list[LineIn] | None = None
    note: str | None = None


class ReceiveIn(Schema):
    """What arrived per line id (``{"12": "4"}``); leave it out to receive everything outstanding."""

    lines: dict[str, Any] | None = None


class LineOut(Schema):
    id: int
    part: int
    part_number: str
    quantity: str
    received: str
    unit_cost: str | None


class OrderOut(Schema):
    id: int
    store: int
    number: str
    supplier: int
    supplier_name: str
    status: str
    note: str
    expected_date: dt.date | None
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    lines: list[LineOut]


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class SupplierIn(Schema):
    name: str
    contact: str | None = None
    phone: str | None = None
    lead_time_days: int | None = None


class SupplierOut(Schema):
    id: int
    name: str
    contact: str
    phone: str
    lead_time_days: int
