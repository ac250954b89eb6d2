"""Mobility services (ADR 0023): loaners and their bookings, checks and charges; errands;
rescue with the service area and the arrival target."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.service import mobility, mobility_selectors, services
from autocrm.service.models import Bill, Errand, LoanerBooking, MobilitySettings, PartLine, Rescue

from .factories import JPEG, make_car, make_ro


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


@pytest.fixture
def manager(demo):
    return actor_for("service_manager_a")


@pytest.fixture
def tech(demo):
    return actor_for("tech_a1")


def _fleet(manager, n=2):
    return [mobility.loaner_create(actor=manager, data={"plate": f"沪A{i}D{i:03d}", "model_name": "思域",
                                                        "odometer_km": 1000}) for i in range(n)]  # fmt: skip


def _book(actor, customer, **data):
    data.setdefault("starts_on", timezone.localdate().isoformat())
    return mobility.loaner_book(actor=actor, customer=customer, data=data)


def _fields(excinfo):
    return set(excinfo.value.fields)


# --- the fleet and bookings -----------------------------------------------------------------------


def test_fleet_plates_are_unique_and_only_managers_add(manager, advisor):
    _fleet(manager, 1)
    with pytest.raises(ValidationError) as e:
        mobility.loaner_create(actor=manager, data={"plate": "沪a0d000", "model_name": "X"})
    assert _fields(e) == {"plate"}
    with pytest.raises(PermissionDenied):
        mobility.loaner_create(actor=advisor, data={"plate": "沪B1", "model_name": "X"})


def test_booking_takes_a_free_loaner_and_the_last_one_is_lent_once(manager, advisor):
    a, b = _fleet(manager)
    customer, _car = make_car(advisor)
    first = _book(advisor, customer, ends_on=(timezone.localdate() + dt.timedelta(days=2)).isoformat())
    second = _book(advisor, customer)
    assert {first.loaner_id, second.loaner_id} == {a.pk, b.pk}
    with pytest.raises(Conflict) as e:
        _book(advisor, customer)
    assert _fields(e) == {"loaner"}
    with pytest.raises(Conflict):
        _book(advisor, customer, loaner=first.loaner_id,
              starts_on=(timezone.localdate() + dt.timedelta(days=2)).isoformat())  # fmt: skip
    # the day after the first ends, its loaner is free again
    later = _book(advisor, customer, loaner=first.loaner_id,
                  starts_on=(timezone.localdate() + dt.timedelta(days=3)).isoformat())  # fmt: skip
    assert later.loaner_id == first.loaner_id
    grid = mobility.loaner_availability(store_id=advisor.store_id, start=timezone.localdate(), days=4)
    row = next(r for r in grid if r["loaner"].pk == first.loaner_id)
    assert [d["booking"].pk if d["booking"] else None for d in row["days"]] == [first.pk] * 3 + [later.pk]
    # a cancelled booking frees its days
    mobility.loaner_booking_cancel(actor=advisor, booking=second)
    assert _book(advisor, customer).loaner_id == second.loaner_id


def test_booking_refuses_bad_input_naming_the_field(manager, advisor):
    _fleet(manager, 1)
    customer, _car = make_car(advisor)
    today = timezone.localdate()
    cases = [
        ({"starts_on": (today - dt.timedelta(days=1)).isoformat()}, {"starts_on"}),
        ({"ends_on": (today - dt.timedelta(days=1)).isoformat()}, {"ends_on"}),
        ({"ends_on": (today + dt.timedelta(days=90)).isoformat()}, {"ends_on"}),
        ({"starts_on": "2026-13-45"}, {"starts_on"}),
        ({"starts_on": "x\x00"}, {"starts_on"}),
        ({"loaner": 2**70}, {"loaner"}),
        ({"loaner": "abc"}, {"loaner"}),
        ({"loaner": 987654321}, {"loaner"}),
        ({"repair_order": -1}, {"repair_order"}),
        ({"appointment": ["1"]}, {"appointment"}),
    ]
    for data, fields in cases:
        with pytest.raises(ValidationError) as e:
            _book(advisor, customer, **data)
        assert _fields(e) == fields, data
    with pytest.raises(ValidationError) as e:
        mobility.loaner_book(actor=advisor, customer=customer, data={})
    assert "starts_on" in _fields(e)
    assert not LoanerBooking.objects.exists()


def test_a_foreign_stores_loaner_or_repair_order_is_not_valid(demo, advisor):
    other = actor_for("service_manager_b", "b") if _has("service_manager_b") else None
    if other is None:
        pytest.skip("no service manager in store b")
    foreign = mobility.loaner_create(actor=other, data={"plate": "苏E1", "model_name": "X"})
    customer, _car = make_car(advisor)
    with pytest.raises(ValidationError) as e:
        _book(advisor, customer, loaner=foreign.pk)
    assert _fields(e) == {"loaner"}


def _has(username):
    from autocrm.accounts.models import User

    return User.objects.filter(username=username).exists()


def test_handover_and_return_checks_and_charges_on_the_bill(manager, advisor):
    (_loaner,) = _fleet(manager, 1)
    MobilitySettings.objects.update_or_create(store_id=advisor.store_id, defaults={
        "loaner_free_days": 1, "loaner_day_rate": Decimal("200.00"), "level_rate": Decimal("50.00")})  # fmt: skip
    ro = make_ro(advisor)
    booking = _book(advisor, ro.customer, repair_order=ro.pk)
    with pytest.raises(ValidationError) as e:
        mobility.loaner_handover(actor=advisor, booking=booking, data={"level": 80, "odometer_km": 999})
    assert _fields(e) == {"odometer_km"}
    with pytest.raises(ValidationError) as e:
        mobility.loaner_handover(actor=advisor, booking=booking, data={"level": 101, "odometer_km": "1e9"})
    assert _fields(e) == {"level", "odometer_km"}
    with pytest.raises(Conflict):
        mobility.loaner_return(actor=advisor, booking=booking, data={"level": 80, "odometer_km": 1200})
    mobility.loaner_handover(actor=advisor, booking=booking, data={"level": "80", "odometer_km": "1000"})
    with pytest.raises(Conflict):
        mobility.loaner_handover(actor=advisor, booking=booking, data={"level": 80, "odometer_km": 1000})
    # lent three days ago: two days beyond the free one
    LoanerBooking.objects.filter(pk=booking.pk).update(starts_on=timezone.localdate() - dt.timedelta(days=2))
    bill = services.bill_make(ro)
    assert bill.total == Decimal("0.00")
    with pytest.raises(ValidationError) as e:
        mobility.loaner_return(actor=advisor, booking=booking, data={"level": 50, "odometer_km": 990})
    assert _fields(e) == {"odometer_km"}
    with pytest.raises(ValidationError) as e:
        mobility.loaner_return(actor=advisor, booking=booking,
                               data={"level": 50, "odometer_km": 1200, "damage_charge": "300.001"})  # fmt: skip
    assert _fields(e) == {"damage_charge"}
    with pytest.raises(ValidationError) as e:
        mobility.loaner_return(actor=advisor, booking=booking,
                               data={"level": 50, "odometer_km": 1200, "damage_charge": "300"})  # fmt: skip
    assert _fields(e) == {"damage_note"}
    booking = mobility.loaner_return(actor=advisor, booking=booking, data={
        "level": 55, "odometer_km": 1230, "damage_note": "右后门划痕", "damage_charge": "300"})  # fmt: skip
    assert booking.status == "returned"
    assert booking.day_charge == Decimal("400.00")
    assert booking.level_charge == Decimal("125.00")  # 25 % missing × 50 per 10 %
    assert booking.total_charge == Decimal("825.00") and booking.billed
    lines = PartLine.objects.filter(repair_order=ro).order_by("part_number")
    assert [(p.part_number, p.unit_price, p.approval) for p in lines] == [
        ("LOANER-DAMAGE", Decimal("300.00"), "approved"), ("LOANER-DAYS", Decimal("400.00"), "approved"),
        ("LOANER-LEVEL", Decimal("125.00"), "approved")]  # fmt: skip
    bill = Bill.objects.get(repair_order=ro)
    assert bill.total == Decimal("825.00") and bill.tax == Decimal("94.91")
    booking.loaner.refresh_from_db()
    assert (booking.loaner.odometer_km, booking.loaner.level) == (1230, 55)


def test_charges_of_a_paid_bill_are_collected_apart(manager, advisor):
    _fleet(manager, 1)
    ro = make_ro(advisor)
    booking = _book(advisor, ro.customer, repair_order=ro.pk)
    mobility.loaner_handover(actor=advisor, booking=booking, data={"level": 100, "odometer_km": 1000})
    bill = services.bill_make(ro)
    Bill.objects.filter(pk=bill.pk).update(status="paid")
    booking = mobility.loaner_return(actor=advisor, booking=booking, data={"level": 90, "odometer_km": 1010})
    assert booking.level_charge == Decimal("50.00") and not booking.billed
    assert not PartLine.objects.filter(repair_order=ro).exists()


def test_photos_are_checked_for_type(manager, advisor, settings, tmp_path):
    _fleet(manager, 1)
    customer, _car = make_car(advisor)
    booking = _book(advisor, customer)
    photo = mobility.loaner_photo_add(actor=advisor, booking=booking, stage="handover",
                                      file=SimpleUploadedFile("scratch.jpg", JPEG, content_type="image/jpeg"))  # fmt: skip
    assert photo.content_type == "image/jpeg"
    with pytest.raises(ValidationError) as e:
        mobility.loaner_photo_add(actor=advisor, booking=booking, stage="handover",
                                  file=SimpleUploadedFile("x.jpg", b"GIF89a" + b"\0" * 40, content_type="image/jpeg"))  # fmt: skip
    assert "file" in _fields(e)
    with pytest.raises(ValidationError) as e:
        mobility.loaner_photo_add(actor=advisor, booking=booking, stage="later\x00",
                                  file=SimpleUploadedFile("x.jpg", JPEG))  # fmt: skip
    assert _fields(e) == {"stage"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once: PostgreSQL")
def test_two_advisors_take_the_last_loaner_one_wins_the_other_409(committed_db):
    from django.db import connections

    from autocrm.demo.services import demo_create

    demo_create()
    manager = actor_for("service_manager_a", "a")
    _fleet(manager, 1)
    customer, _car = make_car(actor_for("advisor_a1", "a"))
    day = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    barrier, results = threading.Barrier(2), []

    def run(username):
        try:
            actor = actor_for(username, "a")
            barrier.wait()
            mobility.loaner_book(actor=actor, customer=customer, data={"starts_on": day})
            results.append(201)
        except Conflict:
            results.append(409)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in ("advisor_a1", "service_manager_a")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    assert LoanerBooking.objects.filter(starts_on=day).count() == 1


def test_booking_writes_the_stores_lock_before_it_looks(manager, advisor):
    """SQLite and PostgreSQL: the settings row is UPDATEd (locked) before the overlap query."""
    _fleet(manager, 1)
    customer, _car = make_car(advisor)
    seen = []
    original = mobility._overlapping

    def spy(store_id, *args):
        seen.append(MobilitySettings.objects.get(store_id=store_id).lock)
        return original(store_id, *args)

    mobility._overlapping = spy
    try:
        _book(advisor, customer)
        with pytest.raises(Conflict):
            _book(advisor, customer)
    finally:
        mobility._overlapping = original
    assert seen == [1, 2]


# --- errands --------------------------------------------------------------------------------------


def _errand(actor, customer, **data):
    data = {"kind": "inspection", "pickup_address": "浦东新区世纪大道100号", "dropoff_address": "车管所",
            "pickup_at": (timezone.now() + dt.timedelta(hours=2)).isoformat(), **data}  # fmt: skip
    return mobility.errand_create(actor=actor, customer=customer, data=data)


def test_errand_workflow_one_step_at_a_time_and_the_driver_sees_theirs(advisor, tech):
    customer, car = make_car(advisor)
    errand = _errand(advisor, customer, vehicle=car.pk)
    assert errand.status == "requested"
    with pytest.raises(Conflict):
        mobility.errand_advance(actor=advisor, errand=errand, to_status="en_route")
    assert not mobility_selectors.errand_list(actor=tech).exists()
    mobility.errand_assign(actor=advisor, errand=errand, driver=tech.user_id)
    assert list(mobility_selectors.errand_list(actor=tech)) == [errand]
    with pytest.raises(PermissionDenied):
        mobility.errand_assign(actor=tech, errand=errand, driver=tech.user_id)
    with pytest.raises(Conflict):
        mobility.errand_advance(actor=tech, errand=errand, to_status="done")
    mobility.errand_advance(actor=tech, errand=errand, to_status="en_route")
    done = mobility.errand_advance(actor=tech, errand=errand, to_status="done")
    assert done.status == "done" and done.started_at and done.done_at
    with pytest.raises(Conflict):
        mobility.errand_advance(actor=advisor, errand=errand, to_status="cancelled")
    with pytest.raises(Conflict):
        mobility.errand_assign(actor=advisor, errand=errand, driver=tech.user_id)
    with pytest.raises(ValidationError):
        mobility.errand_advance(actor=advisor, errand=_errand(advisor, customer), to_status="flying\x00")


def test_errand_input_is_checked_naming_the_field(advisor, tech):
    customer, car = make_car(advisor)
    other, _ = make_car(advisor)
    cases = [
        ({"kind": "teleport"}, {"kind"}),
        ({"pickup_address": ""}, {"pickup_address"}),
        ({"dropoff_address": "x\x00"}, {"dropoff_address"}),
        ({"pickup_at": "2026-12-01 10:00"}, {"pickup_at"}),
        ({"pickup_at": "2020-01-01T10:00:00+08:00"}, {"pickup_at"}),
        ({"dropoff_at": (timezone.now() + dt.timedelta(minutes=5)).isoformat()}, {"dropoff_at"}),
        ({"driver": advisor.user_id}, {"driver"}),
        ({"driver": 2**80}, {"driver"}),
        ({"vehicle": car.pk, "customer_is": "other"}, {"vehicle"}),
    ]
    for data, fields in cases:
        who = other if data.pop("customer_is", None) else customer
        with pytest.raises(ValidationError) as e:
            _errand(advisor, who, **data)
        assert _fields(e) == fields, data
    assert not Errand.objects.exists()
    assert _errand(advisor, customer, driver=tech.user_id).status == "assigned"
    with pytest.raises(ValidationError) as e:
        _errand(actor_for("agent_a1"), customer, driver=tech.user_id)
    assert _fields(e) == {"driver"}
    assert _errand(actor_for("agent_a1"), customer).status == "requested"


# --- rescue ---------------------------------------------------------------------------------------

CENTRE = (Decimal("31.230416"), Decimal("121.473701"))  # 人民广场


def _area(store_id, **values):
    MobilitySettings.objects.update_or_create(store_id=store_id, defaults={
        "area_lat": CENTRE[0], "area_lng": CENTRE[1], "area_radius_km": Decimal("20.0"), **values})  # fmt: skip


def test_distance_is_the_great_circle():
    # 人民广场 → 浦东机场 about 30 km
    assert 29 < mobility.distance_km(31.230416, 121.473701, 31.1443, 121.8083) < 34
    assert mobility.distance_km(31.0, 121.0, 31.0, 121.0) == 0


def test_rescue_inside_the_area_has_the_target_and_the_time_taken(advisor, tech):
    _area(advisor.store_id)
    rescue = mobility.rescue_create(actor=advisor, data={"lat": "31.2400", "lng": "121.4900", "address": "南京东路",
                                                         "problem": "电瓶亏电", "technician": tech.user_id})  # fmt: skip
    assert rescue.inside_area is True and rescue.target_minutes == 30 and rescue.distance_km < 3
    with pytest.raises(Conflict):
        mobility.rescue_advance(actor=tech, rescue=rescue, to_status="closed")
    Rescue.objects.filter(pk=rescue.pk).update(dispatched_at=timezone.now() - dt.timedelta(minutes=25))
    rescue = mobility.rescue_advance(actor=tech, rescue=rescue, to_status="arrived")
    assert rescue.minutes_taken in (25, 26) and rescue.target_met is True
    with pytest.raises(Conflict):
        mobility.rescue_advance(actor=tech, rescue=rescue, to_status="arrived")
    mobility.rescue_advance(actor=tech, rescue=rescue, to_status="fixed")
    closed = mobility.rescue_advance(actor=tech, rescue=rescue, to_status="closed")
    assert closed.status == "closed" and closed.resolved_at and closed.closed_at


def test_rescue_late_and_outside_the_area(advisor, tech):
    _area(advisor.store_id, rescue_target_minutes=40)
    late = mobility.rescue_create(actor=advisor, data={"address": "延安高架", "lat": 31.22, "lng": 121.45})
    Rescue.objects.filter(pk=late.pk).update(dispatched_at=timezone.now() - dt.timedelta(minutes=41))
    late = mobility.rescue_advance(actor=advisor, rescue=late, to_status="arrived")
    assert late.target_minutes == 40 and late.target_met is False
    far = mobility.rescue_create(actor=advisor, data={"lat": "31.1443", "lng": "121.8083"})
    assert far.inside_area is False and far.target_minutes is None and far.distance_km > 20
    far = mobility.rescue_advance(actor=advisor, rescue=far, to_status="arrived")
    assert far.target_met is None
    unknown = mobility.rescue_create(actor=advisor, data={"address": "沪宁高速 K12"})
    assert unknown.inside_area is None and unknown.target_minutes == 40


def test_rescue_input_and_scope(advisor, tech):
    cases = [
        ({}, {"address"}),
        ({"lat": "91", "lng": "121"}, {"lat"}),
        ({"lat": "1e400", "lng": "121"}, {"lat"}),
        ({"lat": "NaN", "lng": "121"}, {"lat"}),
        ({"lat": "31"}, {"lng"}),
        ({"address": "x\x00"}, {"address"}),
        ({"address": "a", "customer": 2**70}, {"customer"}),
        ({"address": "a", "technician": advisor.user_id}, {"technician"}),
        ({"address": "a", "problem": "p" * 301}, {"problem"}),
    ]
    for data, fields in cases:
        with pytest.raises(ValidationError) as e:
            mobility.rescue_create(actor=advisor, data=data)
        assert _fields(e) == fields, data
    rescue = mobility.rescue_create(actor=advisor, data={"address": "中山北路"})
    with pytest.raises(PermissionDenied):
        mobility.rescue_create(actor=tech, data={"address": "x"})
    assert not mobility_selectors.rescue_list(actor=tech).exists()
    mobility.rescue_assign(actor=advisor, rescue=rescue, technician=tech.user_id)
    assert list(mobility_selectors.rescue_list(actor=tech)) == [rescue]


def test_settings_are_the_managers_and_checked(manager, advisor):
    rules = mobility.mobility_settings_change(actor=manager, data={"rescue_target_minutes": "45", "area_lat": "31.2",
                                                                   "area_lng": "121.4", "area_radius_km": "25.5"})  # fmt: skip
    assert (rules.rescue_target_minutes, rules.area_radius_km) == (45, Decimal("25.5"))
    with pytest.raises(ValidationError) as e:
        mobility.mobility_settings_change(actor=manager, data={"rescue_target_minutes": "99999999999999999999",
                                                               "loaner_day_rate": "-1", "area_lng": "500"})  # fmt: skip
    assert _fields(e) == {"rescue_target_minutes", "loaner_day_rate", "area_lng"}
    with pytest.raises(PermissionDenied):
        mobility.mobility_settings_change(actor=advisor, data={})
