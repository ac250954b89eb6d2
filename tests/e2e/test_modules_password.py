"""In a real browser: the administrator switches the test module off in store b and a director
sees it in store a and not in store b; a sales consultant changes their password from the user
menu and stays signed in."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autocrm.demo.services import demo_create

from .test_shell import PASSWORD, chinese, menu_keys, sign_in, sign_out

pytestmark = pytest.mark.e2e


@pytest.fixture
def ticket_menu():
    from autocrm.core.navigation import MENU, register_menu

    register_menu("testapp_tickets", "Tickets", "testapp_ticket_list", order=950, module="testapp")
    yield
    MENU.unregister("testapp_tickets")


def test_modules_per_store(e2e_db: None, live_server: Any, page: Any, browser: Any, ticket_menu: None, screenshot: Any):
    demo_create()
    base = live_server.url

    sign_in(page, base, "admin")
    page.click("#main-nav [data-menu-key=stores_admin]")
    page.click("[data-testid=store-modules-b]")
    assert page.is_checked("[data-testid=module-testapp]")
    page.uncheck("[data-testid=module-testapp]")
    page.uncheck("[data-testid=module-marketing]")
    page.click("[data-testid=store-modules-save]")
    page.wait_for_selector(".alert-success")
    assert not page.is_checked("[data-testid=module-testapp]") and page.is_checked("[data-testid=module-sales]")
    screenshot("store-modules")
    sign_out(page)

    sign_in(page, base, "director")
    assert "testapp_tickets" in menu_keys(page)  # the director starts in store a
    page.click("[data-testid=store-toggle]")
    page.click("#store-switcher button:has-text('杭州西湖丰田4S店')")
    page.wait_for_selector(".alert-success")
    assert "testapp_tickets" not in menu_keys(page)
    response = page.goto(base + "/testapp/tickets/")
    assert response.status == 404
    assert chinese("This page does not exist, or it is not visible to you.") in page.content()


def test_change_password_from_the_user_menu(e2e_db: None, live_server: Any, page: Any) -> None:
    demo_create()
    base = live_server.url
    sign_in(page, base, "sales_a1")
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=password-change]")
    page.wait_for_url(re.compile(r"/accounts/password/"))

    page.fill("#id_current_password", "not-my-password")
    page.fill("#id_new_password", "青山绿水-2026-autocrm")
    page.fill("#id_new_password_again", "青山绿水-2026-autocrm")
    page.click("[data-testid=password-change-save]")
    assert page.locator("[data-error-for=current_password]").inner_text() == chinese(
        "Your current password is not correct."
    )

    page.fill("#id_current_password", PASSWORD)
    page.fill("#id_new_password", "青山绿水-2026-autocrm")
    page.fill("#id_new_password_again", "青山绿水-2026-autocrm")
    page.click("[data-testid=password-change-save]")
    page.wait_for_url(re.compile(r"/accounts/security/"))
    assert page.locator(".alert-success").is_visible()  # still signed in
    sign_out(page)

    page.fill("#id_username", "sales_a1")
    page.fill("#id_password", "青山绿水-2026-autocrm")
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_selector("#main-nav")
