"""The combined "new customer" form in a real browser, in Chinese, as a sales consultant: one
submit with a bad mobile and a bad VIN shows both errors at once and saves nothing; after
fixing both, the customer and the first vehicle are saved together."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autocrm.customers.models import Customer
from autocrm.demo.services import demo_create
from autocrm.vehicles.models import Vehicle

from .test_shell import chinese, sign_in

pytestmark = pytest.mark.e2e

GOOD_VIN = "LSJA24U62JG269225"
BAD_VIN = "LSJA24U62JG269226"  # one digit off: the check digit no longer matches


def test_customer_and_first_vehicle_are_checked_together(
    e2e_db: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    demo_create()
    sign_in(page, live_server.url, "sales_a1")
    page.click("#main-nav [data-menu-key=customers]")
    page.click("[data-testid=customer-new]")
    assert page.locator("h2.page-title").inner_text().strip() == chinese("Add customer")

    page.fill("#id_name", "李娜")
    page.fill("#id_mobile", "12345")
    page.fill("#id_vehicle-vin", BAD_VIN)
    page.fill("#id_vehicle-plate", "沪AD12345")
    page.click("[data-testid=customer-save]")

    # One answer names both problems, each on its field, in Chinese.
    mobile_error = page.locator("[data-error-for=mobile]")
    vin_error = page.locator("[data-error-for=vehicle-vin]")
    mobile_error.wait_for()
    assert vin_error.is_visible()
    assert re.search(r"[\u4e00-\u9fff]", mobile_error.inner_text())
    assert re.search(r"[\u4e00-\u9fff]", vin_error.inner_text())
    assert page.locator("#id_mobile").get_attribute("class").count("is-invalid") == 1
    assert "is-invalid" in page.locator("#id_vehicle-vin").get_attribute("class")
    # What was typed is kept, and nothing was saved.
    assert page.locator("#id_name").input_value() == "李娜"
    assert page.locator("#id_vehicle-plate").input_value() == "沪AD12345"
    assert not Customer.objects.filter(name="李娜").exists()
    assert not Vehicle.objects.filter(plate="沪AD12345").exists()
    screenshot("20-customer-new-both-errors")

    page.fill("#id_mobile", "138 1234 5678")
    page.fill("#id_vehicle-vin", GOOD_VIN)
    page.click("[data-testid=customer-save]")
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    assert page.locator("#customer-name").inner_text().strip() == "李娜"
    assert "沪AD12345" in page.locator("[data-panel=vehicles]").inner_text()
    customer = Customer.objects.get(name="李娜")
    assert customer.mobile == "+8613812345678"
    assert customer.vehicles.get().vin == GOOD_VIN
    screenshot("21-customer-new-saved-with-vehicle")
