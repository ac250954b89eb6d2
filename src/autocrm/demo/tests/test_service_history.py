"""The demo's years of service (demo.service_history): every car's visits are delivered repair
orders at the reading of their day, bills are their approved lines' sums, comebacks repeat a job
of the visit before, history moves no stock, and retention is real — most owners come to 首保,
two in three of them to 二保, most of the rest after that (demo.generators.RETURN_SHARE)."""

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from autocrm.customers.tests.factories import actor_for
from autocrm.demo.loader import demo_customers_load
from autocrm.demo.parts import demo_parts_store
from autocrm.demo.service_history import PREFIX, demo_service_history_store
from autocrm.parts.models import StockMovement
from autocrm.service import kpis
from autocrm.service.choices import Approval, RoStatus
from autocrm.service.models import Bill, Job, PartLine, RepairOrder
from autocrm.tenancy.models import Store
from autocrm.vehicles.models import OdometerReading, Vehicle


def test_years_of_service_with_real_retention(demo):
    store = Store.objects.get(code="a")
    demo_customers_load(organization=demo["organization"], stores={"a": store}, customers=400, seed=42)
    demo_parts_store(store)
    movements = StockMovement.objects.filter(store=store).count()
    made = demo_service_history_store(store)
    assert made > 600
    assert demo_service_history_store(store) == 0  # once per store
    ros = RepairOrder.objects.filter(store=store, number__startswith=PREFIX)
    assert ros.count() == made and set(ros.values_list("status", flat=True)) == {RoStatus.DELIVERED}
    # the odometer of each visit is a reading of the car on that day, never above today's mileage
    readings = set(OdometerReading.objects.filter(store=store).values_list("vehicle_id", "km"))
    mileage = dict(Vehicle.objects.filter(store=store).values_list("pk", "mileage_km"))
    for vid, km, comeback in ros.values_list("vehicle_id", "odometer_km", "is_comeback"):
        assert comeback or (vid, km) in readings
        assert km <= (mileage[vid] or 0) + 400
    # bills: the approved lines' sums, VAT included, paid
    jobs = {r["repair_order_id"]: r["s"] for r in Job.objects.filter(repair_order__in=ros, approval=Approval.APPROVED)
            .values("repair_order_id").annotate(s=Sum("hours"))}  # fmt: skip
    for bill in Bill.objects.filter(repair_order__in=ros).select_related("repair_order")[:300]:
        labour = (jobs.get(bill.repair_order_id) or 0) * Decimal("180.00")
        assert bill.labour_total == labour and bill.total == bill.labour_total + bill.parts_total
        assert bill.status == "paid" and bill.tax == (bill.total * Decimal("0.13") / Decimal("1.13")).quantize(
            Decimal("0.01")
        )
    assert Bill.objects.filter(repair_order__in=ros).count() == made
    # comebacks repeat a job code of the car's visit before
    for ro in ros.filter(is_comeback=True)[:20]:
        before = ros.filter(vehicle_id=ro.vehicle_id, closed_at__lt=ro.received_at).order_by("-closed_at").first()
        assert before is not None and set(before.jobs.values_list("code", flat=True)) & set(
            ro.jobs.values_list("code", flat=True)
        )
    assert not PartLine.objects.filter(repair_order__in=ros, issued=True).exists()
    assert StockMovement.objects.filter(store=store).count() == movements  # history moves no stock
    # retention over the last three years, as the KPI page computes it
    today = timezone.localdate()
    period = kpis.period_parse("custom", start=today - dt.timedelta(days=3 * 365), end=today)
    r = kpis.service_kpis(actor=actor_for("service_manager_a"), period=period)
    by = {v["visit"]: v for v in r["retention"]["by_visit"]}
    assert by[1]["due"] > 50 and 0.5 <= by[1]["rate"] <= 0.8  # 首保 → 二保: two in three
    assert by[2]["due"] > 30 and 0.72 <= by[2]["rate"] <= 0.95  # later visits: 85 %
    t = r["totals"]
    assert t["repair_orders"] > 300 and 0.005 <= t["comeback_rate"] <= 0.08
    assert 0.5 <= t["estimate_approval_rate"] <= 1 and Decimal(t["gross_profit_per_ro"]) > 0
