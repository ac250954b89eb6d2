"""Parts in the inherited role × scope matrix (autocrm.core.testing): every page and API
operation, as every role, on a part (order, supplier) of the actor's store, of another store, and
a missing one. Parts are the store's; ledger rows and reservations follow their part; lines their
order."""

from __future__ import annotations

import itertools
from decimal import Decimal

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.parts.models import Part, PurchaseOrder, PurchaseOrderLine, Supplier

P, PO, SUP, MOVE = "parts.part", "parts.purchaseorder", "parts.supplier", "parts.stockmovement"
_serial = itertools.count(1)


def build_part(store, owner):
    return Part.objects.create(store=store, part_number=f"M-{next(_serial):06d}", name="机滤", price=Decimal("45"),
                               cost=Decimal("20"), on_hand=Decimal("10"))  # fmt: skip


def build_supplier(store, owner):
    return Supplier.objects.create(store=store, name=f"矩阵供应商{next(_serial)}", lead_time_days=2)


def build_order(store, owner):
    order = PurchaseOrder.objects.create(store=store, supplier=build_supplier(store, owner), number="PO-M")
    PurchaseOrderLine.objects.create(store=store, order=order, part=build_part(store, owner), quantity=Decimal("5"))
    return order


def new_part(world, role):
    return {"part_number": f"NEW-{next(_serial):06d}", "name": "空调滤芯", "price": "88.00"}


def new_receipt(world, role):
    return {"kind": "receipt", "part": build_part(world.stores["a"], None).pk, "quantity": "2"}


def new_order(world, role):
    store = world.stores["a"]
    return {"supplier": build_supplier(store, None).pk,
            "lines": [{"part": build_part(store, None).pk, "quantity": "4"}]}  # fmt: skip


def new_supplier(world, role):
    return {"name": f"新供应商{next(_serial)}", "lead_time_days": 3}


class TestPartsMultistore(MultistoreMatrix):
    builders = {P: build_part, PO: build_order, SUP: build_supplier}
    namespaces = ["parts"]
    api_prefixes = ["/parts", "/stock-movements", "/purchase-orders", "/suppliers"]
    ops = [
        Op("parts:part_list", P, "view", record=False),
        Op("parts:part_detail", P, "view"),
        # allowed: past the checks, an empty form is refused with a message on the part's page
        Op("parts:part_move", P, "view", method="POST", ok=302),
        Op("parts:po_list", PO, "view", record=False),
        Op("parts:po_detail", PO, "view"),
        Op("parts:po_action", PO, "view", method="POST", ok=302),
        Op("/parts", P, "view", api=True, record=False),
        Op("/parts", P, "add", api=True, record=False, method="POST", ok=201, data=new_part),
        Op("/parts/{pk}", P, "view", api=True),
        Op("/parts/{pk}", P, "change", api=True, method="PATCH", data={"name": "机油滤清器"}),
        Op("/stock-movements", MOVE, "view", api=True, record=False),
        Op("/stock-movements", P, "receive", api=True, record=False, method="POST", ok=201, data=new_receipt),
        Op("/purchase-orders", PO, "view", api=True, record=False),
        Op("/purchase-orders", PO, "add", api=True, record=False, method="POST", ok=201, data=new_order),
        Op("/purchase-orders/{pk}", PO, "view", api=True),
        Op("/purchase-orders/{pk}/send", PO, "change", api=True, method="POST", fresh=True),
        Op("/purchase-orders/{pk}/cancel", PO, "change", api=True, method="POST", fresh=True),
        # allowed: past the checks, a draft order cannot be received yet
        Op("/purchase-orders/{pk}/receive", PO, "receive", api=True, method="POST", ok=409, data={}),
        Op("/suppliers", SUP, "view", api=True, record=False),
        Op("/suppliers", SUP, "add", api=True, record=False, method="POST", ok=201, data=new_supplier),
    ]
    exempt = {
        "parts:po_from_alerts": "needs a supplier with low parts; roles and scope in test_views",
    }
