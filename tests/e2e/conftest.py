"""Browser fixtures: Playwright's sync API driving Debian's Chromium, headless.

Playwright's sync API keeps an asyncio loop running in the test thread, so Django's guard
against ORM calls inside an event loop must be lifted for the test process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("AUTOCRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is required for the browser tests and is missing at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _flush_past_audit_triggers() -> None:
    """SQLite's append-only triggers on the audit table refuse the DELETE with which Django
    flushes the database after a transactional test (PostgreSQL flushes with TRUNCATE, which
    row triggers do not see). Lift them for one flush, then put them back."""
    import importlib

    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    migration = importlib.import_module("autocrm.audit.migrations.0002_append_only")
    with connection.schema_editor() as editor:
        migration.backwards(None, editor)
    try:
        call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    finally:
        with connection.schema_editor() as editor:
            migration.forwards(None, editor)


@pytest.fixture
def e2e_db(transactional_db: None) -> Iterator[None]:
    """A database the live server's thread shares: committed for real, emptied afterwards. The
    flush also empties what migrations seed (the shipped maintenance plan), which a real
    installation always has: it is put back first, so a test's result does not hang on its place
    in the run."""
    from autocrm.maintenance.defaults import seed_default_plan
    from autocrm.maintenance.models import PlanItem, ServicePlan

    seed_default_plan(ServicePlan, PlanItem)
    yield
    _flush_past_audit_triggers()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile that asks for Chinese, as a browser in mainland China does."""
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(page: Any):  # type: ignore[no-untyped-def]
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = OUTPUT / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
