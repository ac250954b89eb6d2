"""The staff shell in a real browser: sign-in, navigation by role, language switch, audit
log, sign-out. Screenshots go to test-output/e2e/."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from autocrm.demo.services import demo_create

pytestmark = pytest.mark.e2e

PASSWORD = "autocrm-demo"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"


def chinese(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(base_url + "/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_selector("#main-nav")


def sign_out(page: Any) -> None:
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=sign-out]")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.locator("#id_username").is_visible()


def menu_keys(page: Any) -> list[str]:
    return page.eval_on_selector_all("#main-nav [data-menu-key]", "els => els.map(e => e.dataset.menuKey)")


def test_shell_sales_then_manager(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    base = live_server.url

    # sales_a1: the Chinese shell with a sales consultant's navigation, no audit log.
    sign_in(page, base, "sales_a1")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.locator("#store-switcher").inner_text().find("上海浦东比亚迪4S店") >= 0
    assert "李娜" in page.locator("[data-testid=user-menu]").inner_text()
    assert menu_keys(page) == [
        "home",
        "leads",
        "customers",
        "vehicles",
        "deals",
        "stock",
        "sales_kpis",
        "sales_scripts",
        "messages",
        "care_complaints",
        "care_surveys",
        "voc",
        "care_moments",
        "car_club",
        "loyalty_members",
        "loyalty_coupons",
        "security",
    ]
    nav = page.locator("#main-nav").inner_text()
    assert "审计" not in nav
    if chinese("Home") != "Home":  # once the Chinese catalogue is compiled, the labels are Chinese
        assert chinese("Home") in nav and chinese("Account security") in nav
        assert "Sign out" not in page.content()
    screenshot("01-sales-home-zh")

    # Switch to English: same page, English labels.
    page.click("[data-testid=lang-en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    nav = page.locator("#main-nav").inner_text()
    assert "Home" in nav and "Account security" in nav
    assert "Audit" not in nav
    page.click("[data-testid=user-menu]")
    assert page.locator("[data-testid=sign-out]").inner_text().strip() == "Sign out"
    screenshot("02-sales-home-en")
    page.keyboard.press("Escape")
    sign_out(page)

    # manager_a: the audit log is in the navigation and lists the store's events.
    sign_in(page, base, "manager_a")
    assert "audit" in menu_keys(page)
    page.click("#main-nav [data-menu-key=audit]")
    page.wait_for_url(re.compile(r"/audit/"))
    rows = page.locator("#audit-events tr.audit-event")
    assert rows.count() > 0
    assert "manager_a" in page.locator("#audit-events").inner_text() or rows.first.is_visible()
    screenshot("03-manager-audit")
    sign_out(page)
    screenshot("04-signed-out")


@pytest.mark.skipif(not os.environ.get("AUTOCRM_README_SCREENSHOT"), reason="set AUTOCRM_README_SCREENSHOT=1")
def test_readme_screenshot(e2e_db: None, live_server: Any, page: Any) -> None:
    """docs/screenshot.png for the README: manager_a's home page at 1280×800, in Chinese."""
    demo_create()
    sign_in(page, live_server.url, "manager_a")
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOT))
