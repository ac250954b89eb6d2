"""The cost basis of the service KPIs (ADR 0026): the store manager's form and
GET/PATCH /api/v1/service-costs — who may read and change it, 400 naming a bad field with
nothing changed, audited, partial PATCH, one store never another's; the KPI page links it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.service.models import ServiceCosts
from autocrm.service.services_kpis import service_costs_set

URL = "/api/v1/service-costs"
SC = "service.servicecosts"


def login(client, username):
    client.force_login(User.objects.get(username=username))


@pytest.fixture
def api(demo):
    return Client()


def test_the_store_manager_sets_the_basis_and_it_is_audited(api):
    r = api.get(URL, **bearer("manager_a"))
    assert r.status_code == 200
    assert (
        r.json()
        == {
            "store": actor_for("manager_a").store_id,
            "basis": "store",
            "monthly_fixed_costs": "0.00",
            "labour_cost_per_hour": "0.00",
            "updated_at": None,
        }
        or r.json()["updated_at"] is None
    )
    r = api.patch(URL, {"monthly_fixed_costs": "350000.00", "labour_cost_per_hour": "85.5"},
                  content_type="application/json", **bearer("manager_a"))  # fmt: skip
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["basis"], Decimal(body["monthly_fixed_costs"]), Decimal(body["labour_cost_per_hour"])) == \
        ("store", Decimal("350000.00"), Decimal("85.50"))  # fmt: skip
    assert body["updated_at"]
    # A PATCH of one field keeps the others.
    r = api.patch(URL, {"basis": "aftersales"}, content_type="application/json", **bearer("manager_a"))
    assert r.status_code == 200
    row = ServiceCosts.objects.get(store_id=actor_for("manager_a").store_id)
    assert (row.basis, row.monthly_fixed_costs, row.labour_cost_per_hour) == \
        ("aftersales", Decimal("350000.00"), Decimal("85.50"))  # fmt: skip
    assert AuditEvent.objects.filter(action="service_costs.set").count() == 2
    # The service manager reads it, and may not change it.
    r = api.get(URL, **bearer("service_manager_a"))
    assert r.status_code == 200 and r.json()["basis"] == "aftersales"
    r = api.patch(URL, {"basis": "store"}, content_type="application/json", **bearer("service_manager_a"))
    assert r.status_code == 403
    row.refresh_from_db()
    assert row.basis == "aftersales"


@pytest.mark.parametrize("username", ["advisor_a1", "tech_a1", "sales_a1", "finance_a1"])
def test_roles_without_the_basis_get_403(api, username):
    assert api.get(URL, **bearer(username)).status_code == 403
    r = api.patch(URL, {"monthly_fixed_costs": "1.00"}, content_type="application/json", **bearer(username))
    assert r.status_code == 403
    assert not ServiceCosts.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [("monthly_fixed_costs", "-1"), ("monthly_fixed_costs", "12.345"), ("monthly_fixed_costs", "1e999999"),
     ("monthly_fixed_costs", None), ("monthly_fixed_costs", "NaN"), ("labour_cost_per_hour", "abc"),
     ("labour_cost_per_hour", "\x00"), ("basis", "everything"), ("basis", ["store"]), ("monthly_fixed_costs", [1])],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_nothing_changes(api, field, value):
    service_costs_set(actor=actor_for("manager_a"), data={"monthly_fixed_costs": "1000.00"})
    r = api.patch(URL, {field: value}, content_type="application/json", **bearer("manager_a"))
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"]
    row = ServiceCosts.objects.get()
    assert (row.basis, row.monthly_fixed_costs) == ("store", Decimal("1000.00"))


def test_each_store_has_its_own_basis(api):
    service_costs_set(actor=actor_for("manager_a"), data={"monthly_fixed_costs": "1000.00"})
    assert Decimal(api.get(URL, **bearer("manager_b")).json()["monthly_fixed_costs"]) == 0
    api.patch(URL, {"monthly_fixed_costs": "2000.00"}, content_type="application/json", **bearer("manager_b"))
    assert Decimal(api.get(URL, **bearer("manager_a")).json()["monthly_fixed_costs"]) == Decimal("1000.00")
    assert ServiceCosts.objects.count() == 2


def test_the_form_saves_shows_errors_in_chinese_and_reads_only_for_the_service_manager(demo):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    login(client, "manager_a")
    page = client.get("/service/kpis/")
    assert 'data-testid="costs-link"' in page.content.decode()
    page = client.get("/service/kpis/costs/")
    assert page.status_code == 200 and "成本" in page.content.decode()
    r = client.post("/service/kpis/costs/", {"basis": "store", "monthly_fixed_costs": "12.345",
                                            "labour_cost_per_hour": "80"})  # fmt: skip
    assert r.status_code == 400
    assert "is-invalid" in r.content.decode() and not ServiceCosts.objects.exists()
    r = client.post("/service/kpis/costs/", {"basis": "aftersales", "monthly_fixed_costs": "300000",
                                            "labour_cost_per_hour": "80"})  # fmt: skip
    assert r.status_code == 302
    row = ServiceCosts.objects.get()
    assert (row.basis, row.monthly_fixed_costs, row.labour_cost_per_hour) == \
        ("aftersales", Decimal("300000.00"), Decimal("80.00"))  # fmt: skip
    other = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    login(other, "service_manager_a")
    page = other.get("/service/kpis/costs/").content.decode()
    assert "300000.00" in page and 'data-testid="costs-save"' not in page
    assert other.post("/service/kpis/costs/", {"monthly_fixed_costs": "1"}).status_code == 403
    advisor = Client()
    login(advisor, "advisor_a1")
    assert advisor.get("/service/kpis/costs/").status_code == 403


class TestServiceCostsMultistore(MultistoreMatrix):
    builders = {}
    namespaces = ["service_kpis"]
    api_prefixes = ["/service-costs"]
    ops = [
        Op("service_kpis:costs", SC, "view", record=False),
        Op(URL.removeprefix("/api/v1"), SC, "view", api=True, record=False),
        Op(URL.removeprefix("/api/v1"), SC, "change", api=True, record=False, method="PATCH", data={"n": 1}),
    ]
    exempt = {
        "service_kpis:page": "the KPIs' own scope by role (advisor own, store, group); test_kpis",
        "service_kpis:data": "the KPIs' own scope by role (advisor own, store, group); test_kpis",
    }
