"""The audit log in a real browser: a store manager reads the entry of an import and of a merge,
in Chinese and then in English, and sees labels, names and counts — no raw codes, no JSON, no
UTC offsets. Screenshots go to test-output/e2e/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from autocrm.core import audit
from autocrm.customers.merging import customer_merge
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.demo.services import demo_create
from autocrm.imports.importing import import_job_commit, import_job_create
from autocrm.vehicles.services import vehicle_create

from .test_shell import sign_in

pytestmark = pytest.mark.e2e

RAW = re.compile(r"customer\.merge|\bimport\b|importjob|customers\.|vehicles\.|\{'|\+00:00|Customer-tag")


def seed() -> tuple[Any, Any, Any]:
    demo_create()
    manager = actor_for("manager_a", "a")
    sales = actor_for("sales_a1")
    text = "客户姓名,手机号,外部编号\n张三,13812345671,X1\n李四,13812345672,X2\n王五,123,X3\n"
    upload = SimpleUploadedFile("dms-export.csv", text.encode(), content_type="text/csv")
    survivor = make_customer(sales, name="张伟", mobile="13812349999")
    merged = make_customer(sales, name="张玮", mobile="13812348888")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=merged)
    with audit.acting_as(manager):
        job = import_job_create(actor=manager, upload=upload, kind="customers", mode="valid_only")
        import_job_commit(actor=manager, job=job, mode="valid_only", background=False)
        customer_merge(actor=manager, survivor=survivor, merged=merged, choices={"name": "survivor"})
    return job, survivor, merged


def entry(page: Any, action: str) -> str:
    row = page.locator(f"tr.audit-event[data-action='{action}']").first
    return row.inner_text()


def test_manager_reads_an_import_and_a_merge_in_chinese_and_english(
    e2e_db: None, live_server: Any, page: Any, screenshot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    job, survivor, merged = seed()
    base = live_server.url
    sign_in(page, base, "manager_a")

    page.goto(base + "/audit/")
    page.wait_for_selector("#audit-events")
    header = page.locator("#audit-events thead").text_content()
    assert "北京时间" in header
    imported = entry(page, "import")
    assert "导入" in imported and "行数: 3" in imported and "新建记录: 2" in imported and "错误行: 1" in imported
    merge = entry(page, "customer.merge")
    assert "合并客户" in merge and f"被合并的记录: 张玮（记录 {merged.pk}）" in merge
    assert f"并入: 张伟（记录 {survivor.pk}）" in merge and "车辆 1" in merge
    body = page.locator("#audit-events").inner_text()
    assert not RAW.search(body), RAW.search(body)
    screenshot("audit-log-zh")

    # The import's file links to the job; the merged record links to its 360 page.
    page.locator("tr.audit-event[data-action='import'] a", has_text="dms-export.csv").first.click()
    page.wait_for_url(re.compile(rf"/imports/{job.pk}/$"))
    page.go_back()
    page.locator("tr.audit-event[data-action='customer.merge'] a", has_text="张伟").first.click()
    page.wait_for_url(re.compile(rf"/customers/{survivor.pk}/$"))
    timeline = page.locator("body").inner_text()
    assert "vehicle.added" not in timeline and "customer.merged" not in timeline

    page.goto(base + "/audit/")
    page.click("[data-testid=lang-en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    header = page.locator("#audit-events thead").text_content()
    assert "Beijing time" in header
    imported = entry(page, "import")
    assert "Imported" in imported and "Rows: 3" in imported and "Records created: 2" in imported
    assert "Bad rows: 1" in imported
    merge = entry(page, "customer.merge")
    assert "Customers merged" in merge and f"Merged into: 张伟 (record {survivor.pk})" in merge
    assert "Vehicle 1" in merge
    body = page.locator("#audit-events").inner_text()
    assert not RAW.search(body), RAW.search(body)
    assert not re.search(r"[\u4e00-\u9fff]", page.locator("#audit-events thead").text_content())
    screenshot("audit-log-en")
