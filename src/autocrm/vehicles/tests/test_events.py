"""The vehicles services announce registrations, transfers and readings after commit."""

import datetime as dt

import pytest
from django.utils import timezone

from autocrm.core import events
from autocrm.core.errors import ValidationError
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.vehicles import events as vehicle_events
from autocrm.vehicles.services import odometer_record, ownership_transfer, vehicle_create

VIN = "LSJA24U62JG269225"


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


def test_register_transfer_and_read_emit_in_order(advisor):
    first = make_customer(advisor, name="马超")
    second = make_customer(advisor, name="赵云")
    with events.capture() as captured:
        vehicle = vehicle_create(actor=advisor, data={"vin": VIN, "plate": "沪AD12345"}, customer=first, mileage_km=12)
        ownership = ownership_transfer(actor=advisor, vehicle=vehicle, new_owner=second)
        later = timezone.now()
        reading = odometer_record(actor=advisor, vehicle=vehicle, km=8, at=later, correction_reason="仪表更换")
    assert captured.names() == [
        "vehicles.created", "vehicles.odometer_recorded", "vehicles.ownership_transferred", "vehicles.odometer_recorded",
    ]  # fmt: skip
    assert captured.of(vehicle_events.VEHICLE_CREATED) == [
        vehicle_events.VehicleCreated(vehicle_id=vehicle.pk, customer_id=first.pk)
    ]
    assert captured.of(vehicle_events.OWNERSHIP_TRANSFERRED) == [
        vehicle_events.OwnershipTransferred(vehicle_id=vehicle.pk, ownership_id=ownership.pk,
                                            from_customer_id=first.pk, to_customer_id=second.pk,
                                            on=timezone.localdate())
    ]  # fmt: skip
    readings = captured.of(vehicle_events.ODOMETER_RECORDED)
    assert [(r.km, r.correction) for r in readings] == [(12, False), (8, True)]
    assert readings[-1] == vehicle_events.OdometerRecorded(vehicle_id=vehicle.pk, reading_id=reading.pk, km=8,
                                                           at=later, correction=True)  # fmt: skip


def test_refused_reading_emits_nothing(advisor):
    vehicle = vehicle_create(actor=advisor, data={"vin": VIN})
    odometer_record(actor=advisor, vehicle=vehicle, km=1000)
    with events.capture() as captured, pytest.raises(ValidationError):
        odometer_record(actor=advisor, vehicle=vehicle, km=10, at=timezone.now() + dt.timedelta(seconds=1))
    assert captured.names() == []


def test_the_360_timeline_names_vehicle_touches_through_the_registry(client, advisor):
    from django.urls import reverse

    from autocrm.customers.tests.test_views import html, login

    owner = make_customer(advisor, name="马超")
    vehicle_create(actor=advisor, data={"vin": VIN, "plate": "沪AD12345"}, customer=owner)
    login(client, "advisor_a1")
    body = html(client.get(reverse("customers:customer_detail", args=[owner.pk])))
    assert '<span class="badge bg-secondary-lt me-1">添加车辆</span>' in body
