import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from autocrm.core import events
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.service import selectors, services
from autocrm.service.choices import AppointmentStatus, Approval, Progress, RoStatus
from autocrm.service.models import Appointment, Bill, DeclinedWork, EstimateLink, Job, ServiceSettings
from autocrm.vehicles.models import OdometerReading

from .factories import JPEG, make_canned, make_car, make_ro, tomorrow_at


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


@pytest.fixture
def tech(demo):
    return actor_for("tech_a1")


def _settings(store_id, **values):
    ServiceSettings.objects.update_or_create(store_id=store_id, defaults=values)


# --- appointments ---------------------------------------------------------------------------------


def test_slots_follow_opening_hours_and_capacity(advisor):
    store = advisor.store_id
    _settings(store, bays=2, priority_reserve=1, slot_minutes=30)
    from autocrm.tenancy.models import Store

    shop = Store.objects.get(pk=store)
    shop.opening_hours = "08:30-12:00,13:30-17:00"
    shop.save()
    day = tomorrow_at(9).date()
    plan = selectors.slot_plan(store=shop, day=day, service_type="inspection")
    assert [s.starts_at.strftime("%H:%M") for s in plan][:2] == ["08:30", "09:00"]
    assert len(plan) == 7 + 7 and all(s.free == 1 and s.free_priority == 2 for s in plan)
    # a maintenance (60 min) cannot start in the last slot before the lunch break
    maint = {s.starts_at.strftime("%H:%M"): s.available for s in selectors.slot_plan(store=shop, day=day)}
    assert maint["11:00"] and not maint["11:30"] and maint["13:30"]


def test_the_last_place_is_taken_once_and_priority_places_are_kept(advisor):
    _settings(advisor.store_id, bays=2, priority_reserve=1)
    customer, car = make_car(advisor)
    at = tomorrow_at(10)
    data = {"service_type": "inspection", "starts_at": at.isoformat()}
    first = services.appointment_book(actor=advisor, customer=customer, vehicle=car, data=data)
    assert first.status == AppointmentStatus.BOOKED and first.slots == 1
    with pytest.raises(Conflict) as exc:  # the one place for everyone is taken
        services.appointment_book(actor=advisor, customer=customer, vehicle=car, data=data)
    assert "starts_at" in exc.value.fields
    vip = services.appointment_book(actor=advisor, customer=customer, vehicle=car, data={**data, "priority": True})
    assert vip.priority
    with pytest.raises(Conflict):  # and now the priority place too
        services.appointment_book(actor=advisor, customer=customer, vehicle=car, data={**data, "priority": True})
    assert Appointment.objects.filter(starts_at=at).count() == 2
    services.appointment_cancel(actor=advisor, appointment=first)
    services.appointment_book(actor=advisor, customer=customer, vehicle=car, data=data)  # freed


