"""/api/v1/templates: list, retrieve, create, update; hostile input is a 400 naming the field."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.customers.tests.test_api import bearer
from autocrm.messaging.models import MessageTemplate

NEW = {
    "code": "pickup_ready", "name": "提车通知", "purpose": "service", "channel": "sms",
    "body": "{customer_title}，您的爱车{plate}已完成保养。", "provider_template_id": "9001",
    "param_order": ["customer_title", "plate"],
}  # fmt: skip


def post(api, data, user="manager_a"):
    return api.post("/api/v1/templates", data, content_type="application/json", **bearer(user))


def test_create_list_get_update(demo):
    api = Client()
    r = post(api, NEW)
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    assert r.json()["variables"] == ["customer_title", "plate"] and r.json()["language"] == "zh-hans"
    h = bearer("manager_a")
    items = api.get("/api/v1/templates", {"code": "pickup_ready"}, **h).json()["items"]
    assert [t["id"] for t in items] == [tid]
    assert api.get(f"/api/v1/templates/{tid}", **h).json()["name"] == "提车通知"
    r = api.patch(f"/api/v1/templates/{tid}", {"name": "提车"}, content_type="application/json", **h)
    assert r.status_code == 200 and r.json()["name"] == "提车"
    assert api.get(f"/api/v1/templates/{tid}", **bearer("manager_b")).status_code == 404
    assert post(api, NEW).status_code == 409


def test_unknown_variable_is_400_naming_body(demo):
    r = post(Client(), {**NEW, "body": "{customer_title}，{favourite_colour}"})
    assert r.status_code == 400
    assert "body" in r.json()["fields"] and "favourite_colour" in r.json()["fields"]["body"][0]
    assert not MessageTemplate.objects.filter(code="pickup_ready").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": "{{ request.user.password }}"}, "body"),
        ({"body": "{% load static %}{customer_name}"}, "body"),
        ({"body": "x" * 20_000}, "body"),
        ({"purpose": "spam"}, "purpose"),
        ({"channel": "fax"}, "channel"),
        ({"code": "../../etc"}, "code"),
        ({"param_order": ["plate", "nope:nope"]}, "param_order"),
        ({"name": ""}, "name"),
    ],
)
def test_hostile_input_400(demo, change, field):
    r = post(Client(), {**NEW, **change})
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"]


def test_wrong_types_and_filters(demo):
    api = Client()
    assert post(api, {**NEW, "param_order": "plate"}).status_code == 400
    assert post(api, {**NEW, "is_active": {"x": 1}}).status_code == 400
    h = bearer("manager_a")
    r = api.get("/api/v1/templates", {"channel": "fax"}, **h)
    assert r.status_code == 400 and "channel" in r.json()["fields"]
    assert api.get("/api/v1/templates", {"cursor": "garbage"}, **h).status_code == 400
    assert api.get("/api/v1/templates/99999999999999999999", **h).status_code in (400, 404)


def test_roles(demo):
    api = Client()
    assert post(api, NEW, user="sales_a1").status_code == 403
    assert api.get("/api/v1/templates", **bearer("sales_a1")).status_code == 200
    assert api.get("/api/v1/templates", **bearer("tech_a1")).status_code == 403
