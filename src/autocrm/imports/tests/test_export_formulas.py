"""Every exporter writes through the shared base, which neutralises any text a spreadsheet would
read as a formula (first character =, +, -, @, tab or CR, whatever follows) with a leading ',
in CSV and in Excel alike — read back from the produced files."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.utils import translation
from testapp.factories import ticket_make

from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.imports.exporting import export_prepare, export_response
from autocrm.vehicles.models import Vehicle
from autocrm.vehicles.services import vehicle_create

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=1", "-", "+8613812345678"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def read_back(export):
    response = export_response(export)
    content = b"".join(response.streaming_content)
    if export.fmt == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8")[1:], newline="")))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    for row in sheet.iter_rows():
        assert all(cell.data_type != "f" for cell in row)  # no cell is stored as a formula
    return [[c.value for c in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_customer_vehicle_and_other_exports_neutralise_formulas(demo, fmt):
    manager = actor_for("manager_a")
    customers = [make_customer(manager, name=f"客户{n}") for n in range(len(HOSTILE))]
    for customer, value in zip(customers, HOSTILE, strict=True):
        # Hostile values as another system could have stored them (services would clean some).
        Customer.objects.filter(pk=customer.pk).update(name=value, community=value, wechat_id="safe-1")
    vehicle = vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225"}, customer=customers[0])
    Vehicle.objects.filter(pk=vehicle.pk).update(colour="=1+1", plate="")
    ticket_make("a", title=HOSTILE[3])

    rows = read_back(export_prepare(actor=manager, kind="customers", fmt=fmt))
    header = rows[0]
    names = [r[header.index("Name")] for r in rows[1:]]
    communities = [r[header.index("Residential community")] for r in rows[1:]]
    expected = ["'" + v for v in HOSTILE]
    if fmt == "xlsx":  # XML turns a carriage return into a line feed when read back
        expected = [v.replace("\r", "\n") for v in expected]
    assert names == communities == expected
    assert {r[header.index("WeChat ID")] for r in rows[1:]} == {"safe-1"}  # a "-" inside is harmless

    rows = read_back(export_prepare(actor=manager, kind="vehicles", fmt=fmt))
    assert rows[1][rows[0].index("Colour")] == "'=1+1"
    assert rows[1][rows[0].index("Owner")] == "'" + HOSTILE[0]

    rows = read_back(export_prepare(actor=manager, kind="tickets", fmt=fmt))
    assert rows[1][0] == "'@SUM(A1)"
