"""The header's store switch in a real browser, as the group director in Chinese: the switcher
says what it changes; one store shows that store's customers; "all stores" adds a store column
and a store filter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.demo.services import demo_create

from .test_shell import chinese, sign_in

pytestmark = pytest.mark.e2e


def names(page: Any) -> list[str]:
    return sorted(
        page.eval_on_selector_all("#customer-rows .customer-name", "els => els.map(e => e.textContent.trim())")
    )


def test_director_switches_between_one_store_and_all(
    e2e_db: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    demo_create()
    make_customer(actor_for("sales_a1", "a"), name="张伟")
    make_customer(actor_for("sales_b1", "b"), name="赵雷")
    sign_in(page, live_server.url, "director")
    page.click("#main-nav [data-menu-key=customers]")
    page.wait_for_url(re.compile(r"/customers/$"))
    assert names(page) == ["张伟"]  # the director's current store: a
    assert page.locator("[data-testid=list-store]").is_visible()
    assert page.locator("[data-testid=store-column]").count() == 0

    page.click("[data-testid=store-toggle]")
    help_text = page.locator("[data-testid=store-switch-help]")
    help_text.wait_for()
    assert help_text.inner_text().strip() == chinese(
        "The store you pick is the one you work in: the customer and vehicle lists show it, and new records are "
        "saved in it."
    )
    screenshot("30-director-store-switch")
    page.click("[data-testid=store-all]")
    page.wait_for_selector("[data-testid=store-column]")
    assert names(page) == ["张伟", "赵雷"]
    assert chinese("All stores") in page.locator("[data-testid=store-toggle]").inner_text()
    screenshot("31-director-all-stores")

    # The store filter narrows the list as it changes (htmx), to 杭州西湖丰田4S店.
    page.select_option("#id_store", label="杭州西湖丰田4S店")
    page.wait_for_function("document.querySelectorAll('#customer-rows .customer-name').length === 1")
    assert names(page) == ["赵雷"]
