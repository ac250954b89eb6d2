import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client

from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.service import selectors, services
from autocrm.service.models import Appointment, ServiceDay, ServiceSettings

from .factories import make_canned, make_car, tomorrow_at


@pytest.fixture
def api(demo):
    return Client()


def post(api, path, data, user="advisor_a1"):
    return api.post(f"/api/v1{path}", data, content_type="application/json", **bearer(user))


def get(api, path, user="advisor_a1"):
    return api.get(f"/api/v1{path}", **bearer(user))


def test_book_receive_canned_estimate_bill_over_the_api(api):
    advisor = actor_for("advisor_a1")
    customer, car = make_car(advisor)
    canned = make_canned(actor_for("service_manager_a"))
    day = tomorrow_at(9).date().isoformat()
    slots = get(api, f"/appointment-slots?date={day}&service_type=maintenance")
    assert slots.status_code == 200 and slots.json()[0]["available"], slots.content
    r = post(
        api, "/appointments", {"customer": customer.pk, "vehicle": car.pk, "starts_at": slots.json()[0]["starts_at"]}
    )
    assert r.status_code == 201, r.content
    appointment = r.json()["id"]
    assert get(api, f"/appointments?date={day}").json()["items"][0]["id"] == appointment
    r = post(api, "/repair-orders", {"appointment": appointment, "odometer_km": 10100, "complaint": "保养"})
    assert r.status_code == 201, r.content
    ro = r.json()
    assert ro["status"] == "received" and ro["next_status"] == "diagnosis"
    assert Appointment.objects.get(pk=appointment).status == "arrived"
    rid = ro["id"]
    r = post(api, f"/repair-orders/{rid}/canned-jobs", {"canned_job": canned.pk})
    assert r.status_code == 200 and len(r.json()["jobs"]) == 1 and len(r.json()["parts"]) == 2, r.content
    r = post(api, f"/repair-orders/{rid}/jobs", {"code": "WIP", "name": "雨刮更换", "hours": "0.2"})
    assert r.status_code == 201 and r.json()["amount"] == "36.00", r.content
    assert post(api, f"/repair-orders/{rid}/advance", {"to_status": "in_repair"}).status_code == 409
    assert post(api, f"/repair-orders/{rid}/advance", {}).json()["status"] == "diagnosis"
    r = post(api, f"/repair-orders/{rid}/estimate-link", {})
    assert r.status_code == 201 and "/e/" in r.json()["link"], r.content
    lines = get(api, f"/repair-orders/{rid}/estimate").json()["lines"]
    answers = {line["key"]: "declined" if line["name"] == "雨刮更换" else "approved" for line in lines}
    r = post(api, f"/repair-orders/{rid}/estimate", {"answers": answers})
    assert r.status_code == 200 and r.json()["status"] == "in_repair", r.content
    job = next(j for j in get(api, f"/repair-orders/{rid}").json()["jobs"] if j["approval"] == "approved")
    r = api.patch(f"/api/v1/repair-orders/{rid}/jobs/{job['id']}", {"progress": "done", "findings": "正常"},
                  content_type="application/json", **bearer("tech_a1"))  # fmt: skip
    assert r.status_code == 200 and r.json()["progress"] == "done", r.content
    for status in ("quality_check", "awaiting_payment"):
        assert post(api, f"/repair-orders/{rid}/advance", {}).json()["status"] == status
    bill = get(api, f"/repair-orders/{rid}").json()["bill"]
    body = get(api, f"/bills/{bill}").json()
    assert (body["labour_total"], body["parts_total"], body["total"], body["tax"]) == (
        "180.00", "426.00", "606.00", "69.72")  # fmt: skip
    assert post(api, f"/bills/{bill}/pay", {"method": "alipay"}).json()["status"] == "paid"
    assert post(api, f"/repair-orders/{rid}/advance", {}).json()["status"] == "delivered"
    assert get(api, "/bills?status=paid").json()["items"][0]["id"] == bill


