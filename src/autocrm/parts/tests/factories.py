"""Test data through the real services."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from autocrm.customers.tests.factories import actor_for
from autocrm.parts.models import Part, Supplier
from autocrm.parts.services import part_create, stock_receive, supplier_create

_seq = itertools.count(1)


def make_part(store: str = "a", *, on_hand: Any = 0, **data: Any) -> Part:
    keeper = actor_for(f"service_manager_{store}", store)
    data.setdefault("part_number", f"T-{next(_seq):05d}")
    data.setdefault("name", "机油滤清器")
    data.setdefault("price", "45.00")
    data.setdefault("cost", "22.50")
    part = part_create(actor=keeper, data=data)
    if Decimal(str(on_hand)) > 0:
        stock_receive(actor=keeper, part=part, qty=on_hand)
        part.refresh_from_db()
    return part


def make_supplier(store: str = "a", **data: Any) -> Supplier:
    data.setdefault("name", f"供应商{next(_seq)}")
    data.setdefault("lead_time_days", 2)
    return supplier_create(actor=actor_for(f"service_manager_{store}", store), data=data)


__all__ = ["actor_for", "make_part", "make_supplier"]
