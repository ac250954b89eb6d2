"""Imports that keep everything, in a real browser (issue 10, item 5): a store manager imports a
messy spreadsheet holding one person twice (the same mobile written two ways) and a customer
the store already has, typed again with a new mobile (same name, street address and birthday);
chooses "merge rows of the same person" in the dry run; commits; runs the duplicate finder;
finds the changed-mobile pair in the review queue with its reasons and merges it. Chinese UI."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.demo.services import demo_create

from .test_shell import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.urls("autocrm.customers.tests.test_dedup")]


def test_import_merges_a_repeated_person_then_the_changed_mobile_is_reviewed_and_merged(
    e2e_db: None, live_server: Any, page: Any, screenshot: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_create()
    manager = actor_for("manager_a", "a")
    known = make_customer(manager, name="刘萍平", mobile="13700000011", district="浦东新区", address="张杨路208号",
                          birthday=dt.date(1980, 5, 6))  # fmt: skip

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户姓名（必填）", "手机号码", "出生日期", "区县", "详细地址", "DMS客户编号", "销售顾问"])
    sheet.append(["张伟", 13812345678, dt.datetime(1985, 3, 1), "浦东新区", "世纪大道100号", "E2E-1", "李娜"])
    sheet.append([" 张伟", "138-1234-5678", None, None, "世纪大道100号3楼", "E2E-2", None])  # the same person again
    sheet.append(["刘萍平", "13900002222", "1980/05/06", "浦东新区", "张杨路208号", "E2E-3", "sales_a2"])  # new mobile
    sheet.append(["王芳", "+86 137 0000 3333", None, "徐汇区", None, "E2E-4", "不认识的人"])
    path = tmp_path / "客户名单.xlsx"
    book.save(path)

    base = live_server.url
    sign_in(page, base, "manager_a")
    page.click("#main-nav [data-menu-key=imports]")
    page.set_input_files("[data-testid=import-file]", str(path))
    page.select_option("[data-testid=import-kind]", "customers")
    page.click("[data-testid=import-upload]")

    # The dry run: nothing is bad, one row repeats a person, the choice says how many.
    page.wait_for_selector("[data-testid=choice-in_file]")
    assert page.locator("[data-testid=import-bad-count]").inner_text().strip() == "0"
    assert "1" in page.locator("[data-testid=choice-in_file-count]").inner_text()
    assert "合并同一人的多行" in page.locator("[data-testid=choice-in_file]").inner_text()
    page.check("[data-testid=choice-in_file-merge]")
    page.click("[data-testid=import-choose]")
    page.wait_for_selector("[data-testid=import-merged]")
    assert page.locator("[data-testid=import-merged]").inner_text().strip() == "1"
    screenshot("import-duplicates-dry-run")

    page.click("[data-testid=import-commit]")
    page.wait_for_selector("[data-testid=import-result]")
    assert page.locator("[data-testid=import-status]").get_attribute("data-status") == "done"
    assert "1" in page.locator("[data-testid=import-result-duplicates]").inner_text()
    screenshot("import-duplicates-result")

    zhang = Customer.objects.get(name="张伟")  # one record for the two rows
    assert zhang.external_id == "E2E-1" and zhang.external_aliases.get().external_id == "E2E-2"
    assert zhang.consultant is not None and zhang.consultant.username == "sales_a1"
    changed = Customer.objects.get(external_id="E2E-3")
    assert changed.pk != known.pk and changed.consultant.username == "sales_a2"

    # The finder puts the changed-mobile pair in the review queue, with its reasons in Chinese.
    page.goto(base + "/duplicates/")
    page.click("#find-duplicates")
    row = page.locator("#duplicate-pairs tbody tr", has_text="刘萍平")
    row.first.wait_for()
    reasons = row.first.inner_text()
    for text in ("姓名相同", "区县相同", "生日相同"):
        assert text in reasons
    assert f"#{known.pk}" in reasons and f"#{changed.pk}" in reasons
    screenshot("import-duplicates-queue")
    row.first.locator("a").click()
    page.wait_for_selector("#compare-table")
    page.click("#merge-button")
    page.wait_for_url(re.compile(r"/duplicates/merges/\d+/$"))
    page.wait_for_selector("#undo-button")
    screenshot("import-duplicates-merged")

    merged = Customer.objects.filter(pk__in=[known.pk, changed.pk], merged_into__isnull=False).get()
    survivor = Customer.objects.get(pk=merged.merged_into_id)
    # The merged-away record's DMS key stays with the survivor.
    assert "E2E-3" in {survivor.external_id, *survivor.external_aliases.values_list("external_id", flat=True)}
