"""Mobility pages (ADR 0023): the fleet, a booking's checks with a photo, errands for the desk
and the driver, the rescue board and its htmx part, the driver's home panel."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for
from autocrm.service import mobility
from autocrm.service.models import Errand, LoanerBooking, Rescue

from .factories import JPEG, make_car


def client_for(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


def test_fleet_booking_and_checks_through_the_pages(advisor):
    manager = client_for("service_manager_a")
    r = manager.post("/service/mobility/loaners/add/", {"plate": "沪A88888", "model_name": "凯美瑞", "energy": "fuel",
                                                        "odometer_km": "100"})  # fmt: skip
    assert r.status_code == 302
    desk = client_for("advisor_a1")
    page = desk.get("/service/mobility/loaners/")
    assert page.status_code == 200 and "沪A88888" in page.content.decode() and "空闲" in page.content.decode()
    customer, _car = make_car(advisor)
    r = desk.post("/service/mobility/bookings/add/", {"customer": customer.pk,
                                                      "starts_on": timezone.localdate().isoformat()})  # fmt: skip
    booking = LoanerBooking.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/bookings/{booking.pk}/")
    assert desk.post(f"/service/mobility/bookings/{booking.pk}/handover/",
                     {"level": "100", "odometer_km": "100"}).status_code == 302  # fmt: skip
    r = desk.post(f"/service/mobility/bookings/{booking.pk}/photos/", {
        "stage": "return", "file": SimpleUploadedFile("dent.jpg", JPEG, content_type="image/jpeg")})  # fmt: skip
    assert r.status_code == 302
    photo = booking.photos.get()
    assert desk.get(f"/service/mobility/bookings/{booking.pk}/photos/{photo.pk}/")["Content-Type"] == "image/jpeg"
    page = desk.post(f"/service/mobility/bookings/{booking.pk}/return/", {"level": "100", "odometer_km": "50"},
                     follow=True).content.decode()  # fmt: skip
    assert "低于交车时的读数" in page  # the refusal, in Chinese
    desk.post(f"/service/mobility/bookings/{booking.pk}/return/", {"level": "90", "odometer_km": "150"})
    booking.refresh_from_db()
    assert booking.status == "returned" and str(booking.level_charge) == "50.00"
    page = desk.get(f"/service/mobility/bookings/{booking.pk}/").content.decode()
    assert "已还车" in page and "¥50.00" in page


def test_errands_page_for_the_desk_and_the_driver(advisor):
    tech = actor_for("tech_a1")
    customer, _car = make_car(advisor)
    desk = client_for("advisor_a1")
    at = timezone.localtime(timezone.now() + dt.timedelta(hours=1)).replace(tzinfo=None)
    r = desk.post("/service/mobility/errands/add/", {"customer": customer.pk, "kind": "inspection",
                                                     "pickup_address": "静安寺", "dropoff_address": "车管所",
                                                     "pickup_at": at.strftime("%Y-%m-%dT%H:%M"),
                                                     "driver": tech.user_id})  # fmt: skip
    assert r.status_code == 302
    errand = Errand.objects.get()
    assert errand.status == "assigned" and timezone.localtime(errand.pickup_at).hour == at.hour
    day = timezone.localdate(errand.pickup_at).isoformat()
    page = desk.get(f"/service/mobility/errands/?date={day}").content.decode()
    assert "静安寺" in page and "年检代办" in page
    driver = client_for("tech_a1")
    page = driver.get(f"/service/mobility/errands/?date={day}").content.decode()
    assert "我的代办" in page and "静安寺" in page and 'data-testid="en-route"' in page
    driver.post(f"/service/mobility/errands/{errand.pk}/advance/", {"status": "en_route"})
    assert Errand.objects.get().status == "en_route"
    assert driver.post("/service/mobility/errands/add/", {"customer": customer.pk}).status_code == 403
    assert driver.get("/service/mobility/").status_code == 302


def test_rescue_board_and_its_htmx_part(advisor, django_assert_max_num_queries):
    tech = actor_for("tech_a1")
    mobility.mobility_settings_change(actor=actor_for("service_manager_a"), data={
        "area_lat": "31.23", "area_lng": "121.47", "area_radius_km": "10"})  # fmt: skip
    for i in range(3):
        mobility.rescue_create(actor=advisor, data={"address": f"路口{i}", "lat": "31.24", "lng": "121.48",
                                                    "technician": tech.user_id})  # fmt: skip
    far = mobility.rescue_create(actor=advisor, data={"address": "远郊", "lat": "30.9", "lng": "121.9"})
    Rescue.objects.filter(address="路口0").update(dispatched_at=timezone.now() - dt.timedelta(minutes=45))
    desk = client_for("advisor_a1")
    page = desk.get("/service/mobility/rescues/")
    html = page.content.decode()
    assert page.status_code == 200 and "救援调度" in html and "服务区域外" in html and "text-danger" in html
    assert 'hx-trigger="every 30s"' in html and "HX-Request" in page["Vary"]
    with django_assert_max_num_queries(12):
        part = desk.get("/service/mobility/rescues/", headers={"HX-Request": "true"})
    assert "<html" not in part.content.decode() and "远郊" in part.content.decode()
    desk.post(f"/service/mobility/rescues/{far.pk}/advance/", {"status": "arrived"})
    assert Rescue.objects.get(pk=far.pk).status == "arrived"
    home = client_for("tech_a1").get("/").content.decode()
    assert 'data-testid="home-driver"' in home and "路口1" in home


def test_hostile_form_input_is_never_a_500(advisor):
    desk = client_for("service_manager_a")
    for path, data in [
        ("/service/mobility/loaners/add/", {"plate": "\x00", "model_name": "x" * 999, "odometer_km": "9" * 50}),
        ("/service/mobility/bookings/add/", {"customer": "9" * 40, "starts_on": "\x00"}),
        ("/service/mobility/errands/add/", {"customer": "abc", "pickup_at": "2026-99-99T99:99"}),
        ("/service/mobility/rescues/add/", {"lat": "1e9999999", "lng": "-inf", "address": "\x00"}),
        ("/service/mobility/settings/", {"rescue_target_minutes": "1" * 60, "area_radius_km": "NaN"}),
        ("/service/mobility/rescues/987654321/advance/", {"status": "closed"}),
    ]:
        assert desk.post(path, data).status_code in (302, 400, 404), path
    assert desk.get("/service/mobility/loaners/?date=\x00").status_code in (200, 400)
    assert desk.get("/service/mobility/errands/?date=9999-99-99").status_code == 200
