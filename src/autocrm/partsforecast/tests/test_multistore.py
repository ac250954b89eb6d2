"""The parts forecast's pages and API in the inherited role × scope matrix (autocrm.core.testing):
the forecast is read by whoever sees the store's parts; the mapping is kept by the parts keepers;
a draft order needs the purchase-order ``add`` (no record of another store is reachable)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.parts.models import Part, Supplier

P, IP, PO = "parts.part", "partsforecast.itempart", "parts.purchaseorder"
_serial = itertools.count(1)


def new_mapping(world, role):
    part = Part.objects.create(store=world.stores["a"], part_number=f"FC-{next(_serial):06d}", name="机油",
                               on_hand=Decimal("1"))  # fmt: skip
    return {"item": "oil", "part_number": part.part_number, "quantity": "4.5"}


def new_supplier(world, role):
    return {"supplier": Supplier.objects.create(store=world.stores["a"], name=f"预测供应商{next(_serial)}").pk}


class TestPartsForecastMultistore(MultistoreMatrix):
    builders = {}
    namespaces = ["partsforecast"]
    api_prefixes = ["/parts-forecast"]
    ops = [
        Op("partsforecast:forecast", P, "view", record=False),
        Op("partsforecast:mapping_set", IP, "change", method="POST", record=False, data=new_mapping, ok=302),
        # allowed: the forecast suggests nothing from a new supplier, a message on the forecast page
        Op(
            "partsforecast:order",
            PO,
            "add",
            method="POST",
            record=False,
            data=new_supplier,
            ok=302,
            also_needs=((P, "view"), ("parts.supplier", "view")),
        ),
        Op("/parts-forecast", P, "view", api=True, record=False),
        Op("/parts-forecast/items", IP, "view", api=True, record=False),
        Op("/parts-forecast/items", IP, "change", api=True, method="PUT", record=False, data=new_mapping),
        # allowed: nothing to order from a new supplier is a 409 (test_forecast orders for real)
        Op(
            "/parts-forecast/purchase-order",
            PO,
            "add",
            api=True,
            method="POST",
            record=False,
            data=new_supplier,
            ok=409,
            also_needs=((P, "view"), ("parts.supplier", "view")),
        ),
    ]
