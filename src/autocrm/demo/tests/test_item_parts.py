"""The demo's item → part mapping (demo.item_parts): each store maps its plan items to catalogue
parts (the parts forecast reads it), and the years of repair orders carry the jobs and parts of
the items the maintenance records say each visit did — an oil service has oil and an oil filter,
a visit without recorded items the routine lines."""

from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from autocrm.demo.item_parts import ITEM_PARTS, demo_item_parts_store
from autocrm.demo.loader import demo_customers_load
from autocrm.demo.maintenance import demo_maintenance_hook
from autocrm.demo.parts import demo_parts_store
from autocrm.demo.service_history import PREFIX, demo_service_history_store
from autocrm.maintenance.models import MaintenanceRecord
from autocrm.partsforecast.models import ItemPart
from autocrm.service.models import Job, PartLine, RepairOrder
from autocrm.tenancy.models import Store


def test_mapping_and_history_use_the_parts_of_the_items_done(demo):
    store = Store.objects.get(code="a")
    assert demo_item_parts_store(store) == 0  # no catalogue yet: nothing to map
    demo_customers_load(organization=demo["organization"], stores={"a": store}, customers=150, seed=7)
    demo_parts_store(store)
    made = demo_item_parts_store(store)
    assert made == sum(len(v) for v in ITEM_PARTS.values()) and demo_item_parts_store(store) == 0
    oil = ItemPart.objects.get(store=store, item="oil")
    assert oil.part.part_number == "OIL-0W20-4L" and oil.quantity == Decimal("1")
    assert not ItemPart.objects.filter(store=Store.objects.get(code="b")).exists()  # another store's own mapping
    demo_maintenance_hook(organization=demo["organization"], stores={"a": store}, options={"customers": 1})
    assert demo_service_history_store(store) > 100
    ros = RepairOrder.objects.filter(store=store, number__startswith=PREFIX, is_comeback=False)
    items = defaultdict(set)
    for vid, day, item in MaintenanceRecord.objects.filter(store=store).values_list("vehicle_id", "done_on", "item"):
        items[(vid, day)].add(item)
    codes = defaultdict(set)
    for ro_id, code in Job.objects.filter(repair_order__in=ros).values_list("repair_order_id", "code"):
        codes[ro_id].add(code)
    parts = defaultdict(set)
    for ro_id, number in PartLine.objects.filter(repair_order__in=ros).values_list("repair_order_id", "part_number"):
        parts[ro_id].add(number)
    checked = 0
    for ro in ros.only("pk", "vehicle_id", "received_at"):
        done = items.get((ro.vehicle_id, timezone.localtime(ro.received_at).date()))
        if not done:
            continue
        checked += 1
        if "oil" in done:
            assert "OIL" in codes[ro.pk] and {"OIL-0W20-4L", "FLT-OIL-BYD01"} <= parts[ro.pk]
        if "brake_fluid" in done:
            assert "BRF" in codes[ro.pk] and "BRF-DOT4-1L" in parts[ro.pk]
        if "air_filter" not in done:
            assert "FLT-AIR-BYD01" not in parts[ro.pk]
    assert checked > 50
