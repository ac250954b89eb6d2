"""Mobility in a real browser (issue 14 item 1b, ADR 0023): the advisor lends a loaner — booked
for the customer, handed over with fuel level and mileage and a photo, taken back with the return
check, the charges shown; an errand (上门取车) is given to a driver (a technician), who does it on
his phone (390×844, Chinese): on my way → done; a roadside rescue is dispatched, the crew marks
arrival on the phone, the dispatcher has it towed and closes it, with the minutes it took.
Screenshots in test-output/e2e/."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for
from autocrm.demo.services import demo_create
from autocrm.service import mobility
from autocrm.service.models import Errand, LoanerBooking, LoanerPhoto, Rescue
from autocrm.service.tests.factories import make_car

from .conftest import OUTPUT
from .test_shell import PASSWORD, sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def _phone_sign_in(browser: Any, base: str, username: str) -> tuple[Any, Any]:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai", is_mobile=True,
                                  has_touch=True)  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(base + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_selector("#main-nav", state="attached")
    return context, page


def _fits(page: Any, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    assert page.evaluate("document.documentElement.lang").lower().startswith("zh"), name


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state()


def test_loaner_errand_and_rescue(e2e_db: None, live_server: Any, page: Any, browser: Any, screenshot: Any,
                                  tmp_path: Path) -> None:  # fmt: skip
    demo_create()
    base = live_server.url
    advisor = actor_for("advisor_a1")
    driver = User.objects.get(username="tech_a1")
    customer, car = make_car(advisor, plate="沪C8M315")
    customer.name = "林晓东"
    customer.save()
    loaner = mobility.loaner_create(actor=actor_for("service_manager_a"),
                                    data={"plate": "沪A·D2J88", "model_name": "秦PLUS", "odometer_km": 15200})  # fmt: skip
    OUTPUT.mkdir(parents=True, exist_ok=True)

    sign_in(page, base, "advisor_a1")
    photo = tmp_path / "loaner.jpg"
    photo.write_bytes(page.screenshot(type="jpeg", quality=60, clip={"x": 0, "y": 0, "width": 320, "height": 240}))

    # The loaner: booked for the customer today, handed over with 80 % and its mileage, a photo.
    page.goto(base + "/service/mobility/loaners/")
    page.fill("#l-customer", str(customer.pk))
    page.select_option("#l-loaner", str(loaner.pk))
    _submit(page, "[data-testid=book-loaner]")
    page.wait_for_url(re.compile(r"/service/mobility/bookings/\d+/$"))
    booking = LoanerBooking.objects.get(loaner=loaner)
    assert "林晓东" in page.inner_text("[data-testid=booking]")
    page.fill("#h-level", "80")
    page.fill("#h-km", "15230")
    _submit(page, "[data-testid=handover]")
    page.set_input_files("input[name=file]", str(photo))
    _submit(page, "form[action$='/photos/'] button")
    page.wait_for_selector("[data-testid=photos] img")
    # the element is there before its bytes: wait for the picture itself, then check it is the photo
    page.wait_for_function(
        "(() => { const i = document.querySelector('[data-testid=photos] img');"
        " return i && i.complete && i.naturalWidth > 0; })()"
    )
    assert page.evaluate("document.querySelector('[data-testid=photos] img').naturalWidth") == 320
    booking.refresh_from_db()
    assert (booking.status, booking.out_level, booking.out_km) == ("out", 80, 15230)
    # Taken back the same day with less fuel and a scratch: the return check and its charges.
    page.fill("#r-level", "50")
    page.fill("#r-km", "15342")
    page.fill("#r-note", "右后门轻微划痕")
    page.fill("#r-charge", "200.00")
    _submit(page, "[data-testid=return]")
    booking.refresh_from_db()
    assert (booking.status, booking.return_level, booking.return_km) == ("returned", 50, 15342)
    assert booking.total_charge >= 200
    assert f"¥{booking.total_charge}" in page.inner_text("[data-testid=charges]")
    assert LoanerPhoto.objects.filter(booking=booking).count() == 1
    screenshot("mobility-loaner-returned")

    # The errand: pick the car up at the owner's address, driven by tech_a1.
    pickup = (timezone.localtime() + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    page.goto(base + f"/service/mobility/errands/?date={pickup.date().isoformat()}")
    page.select_option("#e-kind", "pickup")
    page.fill("#e-customer", str(customer.pk))
    page.fill("#e-vehicle", str(car.pk))
    page.fill("#e-from", "上海市浦东新区张杨路 500 号")
    page.fill("#e-to", "本店")
    page.fill("#e-at", pickup.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#e-driver", str(driver.pk))
    _submit(page, "[data-testid=request-errand]")
    errand = Errand.objects.get(customer=customer)
    assert (errand.status, errand.driver_id) == ("assigned", driver.pk)

    # The rescue: dispatched by the advisor with the crew.
    page.goto(base + "/service/mobility/rescues/")
    page.fill("#s-address", "沪芦高速 12 公里处")
    page.fill("#s-problem", "爆胎，无法行驶")
    page.fill("#s-customer", str(customer.pk))
    page.select_option("#s-tech", str(driver.pk))
    _submit(page, "[data-testid=dispatch]")
    rescue = Rescue.objects.get(customer=customer)
    assert rescue.status == "dispatched"

    # The driver's phone: his errand, on my way, done; at the rescue, arrived.
    context, phone = _phone_sign_in(browser, base, "tech_a1")
    try:
        phone.goto(base + f"/service/mobility/errands/?date={pickup.date().isoformat()}")
        assert "我的" in phone.inner_text("h2.page-title") and "林晓东" in phone.inner_text("[data-testid=errands]")
        _fits(phone, "errands")
        phone.screenshot(path=str(OUTPUT / "mobility-phone-errand.png"), full_page=True)
        _submit(phone, "[data-testid=en-route]")
        _submit(phone, "[data-testid=done]")
        errand.refresh_from_db()
        assert errand.status == "done"
        phone.goto(base + "/service/mobility/rescues/")
        assert "爆胎" in phone.inner_text("[data-testid=rescue-board]")
        _fits(phone, "rescues")
        _submit(phone, "[data-testid=arrived]")
        rescue.refresh_from_db()
        assert rescue.status == "arrived" and rescue.minutes_taken is not None and rescue.target_met is True
        assert "已到达" in phone.inner_text("[data-testid=rescue-board]")
        phone.screenshot(path=str(OUTPUT / "mobility-phone-rescue.png"), full_page=True)
    finally:
        context.close()

    # The dispatcher: towed in, then closed; the minutes it took are on the board.
    page.goto(base + "/service/mobility/rescues/")
    _submit(page, "#rescue-board form:has(input[value=towed]) button")
    _submit(page, "#rescue-board form:has(input[value=closed]) button")
    rescue.refresh_from_db()
    assert rescue.status == "closed"
    screenshot("mobility-rescue-closed")
