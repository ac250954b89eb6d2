"""The mobility API (ADR 0023): /loaners, /loaner-bookings, /errands, /rescues."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer

from .factories import make_car, make_ro


@pytest.fixture
def api(demo):
    return Client()


def post(api, path, data, user="advisor_a1"):
    return api.post(f"/api/v1{path}", data, content_type="application/json", **bearer(user))


def get(api, path, user="advisor_a1"):
    return api.get(f"/api/v1{path}", **bearer(user))


def test_fleet_booking_handover_return_over_the_api(api):
    r = post(api, "/loaners", {"plate": "沪A12345", "model_name": "雅阁", "energy": "fuel", "odometer_km": 500},
             user="service_manager_a")  # fmt: skip
    assert r.status_code == 201, r.content
    loaner = r.json()["id"]
    assert post(api, "/loaners", {"plate": "沪B1", "model_name": "x"}).status_code == 403
    assert get(api, "/loaners").json()["items"][0]["plate"] == "沪A12345"
    advisor = actor_for("advisor_a1")
    ro = make_ro(advisor)
    today = timezone.localdate().isoformat()
    r = post(api, "/loaner-bookings", {"customer": ro.customer_id, "starts_on": today, "repair_order": ro.pk})
    assert r.status_code == 201, r.content
    booking = r.json()
    assert booking["loaner"] == loaner and booking["status"] == "booked"
    r = post(api, "/loaner-bookings", {"customer": ro.customer_id, "starts_on": today})
    assert r.status_code == 409 and "loaner" in r.json()["fields"]
    days = get(api, f"/loaners/availability?date={today}&days=3").json()
    assert days[0]["days"][0]["booking"] == booking["id"] and days[0]["days"][1]["booking"] is None
    assert get(api, "/loaners/availability?date=nope").status_code == 400
    assert get(api, "/loaners/availability?days=99").status_code == 400
    bid = booking["id"]
    assert post(api, f"/loaner-bookings/{bid}/return", {"level": 50, "odometer_km": 600}).status_code == 409
    r = post(api, f"/loaner-bookings/{bid}/handover", {"level": 90, "odometer_km": 500})
    assert r.status_code == 200 and r.json()["status"] == "out"
    r = post(api, f"/loaner-bookings/{bid}/return", {"level": 60, "odometer_km": 499})
    assert r.status_code == 400 and "odometer_km" in r.json()["fields"]
    r = post(api, f"/loaner-bookings/{bid}/return", {"level": 70, "odometer_km": 560})
    assert r.status_code == 200, r.content
    assert r.json()["level_charge"] == "100.00" and r.json()["total_charge"] == "100.00"
    assert get(api, f"/loaner-bookings/{bid}").json()["status"] == "returned"
    assert get(api, "/loaner-bookings?status=returned").json()["items"][0]["id"] == bid
    assert get(api, "/loaner-bookings?status=lost").status_code == 400


def test_errands_and_rescues_over_the_api(api):
    advisor, tech = actor_for("advisor_a1"), actor_for("tech_a1")
    customer, car = make_car(advisor)
    at = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    r = post(api, "/errands", {"customer": customer.pk, "vehicle": car.pk, "kind": "pickup", "pickup_address": "家",
                               "dropoff_address": "店", "pickup_at": at})  # fmt: skip
    assert r.status_code == 201, r.content
    eid = r.json()["id"]
    assert get(api, f"/errands/{eid}", user="tech_a1").status_code == 404
    assert post(api, f"/errands/{eid}/advance", {"status": "done"}).status_code == 409
    assert post(api, f"/errands/{eid}/assign", {"driver": tech.user_id}).json()["status"] == "assigned"
    assert get(api, "/errands", user="tech_a1").json()["items"][0]["id"] == eid
    assert post(api, f"/errands/{eid}/assign", {"driver": tech.user_id}, user="tech_a1").status_code == 403
    assert post(api, f"/errands/{eid}/advance", {"status": "en_route"}, user="tech_a1").status_code == 200
    assert post(api, f"/errands/{eid}/advance", {"status": "done"}, user="tech_a1").json()["status"] == "done"
    r = post(api, "/rescues", {"address": "外滩", "lat": 31.24, "lng": 121.49, "technician": tech.user_id})
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert r.json()["inside_area"] is None  # no area set yet
    assert post(api, f"/rescues/{rid}/advance", {"status": "fixed"}, user="tech_a1").status_code == 409
    assert post(api, f"/rescues/{rid}/advance", {"status": "arrived"}, user="tech_a1").json()["minutes_taken"] in (0, 1)
    assert get(api, "/rescues?open=true").json()["items"][0]["id"] == rid


@pytest.mark.parametrize(
    "path,body",
    [
        ("/loaners", {"plate": "A\x00", "model_name": "x"}),
        ("/loaners", {"plate": "A1", "model_name": "x", "odometer_km": 10**30}),
        ("/loaner-bookings", {"customer": 1, "starts_on": "2026-01-01"}),
        ("/loaner-bookings", {"customer": 2**63, "starts_on": "x"}),
        (
            "/errands",
            {"customer": 10**20, "kind": "pickup", "pickup_address": "a", "dropoff_address": "b", "pickup_at": "x"},
        ),
        ("/rescues", {"lat": "1e999999", "lng": 10**40}),
        ("/rescues", {"address": "\x00"}),
        ("/rescues", {"customer": "99999999999999999999999", "address": "a"}),
    ],
)
def test_hostile_input_is_a_4xx_never_a_500(api, path, body):
    r = post(api, path, body, user="service_manager_a")
    assert r.status_code in (400, 404, 422), (r.status_code, r.content)


@pytest.mark.parametrize(
    "path",
    [
        "/loaners/987654321",
        "/loaner-bookings/987654321",
        "/errands/987654321",
        "/rescues/987654321",
        "/loaners/99999999999999999999999",
    ],
)
def test_bad_ids_are_404(api, path):
    assert get(api, path).status_code == 404
