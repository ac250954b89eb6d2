"""Parts in a real browser, in Chinese: the service manager finds the low-stock parts on a phone,
opens one, records a stock count correction and sees it in the movement history; the advisor
sees the same part without its cost."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autocrm.demo.services import demo_create
from autocrm.parts.tests.factories import make_part

from .test_shell import chinese, sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_low_stock_adjust_and_cost_by_role(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    make_part(part_number="OIL-0W20-4L", name="全合成机油 0W-20 4L", price="498.00", cost="321.00", on_hand=2,
              reorder_point=10, unit="barrel")  # fmt: skip
    make_part(part_number="IGN-SP-ILKR7", name="火花塞 铱金", price="98.00", cost="45.00", on_hand=30, reorder_point=8)
    sign_in(page, live_server.url, "service_manager_a")
    page.click("#main-nav [data-menu-key=parts]")
    page.wait_for_url(re.compile(r"/parts/$"))
    assert "¥321.00" in page.content()

    page.set_viewport_size({"width": 390, "height": 844})
    page.check("input[name=low]")
    page.click("form[role=search] button")
    page.wait_for_url(re.compile(r"low=1"))
    cards = page.locator(".d-md-none a.card")
    assert cards.count() == 1 and "OIL-0W20-4L" in cards.first.inner_text()
    assert page.locator(".d-md-none [data-testid=low]").count() == 1
    screenshot("60-parts-low-stock-phone")

    cards.first.click()
    page.wait_for_url(re.compile(r"/parts/\d+/$"))
    page.select_option("select[name=kind]", "adjust")
    page.fill("input[name=quantity]", "-1")
    page.fill("input[name=reason]", "盘点少一桶")
    page.click("form[action$='/move/'] button")
    page.wait_for_selector("text=" + chinese("Stock recorded."))
    assert page.locator("[data-testid=on-hand]").inner_text().startswith("1.00")
    assert page.locator("[data-testid=movement]").count() == 2
    assert chinese("Adjustment") in page.locator("[data-testid=movement]").first.inner_text()
    screenshot("61-parts-part-adjusted-phone")

    detail = page.url
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_out(page)
    sign_in(page, live_server.url, "advisor_a1")
    page.goto(detail)
    assert page.locator("[data-testid=cost]").count() == 0 and "¥321.00" not in page.content()
    assert page.locator("select[name=kind]").count() == 0
