"""Every role's home page shows panels with real data from the demo (not empty shells)."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.core.roles import Role
from autocrm.core.testing import ACTOR_OF_ROLE
from autocrm.demo.services import demo_create
from autocrm.vehicles.models import OdometerReading


@pytest.fixture
def demo_data(db):
    return demo_create(customers=60, seed=7)


def _home(username: str) -> dict:
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get("/")
    assert response.status_code == 200
    panels = {p["key"]: p for p in response.context["panels"]}
    panels["_html"] = response.content.decode()
    return panels


def test_every_role_has_a_home_page(demo_data):
    for role in Role.values:
        panels = _home(ACTOR_OF_ROLE[role])
        assert {"my_stores", "activity"} <= set(panels), role
        assert 'id="role-description"' in panels["_html"], role


def test_the_store_manager_is_the_general_manager(demo_data):
    html = _home("manager_a")["_html"]
    assert "店总/总经理" in html and "总经理督办" in html


def test_sales_manager_sees_the_consultants_books_and_the_team(demo_data):
    panels = _home("sales_manager_a")
    books = panels["consultants"]
    assert books["total"] > 0 and books["rows"]
    assert sum(r["count"] for r in books["rows"]) + books["unassigned"] == books["total"]
    assert {m.user.username for m in panels["team"]["members"]} >= {"sales_a1", "sales_a2"}
    assert "consultants" not in _home("sales_a1")  # a consultant does not assign


def test_service_manager_and_finance_see_what_falls_due(demo_data):
    service = _home("service_manager_a")["due"]
    assert not service["insurance_only"] and service["count"] > 0 and service["rows"]
    finance = _home("finance_a1")["due"]
    assert finance["insurance_only"]
    assert all(str(r["label"]) == str(finance["rows"][0]["label"]) for r in finance["rows"])
    assert "team" in _home("service_manager_a")


def test_technician_sees_the_latest_cars_at_reception(demo_data):
    panels = _home("tech_a1")
    readings = panels["readings"]["readings"]
    assert readings and all(r.store.code == "a" for r in readings)
    newest = OdometerReading.objects.filter(store__code="a").order_by("-at", "-id").first()
    assert readings[0].pk == newest.pk
    assert "consultants" not in panels and "due" not in panels


def test_marketing_specialist_sees_who_can_be_reached(demo_data):
    from django.core.cache import cache

    from autocrm.customers.models import Consent, Customer

    cache.clear()
    audience = _home("marketing_a1")["audience"]
    live = Customer.objects.filter(store__code="a", merged_into__isnull=True)
    assert audience["total"] == live.count()
    reach = {r["code"]: r["count"] for r in audience["reach"]}
    in_force = Consent.objects.filter(
        customer__in=live, purpose="marketing", channel="sms", granted=True, withdrawn_at__isnull=True
    )
    assert reach["sms"] == in_force.values("customer_id").distinct().count() > 0
    assert reach["wechat"] > 0
    assert sum(r["count"] for r in audience["stages"]) == audience["total"]
    assert audience["tags"] and audience["tags"][0]["count"] >= audience["tags"][-1]["count"]
    # withdrawing a consent shows after the ten-minute cache, and only then
    one = in_force.first()
    one.withdrawn_at = one.at
    one.save()
    assert {r["code"]: r["count"] for r in _home("marketing_a1")["audience"]["reach"]}["sms"] == reach["sms"]
    cache.clear()
    assert {r["code"]: r["count"] for r in _home("marketing_a1")["audience"]["reach"]}["sms"] == reach["sms"] - 1
    for username in ("manager_a", "sales_a1", "advisor_a1", "director"):
        assert "audience" not in _home(username), username


def test_marketing_home_in_chinese_within_its_query_budget(demo_data, django_assert_max_num_queries):
    from django.core.cache import cache

    cache.clear()
    client = Client()
    client.force_login(User.objects.get(username="marketing_a1"))
    with django_assert_max_num_queries(20):
        body = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "营销可触达客户" in body and "短信授权" in body and "生命周期" in body
