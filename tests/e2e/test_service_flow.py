"""The after-sales flow in a real browser (issue 14, acceptance): the advisor books a service
with the customer-and-car picker, receives the car with its mileage, walks round it with the
inspection checklist (a red finding with a photo), builds the repair order from a canned job and
the finding, sends the estimate; the owner — a second, anonymous browser — sees the finding with
its photo, approves the canned job and declines the finding; the technician's work is done, the
advisor moves the order on, bills, takes the payment and delivers — and the customer's 360 page
shows the car's next due date and the declined work to offer again. Then the advisor's home, the
repair order and the inspection at phone size (390×844) in Chinese. Screenshots in test-output/e2e/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from autocrm.customers.tests.factories import actor_for
from autocrm.demo.services import demo_create
from autocrm.service import services
from autocrm.service.models import EstimateLink, InspectionItem, Job, RepairOrder
from autocrm.service.tests.factories import JPEG, make_canned, make_car

from .conftest import OUTPUT
from .test_shell import PASSWORD, sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def _world(tmp_path: Path) -> dict[str, Any]:
    demo_create()
    advisor = actor_for("advisor_a1")
    customer, car = make_car(advisor, plate="沪A5E321")
    customer.name = "周海燕"
    customer.save()
    canned = make_canned(actor_for("service_manager_a"))
    photo = tmp_path / "tyre.jpg"
    photo.write_bytes(JPEG)
    return {"customer": customer, "car": car, "canned": canned, "photo": photo}


def _reveal(page: Any, part: str, selector: str) -> None:
    """Scroll a lazily loaded part of the 360 page into view (in the page's context: the swapped
    element replaces the placeholder, so a handle would go stale) until ``selector`` shows."""
    page.evaluate("id => document.getElementById(id).scrollIntoView()", part)
    page.wait_for_selector(selector)


def _advance(page: Any) -> None:
    page.click("[data-testid=advance]")
    page.wait_for_load_state()


def test_book_receive_inspect_estimate_bill_and_the_360(e2e_db: None, live_server: Any, page: Any, browser: Any,
                                                         screenshot: Any, tmp_path: Path) -> None:  # fmt: skip
    world = _world(tmp_path)
    base = live_server.url
    sign_in(page, base, "advisor_a1")
    # A real, decodable JPEG (the phone camera's stand-in): a picture of the page itself.
    world["photo"].write_bytes(page.screenshot(type="jpeg", quality=60, clip={"x": 0, "y": 0, "width": 320,
                                                                               "height": 240}))  # fmt: skip

    # Book tomorrow through the picker: type the end of the plate, choose with the keyboard.
    page.goto(base + "/service/appointments/")
    page.click("a:has-text('›')")
    page.wait_for_load_state()
    page.fill("[data-testid=pick-input]", "5E321")
    page.wait_for_selector("[data-testid=pick-results] [data-pick]")
    page.press("[data-testid=pick-input]", "ArrowDown")
    page.keyboard.press("Enter")
    assert "沪A5E321" in page.inner_text("[data-testid=pick-chosen]")
    page.click("[data-testid=book]")
    page.wait_for_load_state()
    assert "周海燕" in page.inner_text("[data-testid=appointments]")

    # Receive the car with its mileage.
    page.fill("input[name=odometer_km]", "12000")
    page.click("[data-testid=receive]")
    page.wait_for_url(re.compile(r"/service/\d+/$"))
    ro = RepairOrder.objects.get(vehicle=world["car"])
    assert ro.odometer_km == 12000

    # The walk-round inspection: the first tyre red with a note and a photo, the second green.
    page.click("[data-testid=inspection-link]")
    page.click("[data-testid=inspection-start]")
    page.wait_for_selector("[data-testid=inspection-item]")
    first = page.locator("[data-testid=inspection-item]").nth(0)
    first.locator("[data-testid=rate-red]").click()
    first.locator("input[name=note]").fill("胎侧鼓包")
    first.locator("[data-testid=photo-input]").set_input_files(str(world["photo"]))
    first.locator("[data-testid=item-save]").click()
    first_item = InspectionItem.objects.filter(inspection__repair_order=ro).order_by("position").first()
    assert first_item is not None
    page.wait_for_selector(f"#item-{first_item.pk} [data-testid=item-photos] img")
    second = page.locator("[data-testid=inspection-item]").nth(1)
    second.locator("[data-testid=rate-green]").click()
    second.locator("[data-testid=item-save]").click()
    second = page.locator("[data-testid=inspection-item]").nth(1)
    second.locator("[data-testid=item-saved]").wait_for()
    screenshot("service-inspection")
    page.click("[data-testid=inspection-done]")
    page.wait_for_url(re.compile(r"/service/\d+/$"))

    # The repair order from the canned job and the finding, then the estimate to the owner.
    page.wait_for_selector("[data-testid=ro-inspection] [data-testid=finding]")
    page.select_option("select[name=canned_job]", str(world["canned"].pk))
    page.click("[data-testid=canned-apply]")
    page.wait_for_load_state()
    page.wait_for_selector("[data-testid=ro-inspection] [data-testid=recommend]")
    page.click("[data-testid=ro-inspection] [data-testid=recommend]")
    page.wait_for_load_state()
    page.wait_for_selector("[data-testid=finding-added]")
    jobs = page.inner_text("[data-testid=jobs]")
    assert "更换机油机滤" in jobs and "胎侧鼓包" in jobs
    _advance(page)  # to diagnosis
    page.click("[data-testid=estimate-send]")
    page.wait_for_load_state()
    link = EstimateLink.objects.filter(repair_order=ro, revoked_at__isnull=True).latest("id")
    url = base + urlsplit(services.estimate_url(link)).path

    # The owner, without a login: the finding with its photo; approve the package, decline the tyre.
    owner_context = browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai")
    try:
        owner = owner_context.new_page()
        owner.goto(url)
        owner.wait_for_selector("[data-testid=owner-findings]")
        assert "胎侧鼓包" in owner.inner_text("[data-testid=owner-findings]")
        owner.wait_for_function("document.querySelector('[data-testid=owner-finding-photo]').complete")
        assert owner.evaluate("document.querySelector('[data-testid=owner-finding-photo]').naturalWidth") == 320
        tyre_job = Job.objects.get(repair_order=ro, code__startswith="INSP")
        for fieldset in owner.locator("[data-testid=estimate-form] fieldset").all():
            name = fieldset.locator("input[type=radio]").first.get_attribute("name")
            value = "declined" if name == f"job:{tyre_job.pk}" else "approved"
            fieldset.locator(f"input[value={value}]").check()
        owner.screenshot(path=str(OUTPUT / "service-owner-estimate.png"), full_page=True)
        owner.click("[data-testid=estimate-submit]")
        owner.wait_for_load_state()
        owner.screenshot(path=str(OUTPUT / "service-owner-answered.png"), full_page=True)
        owner.wait_for_selector("[data-testid=progress]")
    finally:
        owner_context.close()

    # The workshop does the approved work (the technician's own page is tested elsewhere).
    tech = actor_for("tech_a1")
    page.reload()
    _advance(page)  # to in repair (the owner's link already answered: 待客户确认 → 维修中)
    ro.refresh_from_db()
    for job in Job.objects.filter(repair_order=ro, approval="approved"):
        services.job_progress(actor=tech, job=job, data={"progress": "done"})
    page.reload()
    _advance(page)  # quality check
    _advance(page)  # awaiting payment: the bill is made
    page.click("[data-testid=bill-link]")
    page.wait_for_load_state()
    page.click("[data-testid=pay]")
    page.wait_for_url(re.compile(r"/service/\d+/$"))
    _advance(page)  # delivered
    assert RepairOrder.objects.get(pk=ro.pk).status == "delivered"

    # The 360 page: the car's next due date and the declined tyre to offer again.
    page.goto(base + f"/customers/{world['customer'].pk}/")
    _reveal(page, "customer-maintenance", "#customer-maintenance [data-next-due]")
    _reveal(page, "service", "[data-testid=declined-work]")
    assert "胎侧鼓包" in page.inner_text("[data-testid=declined-work]")
    screenshot("service-customer-360")


def test_the_advisor_on_a_phone_in_chinese(e2e_db: None, live_server: Any, browser: Any, tmp_path: Path) -> None:
    """The advisor's home, a repair order and its inspection at 390×844, in Chinese, without
    sideways scrolling; the inspection's colour buttons are big enough for a thumb."""
    world = _world(tmp_path)
    advisor = actor_for("advisor_a1")
    ro = services.repair_order_receive(actor=advisor, customer=world["customer"], vehicle=world["car"],
                                       data={"odometer_km": 8000, "complaint": "刹车异响"})  # fmt: skip
    from autocrm.service import inspection

    insp = inspection.inspection_start(actor=advisor, repair_order=ro)
    item = InspectionItem.objects.filter(inspection=insp).order_by("position").first()
    inspection.inspection_item_set(actor=advisor, item=item, data={"rating": "amber", "note": "磨损 3mm"})
    context = browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai", is_mobile=True,
                                  has_touch=True)  # fmt: skip
    OUTPUT.mkdir(parents=True, exist_ok=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + "/")
        page.fill("#id_username", "advisor_a1")
        page.fill("#id_password", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("#main-nav", state="attached")  # the menu folds away on a phone
        for name, path in (("home", "/"), ("repair-order", f"/service/{ro.pk}/"),
                           ("inspection", f"/service/{ro.pk}/inspection/")):  # fmt: skip
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUTPUT / f"service-phone-{name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
            assert page.evaluate("document.documentElement.lang").lower().startswith("zh"), name
        assert "环车检查" in page.inner_text("h2.page-title")
        box = page.locator("[data-testid=rate-red]").first.bounding_box()
        assert box is not None and box["height"] >= 40 and box["width"] >= 80
    finally:
        context.close()
