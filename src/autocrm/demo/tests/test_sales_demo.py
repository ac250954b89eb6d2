from autocrm.demo.sales import demo_sales_store
from autocrm.sales.choices import STAGE_ORDER
from autocrm.sales.models import Deal, StockVehicle
from autocrm.tenancy.models import Store


def test_demo_sales_fill_every_stage_and_ageing_stock(demo):
    store = Store.objects.get(code="a")
    assert demo_sales_store(store, deals=16) == 16
    stages = set(Deal.objects.filter(store=store).values_list("stage", flat=True))
    assert stages == set(STAGE_ORDER)
    won = Deal.objects.filter(store=store, status="won")
    assert won.exists() and all(d.vehicle_id and d.customer_id for d in won)
    assert StockVehicle.objects.filter(store=store, status="demo").count() == 3
    assert StockVehicle.objects.filter(store=store, arrival_date__lte="2026-10-01").exists()
    assert demo_sales_store(store) == 0  # once per store
