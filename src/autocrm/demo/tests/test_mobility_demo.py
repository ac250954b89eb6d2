from autocrm.customers.tests.factories import actor_for
from autocrm.demo.mobility import demo_mobility_store
from autocrm.demo.service import demo_service_store
from autocrm.service.models import Errand, Loaner, LoanerBooking, Rescue
from autocrm.service.tests.factories import make_car
from autocrm.tenancy.models import Store


def test_demo_mobility_shows_work_today_once_per_store(demo):
    store = Store.objects.get(code="a")
    manager = actor_for("manager_a")
    for _ in range(10):
        make_car(manager)
    demo_service_store(store, orders=7)
    assert demo_mobility_store(store) == 4
    assert Loaner.objects.filter(store=store).count() == 4
    assert set(LoanerBooking.objects.values_list("status", flat=True)) == {"out", "booked"}
    assert LoanerBooking.objects.filter(status="out", repair_order__isnull=False).exists()
    assert set(Errand.objects.values_list("status", flat=True)) == {"en_route", "assigned", "requested"}
    rescues = {r.address: r for r in Rescue.objects.all()}
    assert rescues["G60 沪昆高速 松江段"].inside_area is False
    assert rescues["世纪大道地铁站旁"].target_met is True and rescues["张江路368号"].status == "closed"
    assert demo_mobility_store(store) == 0
