"""What parts announces (``core.events``): service and analytics may subscribe."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class StockMoved:
    movement_id: int
    part_id: int
    kind: str
    quantity: str  # signed decimal as text
    on_hand_after: str
    reference_kind: str
    reference_id: int | None


@dataclass(frozen=True)
class StockLow:
    part_id: int
    available: str
    reorder_point: str


@dataclass(frozen=True)
class OrderReceived:
    order_id: int
    status: str


STOCK_MOVED = define_event("parts.stock_moved", StockMoved, _("Stock of a part changed (a ledger row was written)."))
STOCK_LOW = define_event("parts.stock_low", StockLow, _("A part fell to its reorder point."))
ORDER_RECEIVED = define_event("parts.order_received", OrderReceived, _("Parts of a purchase order were received."))
