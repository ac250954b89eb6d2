from autocrm.customers.tests.factories import actor_for
from autocrm.demo.service import demo_service_store
from autocrm.service.choices import RO_ORDER
from autocrm.service.models import Appointment, Bill, CannedJob, RepairOrder
from autocrm.service.tests.factories import make_car
from autocrm.tenancy.models import Store


def test_demo_service_fills_every_status_once_per_store(demo):
    store = Store.objects.get(code="a")
    manager = actor_for("manager_a")
    for _ in range(10):
        make_car(manager)
    assert demo_service_store(store, orders=7) == 7
    assert set(RepairOrder.objects.filter(store=store).values_list("status", flat=True)) == set(RO_ORDER[1:])
    assert CannedJob.objects.filter(store=store).count() == 3
    assert Appointment.objects.filter(store=store).exists() and Bill.objects.filter(status="paid").exists()
    assert demo_service_store(store) == 0  # once per store
