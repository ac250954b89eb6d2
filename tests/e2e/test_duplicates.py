"""Duplicates in a real browser: a manager runs the finder, opens the pair, keeps the other
record's name by hand, merges (the vehicle moves to the record that stays), then undoes the
merge. Screenshots go to test-output/e2e/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.demo.services import demo_create
from autocrm.vehicles.models import Vehicle
from autocrm.vehicles.services import vehicle_create

from .test_shell import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.urls("autocrm.customers.tests.test_dedup")]


def test_review_merge_and_undo_a_duplicate_pair(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    manager = actor_for("manager_a", "a")
    first = make_customer(manager, name="张伟", mobile="13812345678", district="浦东新区")
    second = make_customer(manager, name="张玮", district="浦东新区", email="zw@example.com")
    second.mobile = first.mobile  # the same person typed again by an import
    second.save()
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=second)
    base = live_server.url
    sign_in(page, base, "manager_a")

    page.goto(base + "/duplicates/")
    page.click("#find-duplicates")
    page.wait_for_selector("#duplicate-pairs tbody tr")
    screenshot("duplicates-queue")
    page.click("#duplicate-pairs tbody tr a")
    page.wait_for_selector("#compare-table")
    screenshot("duplicates-compare")

    # The newer record's name by hand; its email is picked already (the other has none).
    page.check(f"input[name=choice_name][value='{second.pk}']")
    page.click("#merge-button")
    page.wait_for_url(re.compile(r"/duplicates/merges/\d+/$"))
    page.wait_for_selector("#undo-button")
    screenshot("duplicates-merged")
    first.refresh_from_db()
    survivor = first if Customer.objects.get(pk=second.pk).merged_into_id == first.pk else second
    assert Vehicle.objects.get().customer_id == survivor.pk
    assert Customer.objects.filter(merged_into__isnull=False).count() == 1

    page.click("#undo-button")
    page.wait_for_selector("#undone-at")
    assert Vehicle.objects.get().customer_id == second.pk
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


def test_the_review_queue_and_the_comparison_fit_a_phone(
    e2e_db: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    """A manager reviews on a 390 px phone: each pair is a card with its reasons, and the comparison
    shows both records' values under each field without scrolling sideways."""
    demo_create()
    manager = actor_for("manager_a", "a")
    first = make_customer(manager, name="劉萍平", mobile="13812345678", district="锦江区")
    second = make_customer(manager, name="刘萍平", district="锦江区", email="lpp@example.com")
    second.mobile = first.mobile
    second.save()
    base = live_server.url
    sign_in(page, base, "manager_a")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/duplicates/")
    page.click("#find-duplicates")
    card = page.locator("#duplicate-cards [data-pair-card]").first
    card.wait_for()
    assert not page.locator("#duplicate-pairs").is_visible()  # the wide table waits for a wider screen
    assert "手机号相同" in card.inner_text()
    screenshot("duplicates-queue-phone")
    card.get_by_role("link", name="对比").click()
    page.wait_for_selector("#compare-table")
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    name_row = page.locator("#compare-table tr", has_text="刘萍平")
    assert name_row.locator("td[data-label]").count() == 2 and name_row.is_visible()
    screenshot("duplicates-compare-phone")
