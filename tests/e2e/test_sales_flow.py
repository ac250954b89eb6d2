"""The sales flow in a real browser (issue 13, acceptance): a lead arrives through the public form,
is assigned automatically, the consultant logs a call, opens a deal, books a test drive, quotes,
orders with the uploaded contract, the finance specialist approves, the car is delivered with its
condition sheet — and the customer's 360 page tells the whole story. Then the consultant's lead
list and home at phone size (390×844), in Chinese, as cards. Screenshots in test-output/e2e/."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.core.identifiers import vin_with_check_digit
from autocrm.demo.services import demo_create
from autocrm.leads.models import ConsultantDuty, Lead
from autocrm.leads.services import rules_changed
from autocrm.sales.models import Deal, StockVehicle
from autocrm.tenancy.models import Store

from .test_shell import PASSWORD, sign_in, sign_out

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LICENCE = "11010519491231002X"


def _store_a() -> Store:
    return Store.objects.get(code="a")


def _world(tmp_path: Path) -> dict[str, Any]:
    demo_create()
    store = _store_a()
    for username in ("sales_a1", "sales_a2"):
        ConsultantDuty.objects.update_or_create(
            store=store, user=User.objects.get(username=username),
            defaults={"status": "on_duty" if username == "sales_a1" else "off"},
        )  # fmt: skip
    rules_changed(store.pk)
    today = timezone.localdate()
    demo_car = StockVehicle.objects.create(store=store, vin=vin_with_check_digit("LGXCE4CBPA000001"),
                                           model_name="海豹 试驾车", status="demo",
                                           arrival_date=today - dt.timedelta(days=200))  # fmt: skip
    car = StockVehicle.objects.create(store=store, vin=vin_with_check_digit("LGXCE4CBPA000002"), model_name="海豹",
                                      colour="极地白", arrival_date=today - dt.timedelta(days=20),
                                      list_price=Decimal("189800"), cost=Decimal("172000"))  # fmt: skip
    files = {}
    for name in ("agreement", "contract", "condition", "pdi"):
        files[name] = tmp_path / f"{name}.pdf"
        files[name].write_bytes(PDF)
    return {"car": car, "demo_car": demo_car, "files": files}


def _upload(page: Any, kind: str, path: Path) -> None:
    form = page.locator("#documents form")
    form.locator("select[name=kind]").select_option(kind)
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("button").click()
    page.wait_for_load_state()


def _advance(page: Any, stage: str) -> None:
    page.select_option("select[name=to_stage]", stage)
    page.click("[data-testid=advance]")
    page.wait_for_load_state()


def test_lead_to_delivery_and_the_360_story(e2e_db: None, live_server: Any, page: Any, screenshot: Any,
                                            tmp_path: Path, monkeypatch: Any) -> None:  # fmt: skip
    import autocrm.leads.views_public as public

    monkeypatch.setattr(public, "MIN_FILL_SECONDS", 0)  # a person types for seconds; the test does not wait
    world = _world(tmp_path)
    base = live_server.url

    # 1. The public form of store a: a person asks about the 海豹.
    page.goto(f"{base}/l/demo/a/")
    page.fill("#f-name", "欧阳明")
    page.fill("#f-mobile", "13917770001")
    page.fill("#f-model", "海豹")
    page.fill("#f-message", "想了解落地价和现车")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    lead = Lead.objects.get(name="欧阳明")
    assert lead.consultant.username == "sales_a1"  # the only consultant on duty

    # 2. The consultant sees it on their home with the time left, and calls.
    sign_in(page, base, "sales_a1")
    todo = page.locator("#panel-leads-todo")
    assert "欧阳明" in todo.inner_text()
    assert re.search(r"剩余|分钟|min", todo.inner_text())
    screenshot("sales-flow-01-home")
    todo.locator("a", has_text="欧阳明").click()
    page.wait_for_selector("#activity-form")
    page.select_option("#activity-form select[name=kind]", "call")
    page.select_option("#activity-form select[name=outcome]", "appointment")
    page.fill("#activity-form textarea[name=note]", "约周六到店试驾海豹")
    page.click("[data-testid=activity-save]")
    page.wait_for_load_state()
    assert "约周六到店试驾海豹" in page.locator("#lead-activities").inner_text()

    # 3. A deal from the lead; the store visit, then the test drive with its signed agreement.
    page.click("[data-testid=open-deal]")
    page.wait_for_selector("[data-testid=stage-bar]")
    deal = Deal.objects.get(lead=lead)
    _advance(page, "visit")
    _upload(page, "test_drive_agreement", world["files"]["agreement"])
    page.select_option("#td-vehicle", str(world["demo_car"].pk))
    page.fill("#td-licence", LICENCE)
    page.fill("#td-route", "世纪大道 + 中环")
    page.locator("#test-drives form button").click()
    page.wait_for_load_state()
    assert "海豹 试驾车" in page.locator("#test-drives").inner_text()
    _advance(page, "test_drive")
    page.fill("#n-min", "170000")
    page.fill("#n-max", "200000")
    page.select_option("#n-purpose", "family")
    page.click("[data-testid=needs-save]")
    page.wait_for_load_state()

    # 4. The quote, the car from stock, the order with the uploaded contract.
    page.fill("#q-price", "189800")
    page.fill("#q-discount", "2000")
    page.fill("#q-ins", "6800")
    page.click("[data-testid=quote-save]")
    page.wait_for_load_state()
    assert "¥194600.00" in page.locator("#quotes").inner_text()
    _advance(page, "quote")
    page.locator("details", has=page.locator("[data-testid=deal-edit]")).locator("summary").click()
    page.select_option("#d-stock", str(world["car"].pk))
    page.click("[data-testid=deal-save]")
    page.wait_for_load_state()
    _advance(page, "order")
    assert "已签合同" in page.content()  # the refusal names the missing contract
    deal.refresh_from_db()
    assert deal.stage == "quote"  # without the contract the order is refused, naming it
    _upload(page, "contract", world["files"]["contract"])
    _advance(page, "order")
    _advance(page, "finance")
    deal.refresh_from_db()
    assert (deal.stage, deal.agreed_price) == ("finance", Decimal("187800.00"))
    screenshot("sales-flow-02-deal-at-finance")
    sign_out(page)

    # 5. The finance and insurance specialist approves the finance.
    sign_in(page, base, "finance_a1")
    page.goto(f"{base}/deals/{deal.pk}/")
    page.fill("[data-testid=finance-form] input[name=insurer]", "中国人保")
    page.click("[data-testid=finance-approve]")
    page.wait_for_load_state()
    sign_out(page)

    # 6. Delivery with the condition sheet and the PDI.
    sign_in(page, base, "sales_a1")
    page.goto(f"{base}/deals/{deal.pk}/")
    _upload(page, "condition_sheet", world["files"]["condition"])
    _upload(page, "pdi", world["files"]["pdi"])
    _advance(page, "delivery")
    deal.refresh_from_db()
    assert deal.status == "won" and deal.customer_id and deal.vehicle_id
    screenshot("sales-flow-03-delivered")

    # 7. The customer's 360 page: the whole story, and the car bought.
    page.goto(f"{base}/customers/{deal.customer_id}/")
    while page.locator("#timeline-load-more a").count():
        page.click("#timeline-load-more a")
        page.wait_for_load_state("networkidle")
    story = page.locator("#timeline").inner_text()
    for piece in ("约周六到店试驾海豹", "海豹 试驾车", "¥194600.00", world["car"].vin):
        assert piece in story, piece
    # The purchases part loads when revealed and replaces its placeholder (same id): scroll in the
    # page's own context (no element handle to go stale), then wait for the swapped-in content.
    page.evaluate("document.getElementById('sales-purchases').scrollIntoView()")
    page.wait_for_selector("[data-testid=purchase-count]")
    assert page.locator("[data-testid=purchase-count]").inner_text() == "1"
    screenshot("sales-flow-04-customer-360")


def test_consultant_on_a_phone_sees_cards(e2e_db: None, live_server: Any, browser: Any, tmp_path: Path) -> None:
    world = _world(tmp_path)
    store = _store_a()
    consultant = User.objects.get(username="sales_a1")
    for i in range(3):
        Lead.objects.create(store=store, consultant=consultant, name=f"手机客户{i}", mobile=f"1391888000{i}",
                            first_contact_due=timezone.now() + dt.timedelta(minutes=12 + i))  # fmt: skip
    assert world["car"].pk
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, timezone_id="Asia/Shanghai",
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(15_000)
    out = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(live_server.url + "/")
        page.fill("#id_username", "sales_a1")
        page.fill("#id_password", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("#panel-leads-todo")  # the menu folds away on a phone
        todo = page.locator("#panel-leads-todo")
        assert "手机客户0" in todo.inner_text() and "分钟" in todo.inner_text()
        assert page.locator("#panel-sales-day").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        page.screenshot(path=str(out / "sales-phone-01-home.png"), full_page=True)
        page.goto(live_server.url + "/leads/")
        assert page.locator("[data-testid=lead-card]").first.is_visible()
        assert not page.locator("table").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(out / "sales-phone-02-leads.png"), full_page=True)
        page.locator("[data-testid=lead-card]").first.click()
        page.wait_for_selector("#lead-sales")
        page.fill("[data-testid=script-q]", "太贵")
        page.wait_for_selector("[data-testid=script]")
        assert "落地价" in page.locator("#script-results").inner_text()
        page.screenshot(path=str(out / "sales-phone-03-lead-scripts.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("username", ["sales_a1", "sales_manager_a", "manager_a"])
def test_phone_walk_of_the_sales_pages(e2e_db: None, live_server: Any, browser: Any, username: str) -> None:
    """Leads, a lead, deals, a deal, stock and the 话术库 at 390×844 in Chinese for a consultant, the
    sales manager and the store manager: every page fits the width (no sideways scrolling) and
    its screenshot is kept for a person to look at."""
    demo_create(customers=150, seed=7)
    user = User.objects.get(username=username)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, timezone_id="Asia/Shanghai",
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(20_000)
    out = Path(__file__).resolve().parents[2] / "test-output" / "e2e" / "phone-walk"
    out.mkdir(parents=True, exist_ok=True)
    lead = Lead.objects.filter(store__code="a", consultant=user).first() or Lead.objects.filter(store__code="a").first()
    deal = Deal.objects.filter(store__code="a", consultant=user).first() or Deal.objects.filter(store__code="a").first()
    pages = {"leads": "/leads/", "deals": "/deals/", "stock": "/deals/stock/", "scripts": "/deals/scripts/"}
    if lead is not None:
        pages["lead"] = f"/leads/{lead.pk}/"
    if deal is not None:
        pages["deal"] = f"/deals/{deal.pk}/"
    try:
        page.goto(live_server.url + "/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_load_state()
        page.screenshot(path=str(out / f"{username}-home.png"), full_page=True)
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            assert response is not None
            if response.status in (403, 404):  # a role without that page (a colleague's lead)
                continue
            assert response.status == 200, (name, response.status)
            assert page.evaluate("document.documentElement.scrollWidth") <= 392, name
            page.screenshot(path=str(out / f"{username}-{name}.png"), full_page=True)
    finally:
        context.close()
