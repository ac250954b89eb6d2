"""Customers in a real browser: a consultant creates a customer with a vehicle, finds them by
pinyin initials and by the tail of the plate as they type, opens the 360 page and reveals the
mobile (which the access log records). Screenshots go to test-output/e2e/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autocrm.audit.models import AuditEvent
from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.demo.services import demo_create

from .test_shell import sign_in

pytestmark = pytest.mark.e2e

VIN = "LSJA24U62JG269225"
PLATE = "沪AD12345"


def result_names(page: Any) -> list[str]:
    return page.eval_on_selector_all("#customer-rows .customer-name", "els => els.map(e => e.textContent.trim())")


def search(page: Any, text: str, expected: list[str]) -> None:
    """Type into the search box like a person (keyup by keyup) and wait for the rows to settle."""
    box = page.locator("[data-testid=customer-search]")
    box.fill("")
    box.press_sequentially(text, delay=40)
    page.wait_for_function(
        "expected => JSON.stringify([...document.querySelectorAll('#customer-rows .customer-name')]"
        ".map(e => e.textContent.trim())) === JSON.stringify(expected)",
        arg=expected,
    )


def test_create_find_and_open_a_customer(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    # Someone else on the books, so the searches below have something to leave out.
    make_customer(actor_for("sales_a1", "a"), name="王芳", mobile="13900009999")
    base = live_server.url
    sign_in(page, base, "sales_a1")

    # Create 张伟 with a first vehicle in one form.
    page.click("#main-nav [data-menu-key=customers]")
    page.wait_for_url(re.compile(r"/customers/$"))
    page.click("[data-testid=customer-new]")
    page.fill("#id_name", "张伟")
    page.fill("#id_mobile", "138 1234 5678")
    page.fill("#id_district", "浦东新区")
    page.fill("#id_vehicle-vin", VIN)
    page.fill("#id_vehicle-plate", PLATE)
    screenshot("10-customer-new")
    page.click("[data-testid=customer-save]")
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    assert page.locator("#customer-name").inner_text().strip() == "张伟"
    assert PLATE in page.locator("[data-panel=vehicles]").inner_text()
    customer = Customer.objects.get(name="张伟")
    assert customer.vehicles.get().vin == VIN

    # Find them as you type: pinyin initials, then the last digits of the plate.
    page.click("#main-nav [data-menu-key=customers]")
    page.wait_for_url(re.compile(r"/customers/$"))
    assert sorted(result_names(page)) == ["张伟", "王芳"]
    search(page, "zw", ["张伟"])
    screenshot("11-customer-search-initials")
    search(page, "12345", ["张伟"])
    assert "138****5678" in page.locator("#customer-rows").inner_text()
    assert "13812345678" not in page.content()
    screenshot("12-customer-search-plate-tail")

    # The shell's search box goes to the same list.
    page.fill("[data-testid=global-search]", "wf")
    page.press("[data-testid=global-search]", "Enter")
    page.wait_for_url(re.compile(r"/customers/\?q=wf"))
    assert result_names(page) == ["王芳"]

    # Open the 360 page and reveal the mobile.
    search(page, "12345", ["张伟"])
    page.click("#customer-rows .customer-name")
    page.wait_for_url(re.compile(rf"/customers/{customer.pk}/$"))
    assert "138****5678" in page.locator("#profile-mobile").inner_text()
    # The insights load after the first paint, when scrolled to (htmx "revealed"): the page has
    # grown panels above them (deals, messages), so a person scrolls down to see them.
    page.eval_on_selector("#insights", "e => e.scrollIntoView()")
    for slot in ("segment", "value", "churn_risk", "next_best_action"):
        page.wait_for_selector(f"[data-slot={slot}]", state="visible")
    page.click("[data-testid=reveal-mobile]")
    page.wait_for_selector("#profile-mobile .revealed")
    assert page.locator("#profile-mobile .revealed").inner_text().strip() == "138 1234 5678"
    event = AuditEvent.objects.get(action="pii.reveal")
    assert event.object_id == str(customer.pk) and event.extra == {"field": "mobile"}
    screenshot("13-customer-360-revealed")
