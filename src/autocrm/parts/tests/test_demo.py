from decimal import Decimal

import pytest

from autocrm.demo.parts import CATALOGUE, demo_parts_store
from autocrm.parts.models import Part, PurchaseOrder, StockMovement
from autocrm.parts.selectors import low_stock
from autocrm.tenancy.models import Store

pytestmark = pytest.mark.django_db


def test_demo_catalogue_stock_and_orders(demo):
    store = Store.objects.get(code="a")
    assert demo_parts_store(store) == len(CATALOGUE) >= 80
    parts = Part.objects.filter(store=store)
    assert parts.count() == len(CATALOGUE)
    assert 3 <= low_stock(parts).count() < len(CATALOGUE) // 2
    for part in parts:  # the cached balance is the ledger's sum
        total = sum((m.quantity for m in StockMovement.objects.filter(part=part)), Decimal(0))
        assert part.on_hand == total
    statuses = set(PurchaseOrder.objects.filter(store=store).values_list("status", flat=True))
    assert {"partly_received", "sent"} <= statuses
    assert demo_parts_store(store) == 0  # once per store
