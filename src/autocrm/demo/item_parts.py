"""Demo mapping of maintenance plan items to the parts they use (partsforecast.ItemPart, ADR
0027): an oil service takes a 4 L barrel of 0W-20 and an oil filter, an air filter an air
filter, brake fluid a litre of DOT4, plugs four of them, and so on — so the parts forecast turns
the demo's due list into parts, and the demo's years of repair orders (``demo.service_history``)
carry the parts their visit's items need. Also the job each item is done by on a repair order
(code, name, labour hours). Runs after ``demo.parts`` (the catalogue), once per store."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autocrm.maintenance.choices import Item
from autocrm.parts.models import Part
from autocrm.partsforecast.models import ItemPart
from autocrm.tenancy.models import Organization, Store

# item → (part number, quantity) used each time the item is done
ITEM_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    Item.OIL: (("OIL-0W20-4L", "1"),),
    Item.OIL_FILTER: (("FLT-OIL-BYD01", "1"),),
    Item.AIR_FILTER: (("FLT-AIR-BYD01", "1"),),
    Item.CABIN_FILTER: (("FLT-CAB-BYD01", "1"),),
    Item.BRAKE_FLUID: (("BRF-DOT4-1L", "1"),),
    Item.COOLANT: (("CLT-OAT-4L", "1"),),
    Item.SPARK_PLUGS: (("IGN-SP-ILKR7", "4"),),
    Item.BATTERY: (("BAT-12V-60", "1"),),
    Item.BRAKE_PADS: (("BRK-PAD-F-SONG", "1"),),
}
# item → the repair order's job that does it: (code, name, hours); oil and its filter are one job
ITEM_JOBS: dict[str, tuple[str, str, str]] = {
    Item.SERVICE: ("INSP", "全车检查", "0.5"),
    Item.OIL: ("OIL", "更换机油机滤", "0.8"),
    Item.OIL_FILTER: ("OIL", "更换机油机滤", "0.8"),
    Item.AIR_FILTER: ("AIR", "更换空气滤芯", "0.3"),
    Item.CABIN_FILTER: ("CAB", "更换空调滤芯", "0.3"),
    Item.BRAKE_FLUID: ("BRF", "更换刹车油", "0.8"),
    Item.COOLANT: ("CLT", "冬季前冷却液检查", "0.3"),
    Item.SPARK_PLUGS: ("IGN", "更换火花塞", "0.8"),
    Item.BATTERY: ("BAT", "蓄电池检测更换", "0.3"),
    Item.TYRES: ("TYR", "轮胎检查换位", "0.5"),
    Item.BRAKE_PADS: ("BRK", "更换前刹车片", "1.2"),
    Item.EV_CHECK: ("EV", "高压系统检测", "0.5"),
}


def demo_item_parts_store(store: Store) -> int:
    """The store's item → part mapping (nothing when it has one, or no catalogue yet)."""
    if ItemPart.objects.filter(store=store).exists():  # scoped: the demo's own store
        return 0
    parts = dict(Part.objects.filter(store=store).values_list("part_number", "pk"))  # scoped: the demo's own store
    rows = [
        ItemPart(store=store, item=item, part_id=parts[number], quantity=Decimal(qty))
        for item, used in ITEM_PARTS.items()
        for number, qty in used
        if number in parts
    ]
    ItemPart.objects.bulk_create(rows)
    return len(rows)


def demo_item_parts_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook (after ``demo.parts``): each store's item → part mapping."""
    if not int(options.get("customers") or 0):
        return
    for store in stores.values():
        demo_item_parts_store(store)
