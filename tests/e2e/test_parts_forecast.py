"""The parts forecast on a phone, in Chinese: the service manager maps the oil service to its
oil, opens the forecast from the menu, sees the oil's card with its suggestion and no sideways
scrolling, and makes a draft order from it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from autocrm.demo.services import demo_create
from autocrm.maintenance.models import VehicleDue
from autocrm.maintenance.tests.factories import make_vehicle
from autocrm.parts.tests.factories import make_part, make_supplier
from autocrm.tenancy.models import Store

from .test_shell import chinese, sign_in

pytestmark = pytest.mark.e2e


def test_forecast_on_a_phone(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    store = Store.objects.get(code="a")
    supplier = make_supplier("a", name="华东汽配城")
    make_part(part_number="OIL-0W20-1L", name="全合成机油 0W-20 1L", unit="bottle", on_hand=2, supplier=supplier.pk)
    today = timezone.localdate()
    for days in (1, 3, 4):
        car = make_vehicle(store, delivered=today - dt.timedelta(days=200))
        VehicleDue.objects.create(vehicle=car, store=store, next_due_on=today + dt.timedelta(days=days),
                                  items=["service", "oil", "oil_filter"], rate_used=40.0, rate_method="readings",
                                  computed_at=timezone.now())  # fmt: skip
    sign_in(page, live_server.url, "service_manager_a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/parts/forecast/")
    page.select_option("select[name=item]", "oil")
    page.fill("input[name=part_number]", "OIL-0W20-1L")
    page.fill("input[name=quantity]", "4")
    page.click("form[action$='/items/'] button")
    page.wait_for_selector("text=" + chinese("The parts of the plan item were saved."))
    card = page.locator("[data-testid=forecast-card]")
    # 3 cars × 4 bottles × 70 % (too few cars to measure) = 8.4 in week 1; 2 on hand → order 7
    assert card.count() == 1 and "OIL-0W20-1L" in card.first.inner_text() and "7" in card.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot("62-parts-forecast-phone")
    page.click("form[action$='/order/'] button")
    page.wait_for_url(re.compile(r"/parts/orders/\d+/$"))
    assert "OIL-0W20-1L" in page.content()
