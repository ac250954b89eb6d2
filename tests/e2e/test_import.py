"""Import in a real browser: manager_a uploads a small Excel file with one bad row, reads the
report naming that row, chooses to import only the valid rows and sees the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from autocrm.customers.models import Customer
from autocrm.demo.services import demo_create

from .test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_import_excel_with_one_bad_row(e2e_db: None, live_server: Any, page: Any, screenshot: Any, tmp_path: Path,
                                       settings: Any) -> None:  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_create()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户姓名", "手机号", "区", "DMS编号"])
    sheet.append(["张伟", 13812345678, "浦东新区", "E2E-1"])
    sheet.append(["李娜", "12345", "徐汇区", "E2E-2"])  # row 3: not a mobile number
    sheet.append(["王芳", "13900001111", "闵行区", "E2E-3"])
    path = tmp_path / "客户.xlsx"
    book.save(path)

    sign_in(page, live_server.url, "manager_a")
    page.click("#main-nav [data-menu-key=imports]")
    page.set_input_files("[data-testid=import-file]", str(path))
    page.select_option("[data-testid=import-kind]", "customers")
    page.click("[data-testid=import-upload]")

    page.wait_for_selector("#import-bad-rows")
    assert page.locator("[data-testid=import-bad-count]").inner_text().strip() == "1"
    bad = page.locator('#import-bad-rows tr[data-row="3"][data-field="mobile"]')
    assert bad.count() == 1 and "13" in bad.inner_text()  # the rule names the 13–19 prefixes
    screenshot("import-report")

    page.check("[data-testid=mode-valid_only]")
    page.click("[data-testid=import-commit]")
    page.wait_for_selector("[data-testid=import-result]")
    assert page.locator("[data-testid=import-status]").get_attribute("data-status") == "done"
    assert "2" in page.locator("[data-testid=import-result]").inner_text()
    screenshot("import-result")
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张伟", "王芳"]