def test_booking_refuses_bad_input_naming_the_field(advisor):
    customer, car = make_car(advisor)
    for data, field in [
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": tomorrow_at(10).replace(tzinfo=None).isoformat()}, "starts_at"),
        ({"starts_at": tomorrow_at(10).isoformat(), "service_type": "wash"}, "service_type"),
        ({"starts_at": tomorrow_at(10).isoformat(), "pickup": True}, "pickup_address"),
        ({"starts_at": tomorrow_at(10, 7).isoformat()}, "starts_at"),  # not a slot start
        ({"starts_at": (timezone.now() - dt.timedelta(days=1)).isoformat()}, "starts_at"),
        ({"starts_at": tomorrow_at(10).isoformat(), "advisor": 999999}, "advisor"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.appointment_book(actor=advisor, customer=customer, vehicle=car, data=data)
        assert field in exc.value.fields, data
    assert not Appointment.objects.exists()


def test_pickup_arrival_and_no_show(advisor):
    customer, car = make_car(advisor)
    a = services.appointment_book(actor=advisor, customer=customer, vehicle=car, data={
        "starts_at": tomorrow_at(9).isoformat(), "pickup": True, "pickup_address": "浦东新区张杨路 500 号",
        "pickup_at": tomorrow_at(8).isoformat()})  # fmt: skip
    assert a.pickup and a.pickup_address.startswith("浦东")
    with pytest.raises(Conflict):  # a no-show only after its time
        services.appointment_mark(actor=advisor, appointment=a, status="no_show")
    Appointment.objects.filter(pk=a.pk).update(starts_at=timezone.now() - dt.timedelta(hours=1))
    assert services.appointment_mark(actor=advisor, appointment=a, status="no_show").status == "no_show"
    with pytest.raises(Conflict):
        services.appointment_mark(actor=advisor, appointment=a, status="arrived")


def test_reminders_the_day_before_once_through_the_outbox(advisor):
    from autocrm.messaging.models import Message

    customer, car = make_car(advisor)
    a = services.appointment_book(actor=advisor, customer=customer, vehicle=car,
                                  data={"starts_at": tomorrow_at(9).isoformat()})  # fmt: skip
    assert services.appointment_reminders_send(store_id=advisor.store_id) == 1
    assert services.appointment_reminders_send(store_id=advisor.store_id) == 0
    message = Message.objects.get(idempotency_key=f"appointment-reminder:{a.pk}")
    assert message.customer_id == customer.pk and message.purpose == "service"


def test_technician_and_other_roles_may_not_book(tech, demo):
    customer, car = make_car(actor_for("manager_a"))
    with pytest.raises(PermissionDenied):
        services.appointment_book(actor=tech, customer=customer, vehicle=car,
                                  data={"starts_at": tomorrow_at(9).isoformat()})  # fmt: skip


# --- repair orders --------------------------------------------------------------------------------


def test_reception_records_the_odometer_and_a_lower_reading_needs_a_reason(advisor):
    customer, car = make_car(advisor, mileage_km=None)
    ro = make_ro(advisor, km=12000, car=(customer, car))
    assert ro.status == RoStatus.RECEIVED and ro.odometer_km == 12000 and ro.number.startswith("RO")
    assert OdometerReading.objects.filter(vehicle=car, km=12000).exists()
    with pytest.raises(ValidationError) as exc:
        make_ro(advisor, km=11000, car=(customer, car))
    assert "correction_reason" in exc.value.fields
    make_ro(advisor, km=11000, car=(customer, car), correction_reason="仪表更换")
    with pytest.raises(ValidationError) as exc:
        make_ro(advisor, km="many", car=(customer, car))
    assert "odometer_km" in exc.value.fields


def test_out_of_order_moves_are_409_and_nothing_changes(advisor):
    ro = make_ro(advisor)
    for target in (RoStatus.IN_REPAIR, RoStatus.RECEIVED, RoStatus.DELIVERED):
        with pytest.raises(Conflict):
            services.repair_order_advance(actor=advisor, repair_order=ro, to_status=target)
    with pytest.raises(ValidationError):
        services.repair_order_advance(actor=advisor, repair_order=ro, to_status="flying")
    ro.refresh_from_db()
    assert ro.status == RoStatus.RECEIVED
    ro = services.repair_order_advance(actor=advisor, repair_order=ro)
    assert ro.status == RoStatus.DIAGNOSIS
    with pytest.raises(Conflict) as exc:  # nothing for the owner to approve yet
        services.repair_order_advance(actor=advisor, repair_order=ro)
    assert "lines" in exc.value.fields


def _link_token(link):
    return services.estimate_token(link)


def test_the_whole_workflow_with_the_owner_link(advisor, tech):
    from autocrm.messaging.models import Message

    canned = make_canned(actor_for("service_manager_a"))
    ro = make_ro(advisor, km=10020)
    services.canned_job_apply(actor=advisor, repair_order=ro, canned_job=canned, technician=tech.user_id)
    brake = services.job_add(
        actor=advisor, repair_order=ro, data={"code": "BRK", "name": "更换前刹车片", "hours": "1.2"}
    )
    pads = services.part_add(actor=advisor, repair_order=ro, data={"name": "前刹车片", "quantity": "1",
                                                                  "unit_price": "420.00", "job": brake.pk})  # fmt: skip
    services.repair_order_advance(actor=advisor, repair_order=ro)  # → diagnosis
    link, url = services.estimate_send(actor=advisor, repair_order=ro)
    ro.refresh_from_db()
    assert ro.status == RoStatus.AWAITING_APPROVAL and "/e/" in url
    assert Message.objects.filter(idempotency_key=f"estimate-link:{link.pk}").exists()
    token = _link_token(link)
    oil = Job.objects.get(repair_order=ro, code="OIL")
    answers = {f"job:{oil.pk}": "approved", f"job:{brake.pk}": "declined", f"part:{pads.pk}": "declined"}
    answers.update({f"part:{p.pk}": "approved" for p in ro.part_lines.exclude(pk=pads.pk)})
    with pytest.raises(ValidationError):  # every waiting line is answered
        services.estimate_answer(token=token, answers={f"job:{oil.pk}": "approved"})
    with events.capture() as seen:
        services.estimate_answer(token=token, answers=answers)
    assert seen.of("service.estimate_answered")[0].declined == 2
    ro.refresh_from_db()
    assert ro.status == RoStatus.IN_REPAIR  # every line answered: work starts
    declined = DeclinedWork.objects.get(repair_order=ro, description="更换前刹车片")
    assert declined.amount == Decimal("216.00")  # 1.2 h × 180.00
    with pytest.raises(services.LinkInvalid) as exc:  # used: nothing changes
        services.estimate_answer(token=token, answers={f"job:{brake.pk}": "approved"})
    assert exc.value.reason == "used"
    assert Job.objects.get(pk=brake.pk).approval == Approval.DECLINED
    # technician's progress, findings and a photo of the replaced part
    assert [j.pk for j in selectors.technician_jobs(actor=tech)] == [oil.pk]
    with pytest.raises(Conflict):
        services.job_progress(actor=tech, job=brake, data={"progress": "done"})
    services.job_progress(actor=tech, job=oil, data={"progress": Progress.DONE, "findings": "机油偏黑"})
    services.job_photo_add(actor=tech, job=oil, file=JPEG, kind="replaced_part", name="old-filter.jpg")
    with pytest.raises(PermissionDenied):
        services.repair_order_advance(actor=tech, repair_order=ro)
    services.repair_order_advance(actor=advisor, repair_order=ro)  # → quality check
    ro = services.repair_order_advance(actor=advisor, repair_order=ro)  # → waiting for payment: the bill
    bill = Bill.objects.get(repair_order=ro)
    # labour 1.0 × 180 = 180.00; parts 58.00 + 368.00 = 426.00 (the declined pads are not billed)
    assert (bill.labour_total, bill.parts_total, bill.total) == (Decimal("180.00"), Decimal("426.00"),
                                                                 Decimal("606.00"))  # fmt: skip
    assert bill.tax == Decimal("69.72")  # 606 × 0.13 / 1.13 = 69.716…
    with pytest.raises(Conflict) as exc:
        services.repair_order_advance(actor=advisor, repair_order=ro)
    assert "bill" in exc.value.fields
    services.bill_pay(actor=advisor, bill=bill, method="wechat")
    with events.capture() as seen:
        ro = services.repair_order_advance(actor=advisor, repair_order=ro)
    assert ro.status == RoStatus.DELIVERED and ro.closed_at is not None
    closed = seen.of("service.repair_order_closed")[0]
    assert closed.job_codes == ("OIL",) and closed.odometer_km == 10020 and closed.vehicle_id == ro.vehicle_id
    # the link still shows progress, read-only
    assert services.estimate_link_open(token, for_answer=False).pk == link.pk


def test_expired_replaced_and_forged_links_change_nothing(advisor):
    ro = make_ro(advisor)
    job = services.job_add(actor=advisor, repair_order=ro, data={"code": "AC", "name": "空调检修", "hours": "2"})
    services.repair_order_advance(actor=advisor, repair_order=ro)
    first, _url = services.estimate_send(actor=advisor, repair_order=ro)
    second, _url = services.estimate_send(actor=advisor, repair_order=ro)
    with pytest.raises(services.LinkInvalid) as exc:
        services.estimate_answer(token=_link_token(first), answers={f"job:{job.pk}": "approved"})
    assert exc.value.reason == "expired"  # replaced by the newer link
    EstimateLink.objects.filter(pk=second.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(services.LinkInvalid) as exc:
        services.estimate_answer(token=_link_token(second), answers={f"job:{job.pk}": "approved"})
    assert exc.value.reason == "expired"
    for forged in ("garbage", _link_token(second)[:-2] + "xx"):
        with pytest.raises(services.LinkInvalid) as exc:
            services.estimate_answer(token=forged, answers={f"job:{job.pk}": "approved"})
        assert exc.value.reason == "invalid"
    assert Job.objects.get(pk=job.pk).approval == Approval.PENDING


def test_comeback_same_job_on_the_same_vehicle_within_the_window(advisor):
    customer, car = make_car(advisor)
    ro = make_ro(advisor, km=5000, car=(customer, car))
    job = services.job_add(actor=advisor, repair_order=ro, data={"code": "ALN", "name": "四轮定位", "hours": "1"})
    services.estimate_record(actor=advisor, repair_order=ro, answers={f"job:{job.pk}": "approved"})
    from autocrm.service.models import RepairOrder

    RepairOrder.objects.filter(pk=ro.pk).update(status=RoStatus.DELIVERED, closed_at=timezone.now())
    again = make_ro(advisor, km=5600, car=(customer, car))
    other = services.job_add(actor=advisor, repair_order=again, data={"code": "OIL", "name": "机油", "hours": "1"})
    assert not other.is_comeback
    repeat = services.job_add(actor=advisor, repair_order=again, data={"code": "ALN", "name": "四轮定位", "hours": "1"})
    again.refresh_from_db()
    assert repeat.is_comeback and again.is_comeback


def test_line_input_is_checked_naming_the_field(advisor):
    ro = make_ro(advisor)
    for data, field in [
        ({"code": "X", "name": "x", "hours": "-1"}, "hours"),
        ({"code": "X", "name": "x", "hours": "1.234"}, "hours"),
        ({"code": "X", "name": "x", "hours": "NaN"}, "hours"),
        ({"code": "", "name": "x", "hours": "1"}, "code"),
        ({"code": "X", "name": "x", "hours": "1", "rate": "1e10"}, "rate"),
        ({"code": "X", "name": "x", "hours": "1", "technician": "abc"}, "technician"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.job_add(actor=advisor, repair_order=ro, data=data)
        assert field in exc.value.fields, data
    with pytest.raises(ValidationError) as exc:
        services.part_add(actor=advisor, repair_order=ro, data={"name": "x", "quantity": "0", "unit_price": "1"})
    assert "quantity" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        services.canned_job_create(actor=actor_for("manager_a"), data={"code": "A", "name": "A", "lines": [
            {"kind": "labour", "code": "", "hours": "x"}, {"kind": "wash"}]})  # fmt: skip
    assert {"lines.0.code", "lines.0.hours", "lines.0.name", "lines.1.kind"} <= set(exc.value.fields)


def test_canned_job_codes_are_unique_per_store(manager):
    make_canned(manager)
    with pytest.raises(Conflict):
        make_canned(manager)
    with pytest.raises(PermissionDenied):
        make_canned(actor_for("advisor_a1"), code="OTHER")


# --- parts from stock -------------------------------------------------------------------------------


def _part(actor, on_hand="5", **data):
    from autocrm.parts import services as parts

    data.setdefault("part_number", "PAD-F-01")
    data.setdefault("name", "前刹车片")
    data.setdefault("price", "420.00")
    part = parts.part_create(actor=actor, data=data)
    parts.stock_receive(actor=actor, part=part, qty=on_hand, unit_cost="300.00")
    part.refresh_from_db()
    return part


def test_stock_parts_are_reserved_released_when_declined_and_issued_at_quality_check(advisor):
    from autocrm.parts.models import Part

    keeper = actor_for("service_manager_a")
    pads = _part(keeper, on_hand="3")
    ro = make_ro(advisor)
    with pytest.raises(Conflict) as exc:  # more than is in stock
        services.part_add(actor=advisor, repair_order=ro, data={"part": pads.pk, "quantity": "4"})
    assert "quantity" in exc.value.fields
    kept = services.part_add(actor=advisor, repair_order=ro, data={"part": pads.pk, "quantity": "2"})
    assert kept.unit_price == Decimal("420.00") and kept.part_number == "PAD-F-01"
    spare = services.part_add(actor=advisor, repair_order=ro, data={"part": pads.pk, "quantity": "1"})
    assert Part.objects.get(pk=pads.pk).reserved == Decimal("3")
    services.repair_order_advance(actor=advisor, repair_order=ro)
    services.repair_order_advance(actor=advisor, repair_order=ro)  # → waiting for the owner
    services.estimate_record(actor=advisor, repair_order=ro,
                             answers={f"part:{kept.pk}": "approved", f"part:{spare.pk}": "declined"})  # fmt: skip
    assert Part.objects.get(pk=pads.pk).reserved == Decimal("2")
    services.repair_order_advance(actor=advisor, repair_order=ro)  # → quality check: issued
    fresh = Part.objects.get(pk=pads.pk)
    assert (fresh.on_hand, fresh.reserved) == (Decimal("1"), Decimal("0"))
