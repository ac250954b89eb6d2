"""Export of filtered customer and vehicle lists: scope, masking, full data only on request and
with the reveal right, the export audit event, CSV streaming and .xlsx."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.test import Client
from django.utils import translation

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core.errors import PermissionDenied
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.imports.exporting import export_prepare, export_response, export_rows
from autocrm.vehicles.services import vehicle_create


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def data(demo):
    a, b = actor_for("manager_a"), actor_for("manager_b")
    sales = actor_for("sales_a1")
    mine = make_customer(
        sales, name="张伟", mobile="13812345678", id_number="11010519491231002X", address="世纪大道1号"
    )
    other = make_customer(a, name="李娜", mobile="13900001111", district="徐汇区")
    far = make_customer(b, name="王芳", mobile="13700002222")
    vehicle_create(actor=sales, data={"vin": "LSJA24U62JG269225", "plate": "沪A12345"}, customer=mine)
    return {"mine": mine, "other": other, "far": far}


def body(response) -> list[list[str]]:
    if response.streaming:
        text = b"".join(response.streaming_content).decode("utf-8")
    else:
        text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_manager_exports_own_store_masked_and_logged(data):
    manager = actor_for("manager_a")
    export = export_prepare(actor=manager, kind="customers", fmt="csv")
    rows = body(export_response(export))
    header, values = rows[0], rows[1:]
    assert "Mobile" in header and "ID number" in header
    names = [r[header.index("Name")] for r in values]
    assert sorted(names) == ["张伟", "李娜"]  # not store b's 王芳
    zhang = next(r for r in values if r[header.index("Name")] == "张伟")
    assert zhang[header.index("Mobile")] == "138****5678"
    assert zhang[header.index("ID number")] == "*****************X"
    assert "13812345678" not in ",".join(zhang)
    event = AuditEvent.objects.get(action="export")
    assert event.extra["count"] == 2 and event.extra["filters"]["full_personal_data"] is False
    assert event.object_type == "customers.customer" and event.actor_id == manager.user_id


def test_filters_are_the_list_filters(data):
    export = export_prepare(actor=actor_for("manager_a"), kind="customers", filters={"q": "zw", "ignored": "x"})
    assert export.count == 1 and [r[1] for r in list(export_rows(export))[1:]] == ["张伟"]
    assert AuditEvent.objects.get(action="export").extra["filters"]["q"] == "zw"


def test_scope_sales_may_not_export_marketing_sees_store_director_the_organization(data):
    with pytest.raises(PermissionDenied):
        export_prepare(actor=actor_for("sales_a1"), kind="customers")
    assert AuditEvent.objects.filter(action="authz.denied", extra__attempted="export").exists()
    assert not AuditEvent.objects.filter(action="export").exists()
    marketing = export_prepare(actor=actor_for("marketing_a1"), kind="customers")
    header = marketing.header()
    assert marketing.count == 2 and "ID number" not in header and "Street address" not in header  # hidden
    assert export_prepare(actor=actor_for("director"), kind="customers").count == 3


def test_full_personal_data_needs_reveal_and_is_logged(data):
    with pytest.raises(PermissionDenied):
        export_prepare(actor=actor_for("marketing_a1"), kind="customers", full=True)
    export = export_prepare(actor=actor_for("manager_a"), kind="customers", full=True, filters={"q": "zw"})
    rows = list(export_rows(export))
    # A leading "+" is a formula to a spreadsheet: the full mobile is written as text.
    assert rows[1][rows[0].index("Mobile")] == "'+8613812345678"
    assert rows[1][rows[0].index("Street address")] == "世纪大道1号"
    assert AuditEvent.objects.get(action="export").extra["filters"]["full_personal_data"] is True


def test_xlsx_export_and_vehicles(data):
    export = export_prepare(actor=actor_for("manager_a"), kind="vehicles", fmt="xlsx")
    response = export_response(export)
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert rows[1][header.index("VIN")] == "LSJA24U62JG269225"
    assert rows[1][header.index("Owner's mobile")] == "138****5678"
    assert AuditEvent.objects.get(action="export").object_type == "vehicles.vehicle"
    with pytest.raises(PermissionDenied):
        export_prepare(actor=actor_for("sales_a1"), kind="vehicles")


def test_api_export(data):
    _, secret = token_issue_session(user=User.objects.get(username="manager_a"))
    client = Client()
    r = client.get(
        "/api/v1/customers/export", {"format": "csv", "district": "徐汇区"}, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = body(r)
    assert len(rows) == 2 and rows[1][1] == "李娜" and rows[1][3] == "139****1111"
    _, secret = token_issue_session(user=User.objects.get(username="sales_a1"))
    assert client.get("/api/v1/customers/export", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403