def test_hostile_input_is_400_naming_the_field(api):
    advisor = actor_for("advisor_a1")
    customer, car = make_car(advisor)
    cases = [
        ("/appointments", {"customer": customer.pk, "starts_at": "2026-13-45"}, "starts_at"),
        (
            "/appointments",
            {"customer": customer.pk, "starts_at": tomorrow_at(9).isoformat(), "note": "x" * 501},
            "note",
        ),
        (
            "/appointments",
            {"customer": customer.pk, "starts_at": tomorrow_at(9).isoformat(), "service_type": "x"},
            "service_type",
        ),
        ("/repair-orders", {"customer": customer.pk, "vehicle": car.pk, "odometer_km": -5}, "odometer_km"),
        ("/repair-orders", {"customer": customer.pk, "vehicle": car.pk, "odometer_km": "1e99"}, "odometer_km"),
        (
            "/repair-orders",
            {"customer": customer.pk, "vehicle": car.pk, "odometer_km": 5, "recall_codes": [""]},
            "recall_codes",
        ),
        ("/canned-jobs", {"code": "A", "name": "A", "lines": "oops"}, None),
    ]
    for path, data, field in cases:
        r = post(api, path, data, "service_manager_a")
        assert r.status_code == 400, (path, data, r.content)
        if field:
            assert field in r.json()["fields"], (path, r.content)
    for path in ("/appointment-slots?date=yesterday", "/appointment-slots?date=2026-12-01&service_type=x",
                 "/appointments?date=x", "/appointments?status=x", "/repair-orders?status=x",
                 "/repair-orders?customer=99999999999999999999", "/bills?status=x", "/repair-orders?cursor=forged"):  # fmt: skip
        assert get(api, path).status_code == 400, path
    r = post(api, "/repair-orders", {"customer": customer.pk, "vehicle": car.pk, "odometer_km": 900})
    rid = r.json()["id"]
    r = post(api, "/repair-orders", {"customer": customer.pk, "vehicle": car.pk, "odometer_km": 800})
    assert r.status_code == 400 and "correction_reason" in r.json()["fields"]
    for data, _field in [({"code": "A", "name": "B", "hours": {"x": 1}}, "hours"),
                        ({"code": ["A"], "name": "B", "hours": 1}, "code"),
                        ({"code": "A", "name": "B", "hours": "1", "technician": 2**70}, "technician")]:  # fmt: skip
        r = post(api, f"/repair-orders/{rid}/jobs", data)
        assert r.status_code == 400, (data, r.content)
    r = post(api, f"/repair-orders/{rid}/estimate", {"answers": {"job:999": "approved"}})
    assert r.status_code == 400
    assert post(api, f"/repair-orders/{rid}/advance", {"to_status": "nope"}).status_code == 400
    assert post(api, f"/repair-orders/{rid}/parts", {"part": 99999999, "quantity": "1"}).status_code == 404


def test_booking_checks_capacity_under_the_days_lock(demo):
    """The transaction-level check (SQLite and PostgreSQL): the day's row is written — locked —
    before the bookings are counted, so a concurrent booking waits for this one's commit."""
    advisor = actor_for("advisor_a1")
    customer, car = make_car(advisor)
    seen = []
    original = selectors.day_occupancy

    def spy(**kwargs):
        row = ServiceDay.objects.filter(store_id=kwargs["store_id"], day=kwargs["day"]).first()
        seen.append(row.bookings if row else 0)
        return original(**kwargs)

    selectors.day_occupancy = spy
    try:
        services.appointment_book(actor=advisor, customer=customer, vehicle=car,
                                  data={"starts_at": tomorrow_at(9).isoformat()})  # fmt: skip
        services.appointment_book(actor=advisor, customer=customer, vehicle=car,
                                  data={"starts_at": tomorrow_at(10).isoformat()})  # fmt: skip
    finally:
        selectors.day_occupancy = original
    assert seen == [1, 2]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once: PostgreSQL")
def test_two_clients_take_the_last_place_one_wins_the_other_409(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    advisor = actor_for("advisor_a1", "a")
    ServiceSettings.objects.update_or_create(store_id=advisor.store_id, defaults={"bays": 1, "priority_reserve": 0})
    customer, car = make_car(advisor)
    at = tomorrow_at(11) + dt.timedelta(days=3)
    barrier, results = threading.Barrier(2), []

    def run(username):
        from django.db import connections

        from autocrm.core.errors import Conflict

        try:
            actor = actor_for(username, "a")
            barrier.wait()
            services.appointment_book(actor=actor, customer=customer, vehicle=car, data={"starts_at": at.isoformat()})
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
    assert Appointment.objects.filter(starts_at=at).count() == 1
