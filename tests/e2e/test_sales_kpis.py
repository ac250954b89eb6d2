"""The sales KPI page in a real browser: the charts drawn by the vendored ECharts from the JSON
endpoint, the figure cards stacking on a 390 px phone, and no gross profit for a consultant.
Screenshots go to test-output/e2e/."""

from __future__ import annotations

from typing import Any

import pytest

from autocrm.demo.leads import demo_leads_store
from autocrm.demo.services import demo_create
from autocrm.tenancy.models import Store

from .test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_kpi_page_charts_and_phone_layout(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    demo_leads_store(Store.objects.get(code="a"), count=160, seed=5)
    sign_in(page, live_server.url, "sales_manager_a")
    page.goto(live_server.url + "/sales/kpis/?period=this_year")
    page.wait_for_selector("#kpi-charts[data-loaded='1']")
    assert page.locator("#chart-funnel svg").count() == 1 and page.locator("#chart-radar svg").count() == 1
    assert page.locator("[data-kpi=gross_profit_per_vehicle]").is_visible()
    screenshot("sales-kpis-manager")
    page.set_viewport_size({"width": 390, "height": 844})
    cards = page.locator("[data-testid=kpi-cards] .card")
    first, second, third = (cards.nth(i).bounding_box() for i in range(3))
    assert first["width"] < 200 and second["y"] == first["y"] and third["y"] > first["y"]  # two a row
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert page.locator("[data-testid=consultant-cards]").is_visible()
    screenshot("sales-kpis-phone")
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server.url, "sales_a1")
    page.goto(live_server.url + "/sales/kpis/?period=this_year")
    page.wait_for_selector("#kpi-charts[data-loaded='1']")
    assert page.locator("[data-kpi=gross_profit_per_vehicle]").count() == 0
    assert "gross_profit_per_vehicle" not in page.content()
