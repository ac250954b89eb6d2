"""The service KPI page in a real browser: the retention and advisor charts drawn by the vendored
ECharts from the JSON endpoint over the demo's years of service, the figure cards stacking on a
390 px phone, and no gross profit or absorption for an advisor. Screenshots go to
test-output/e2e/."""

from __future__ import annotations

from typing import Any

import pytest

from autocrm.demo.loader import demo_customers_load
from autocrm.demo.service_history import demo_service_history_store
from autocrm.demo.services import demo_create
from autocrm.tenancy.models import Store

from .test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_service_kpi_page_charts_and_phone_layout(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo = demo_create()
    store = Store.objects.get(code="a")
    demo_customers_load(organization=demo["organization"], stores={"a": store}, customers=120, seed=3)
    assert demo_service_history_store(store) > 100
    sign_in(page, live_server.url, "service_manager_a")
    page.goto(live_server.url + "/service/kpis/?period=this_year")
    page.wait_for_selector("#kpi-charts[data-loaded='1']")
    assert page.locator("#chart-retention svg").count() == 1 and page.locator("#chart-advisors svg").count() == 1
    assert page.locator("[data-kpi=gross_profit_per_ro]").is_visible()
    screenshot("service-kpis-manager")
    page.set_viewport_size({"width": 390, "height": 844})
    cards = page.locator("[data-testid=kpi-cards] .card")
    first, second, third = (cards.nth(i).bounding_box() for i in range(3))
    assert first["width"] < 200 and second["y"] == first["y"] and third["y"] > first["y"]  # two a row
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot("service-kpis-phone")
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server.url, "advisor_a1")
    page.goto(live_server.url + "/service/kpis/?period=this_year")
    page.wait_for_selector("#kpi-charts[data-loaded='1']")
    assert page.locator("[data-kpi=gross_profit_per_ro]").count() == 0
    assert "gross_profit" not in page.content() and "absorption" not in page.content()
