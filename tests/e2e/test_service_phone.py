"""The workshop floor on a phone (issue 14): the repair-order list as cards and a repair order's
jobs and parts as cards at 390×844 in Chinese, nothing scrolling sideways — not the page, not a
table inside it; the technician records progress on a job with the phone."""

from __future__ import annotations

from typing import Any

import pytest

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for
from autocrm.demo.services import demo_create
from autocrm.service import services
from autocrm.service.tests.factories import make_car, make_ro

from .conftest import OUTPUT
from .test_shell import PASSWORD

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
LONG = "更换前后刹车片并检查刹车盘磨损及制动液含水量（车主反映高速制动抖动）"


def _world() -> Any:
    demo_create()
    advisor = actor_for("advisor_a1")
    tech = User.objects.get(username="tech_a1")
    customer, car = make_car(advisor, plate="沪B7K209")
    ro = make_ro(advisor, car=(customer, car), km=23456)
    job = services.job_add(actor=advisor, repair_order=ro, data={"code": "BRK-FRONT-REAR", "name": LONG,
                                                                 "hours": "2.5", "technician": tech.pk})  # fmt: skip
    services.part_add(actor=advisor, repair_order=ro, data={"part_number": "04465-0K290-PADS", "name": "前刹车片（原厂陶瓷）",
                                                            "quantity": "1", "unit_price": "680.00", "job": job.pk})  # fmt: skip
    answers = {f"job:{j.pk}": "approved" for j in ro.jobs.all()} | {
        f"part:{p.pk}": "approved" for p in ro.part_lines.all()
    }
    services.estimate_record(actor=advisor, repair_order=ro, answers=answers)
    while ro.status != "in_repair":  # received → diagnosis → (awaiting approval) → in repair
        ro = services.repair_order_advance(actor=advisor, repair_order=ro)
    return ro, job


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_selector("#main-nav", state="attached")  # the menu folds away on a phone


def _no_sideways(page: Any, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    # No table or wrapper scrolls inside the page either.
    wide = page.evaluate("""() => [...document.querySelectorAll('.page-body .table-responsive, .page-body table')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1).map(e => e.dataset.testid || e.className)""")
    assert wide == [], (name, wide)


def test_repair_orders_and_their_jobs_as_cards_on_a_phone(e2e_db: None, live_server: Any, browser: Any) -> None:
    ro, job = _world()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for username in ("advisor_a1", "tech_a1"):
        context = browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai", is_mobile=True,
                                      has_touch=True)  # fmt: skip
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            _sign_in(page, live_server.url, username)
            page.goto(live_server.url + "/service/")
            page.wait_for_load_state("networkidle")
            card = page.locator("[data-testid=ro-card]").first
            assert card.is_visible() and not page.locator("[data-testid=ro-list]").is_visible()
            assert "沪B7K209" in card.inner_text()
            page.screenshot(path=str(OUTPUT / f"service-phone-ro-list-{username}.png"), full_page=True)
            _no_sideways(page, "list")
            card.click()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUTPUT / f"service-phone-ro-jobs-{username}.png"), full_page=True)
            _no_sideways(page, "repair order")
            assert not page.locator("[data-testid=jobs] thead").is_visible()
            jobs = page.inner_text("[data-testid=jobs]")
            assert LONG in jobs and "tech_a1" in jobs
            # Each figure carries its column's name above it (a ::before of the cell's data-label).
            labels = page.evaluate("""() => [...document.querySelectorAll('[data-testid=jobs] tbody tr:first-child td')]
                .map(td => getComputedStyle(td, '::before').content)""")
            assert any("工时" in c for c in labels) and any("金额" in c for c in labels), labels
            assert "前刹车片" in page.inner_text("[data-testid=parts]")
            assert page.evaluate("document.documentElement.lang").lower().startswith("zh")
        finally:
            context.close()
    # The technician's last page was the repair order: record progress on the job with the phone.
    context = browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai", is_mobile=True,
                                  has_touch=True)  # fmt: skip
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        _sign_in(page, live_server.url, "tech_a1")
        page.goto(live_server.url + f"/service/{ro.pk}/")
        row = page.locator("[data-testid=jobs] tbody tr").first
        row.locator("select[name=progress]").select_option("in_progress")
        row.locator("input[name=findings]").fill("前片剩余 2mm")
        box = row.locator("[data-testid=job-save]").bounding_box()
        assert box is not None and box["width"] >= 300 and box["height"] >= 38
        with page.expect_navigation():
            row.locator("[data-testid=job-save]").tap()
        page.wait_for_load_state()
        job.refresh_from_db()
        assert (job.progress, job.findings) == ("in_progress", "前片剩余 2mm")
        _no_sideways(page, "after progress")
    finally:
        context.close()
