import datetime as dt

import pytest
from django.utils import timezone

from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.models import TimelineEvent
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.vehicles.models import OdometerReading, Ownership, Vehicle
from autocrm.vehicles.services import odometer_record, ownership_transfer, vehicle_create, vehicle_update

VIN = "LSJA24U62JG269225"


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


def test_register_validates_and_decodes(advisor):
    owner = make_customer(advisor, name="马超")
    v = vehicle_create(actor=advisor, data={"vin": "lsja24u62jg269225", "plate": "沪a·d12345"}, customer=owner,
                       mileage_km=12)  # fmt: skip
    assert (v.vin, v.plate, v.plate_kind) == (VIN, "沪AD12345", "new_energy")
    assert v.maker  # decoded from the WMI
    assert Ownership.objects.get(vehicle=v, ended_on__isnull=True).customer == owner
    assert v.mileage_km == 12
    assert TimelineEvent.objects.filter(customer=owner, kind="vehicle.added").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [({"vin": "LSJA24U62JG269226"}, "vin"), ({"vin": "LSJA24U62JG26922"}, "vin"), ({"vin": "LSJA24U62JG2692I5"}, "vin"),
     ({"vin": VIN, "plate": "沪I12345"}, "plate"), ({"vin": VIN, "plate": "XA12345"}, "plate"),
     ({"vin": VIN, "purchase_date": "2024-13-01"}, "purchase_date"), ({"vin": VIN, "fuel_type": "steam"}, "fuel_type")],
)  # fmt: skip
def test_bad_input_names_the_field_and_saves_nothing(advisor, data, field):
    with pytest.raises(ValidationError) as exc:
        vehicle_create(actor=advisor, data=data)
    assert field in exc.value.fields
    assert not Vehicle.objects.exists()


def test_imported_vin_with_bad_check_digit_is_a_warning(advisor):
    v = vehicle_create(actor=advisor, data={"vin": "1M8GDM9AXKP042789"})
    assert v.vin_warnings


def test_vin_unique_in_organization(demo):
    first = vehicle_create(actor=actor_for("advisor_a1"), data={"vin": VIN})
    with pytest.raises(Conflict) as exc:
        vehicle_create(actor=actor_for("manager_a"), data={"vin": VIN.lower()})
    assert exc.value.existing_id == first.pk
    with pytest.raises(Conflict) as exc:  # store b: same org, the existing car is not theirs to see
        vehicle_create(actor=actor_for("advisor_b1"), data={"vin": VIN})
    assert exc.value.existing_id is None


def test_odometer_goes_up_unless_corrected(advisor):
    v = vehicle_create(actor=advisor, data={"vin": VIN})
    t0 = timezone.now() - dt.timedelta(days=30)
    odometer_record(actor=advisor, vehicle=v, km=15000, at=t0)
    with pytest.raises(ValidationError) as exc:
        odometer_record(actor=advisor, vehicle=v, km=1500)
    assert "correction_reason" in exc.value.fields
    r = odometer_record(actor=advisor, vehicle=v, km=1500, correction_reason="接车时多输了一个0")
    assert r.source == "correction"
    v.refresh_from_db()
    assert v.mileage_km == 1500
    assert OdometerReading.objects.filter(vehicle=v).count() == 2
    with pytest.raises(ValidationError):
        odometer_record(actor=advisor, vehicle=v, km=-1)


def test_transfer_keeps_past_owners_history(advisor):
    old, new = make_customer(advisor, name="旧车主"), make_customer(advisor, name="新车主")
    v = vehicle_create(actor=advisor, data={"vin": VIN, "purchase_date": "2020-05-01"}, customer=old)
    ownership_transfer(actor=advisor, vehicle=v, new_owner=new, on=dt.date(2025, 6, 1))
    v.refresh_from_db()
    assert v.customer == new
    past = Ownership.objects.get(vehicle=v, customer=old)
    assert past.ended_on == dt.date(2025, 6, 1)
    assert TimelineEvent.objects.filter(customer=old, kind="vehicle.added").exists()
    assert TimelineEvent.objects.filter(customer=old, kind="vehicle.transferred_out").exists()


def test_sales_cannot_transfer_or_touch_others(demo):
    sales = actor_for("sales_a1")
    mine = make_customer(sales, name="甲")
    v = vehicle_create(actor=sales, data={"vin": VIN}, customer=mine)
    with pytest.raises(PermissionDenied):
        ownership_transfer(actor=sales, vehicle=v, new_owner=make_customer(sales, name="乙"))
    with pytest.raises(PermissionDenied):
        vehicle_update(actor=actor_for("sales_a2"), vehicle=v, data={"plate": "沪A12345"})
