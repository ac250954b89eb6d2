import pytest
from django.test import Client

from autocrm.customers.tests.test_api import bearer
from autocrm.parts.models import Part, StockMovement
from autocrm.tenancy.models import Store

from .factories import make_part, make_supplier

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(demo):
    return Client()


def post(api, path, username, data, **extra):
    return api.post(f"/api/v1{path}", data, content_type="application/json", **bearer(username), **extra)


def test_create_list_patch_and_cost_hidden_by_role(api):
    r = post(api, "/parts", "service_manager_a", {"part_number": "fo-1", "name": "机油滤清器", "price": "58.00",
                                                   "cost": "24.00", "reorder_point": 5, "unit": "piece"})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["part_number"] == "FO-1" and body["cost"] == "24.00" and body["on_hand"] == "0.00" and body["low"]
    advisor = api.get("/api/v1/parts?q=FO", **bearer("advisor_a1")).json()["items"]
    assert [p["part_number"] for p in advisor] == ["FO-1"] and advisor[0]["cost"] is None
    assert api.get("/api/v1/parts?low=true", **bearer("service_manager_a")).json()["items"][0]["id"] == body["id"]
    r = api.patch(f"/api/v1/parts/{body['id']}", {"reorder_point": "0", "price": "60"},
                  content_type="application/json", **bearer("manager_a"))  # fmt: skip
    assert r.status_code == 200 and r.json()["price"] == "60.00" and not r.json()["low"]
    # an advisor may not change the catalogue; store b does not see it at all
    r = api.patch(f"/api/v1/parts/{body['id']}", {"name": "x"}, content_type="application/json",
                  **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 403
    assert api.get(f"/api/v1/parts/{body['id']}", **bearer("service_manager_b")).status_code == 404
    assert api.get("/api/v1/parts/99999999", **bearer("service_manager_b")).status_code == 404


def test_movements_post_with_idempotency_and_cost_in_history(api):
    part = make_part(on_hand=0)
    body = {"kind": "receipt", "part": part.pk, "quantity": "12", "unit_cost": "21.00"}
    first = post(api, "/stock-movements", "service_manager_a", body, HTTP_IDEMPOTENCY_KEY="grn-2026-001")
    assert first.status_code == 201, first.content
    again = post(api, "/stock-movements", "service_manager_a", body, HTTP_IDEMPOTENCY_KEY="grn-2026-001")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    r = post(api, "/stock-movements", "service_manager_a", {"kind": "adjustment", "part": part.pk,
                                                            "quantity": "-2", "reason": "盘点"})  # fmt: skip
    assert r.status_code == 201 and r.json()["on_hand_after"] == "10.00"
    b = Store.objects.get(code="b")
    r = post(api, "/stock-movements", "service_manager_a", {"kind": "transfer", "part": part.pk, "quantity": 3,
                                                            "to_store": b.pk, "idempotency_key": "tr-9"})  # fmt: skip
    assert r.status_code == 201 and r.json()["other_store"] == b.pk
    assert Part.objects.get(store=b, part_number=part.part_number).on_hand == 3
    history = api.get(f"/api/v1/stock-movements?part={part.pk}", **bearer("service_manager_a")).json()["items"]
    assert [m["kind"] for m in history] == ["transfer_out", "adjustment", "receipt"]
    assert history[-1]["unit_cost"] == "21.00"
    hidden = api.get(f"/api/v1/stock-movements?part={part.pk}", **bearer("advisor_a1")).json()["items"]
    assert all(m["unit_cost"] is None for m in hidden)
    page = api.get(f"/api/v1/stock-movements?part={part.pk}&limit=2", **bearer("service_manager_a")).json()
    rest = api.get(f"/api/v1/stock-movements?part={part.pk}&limit=2&cursor={page['next_cursor']}",
                   **bearer("service_manager_a")).json()  # fmt: skip
    assert [m["id"] for m in page["items"] + rest["items"]] == [m["id"] for m in history]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "receipt", "quantity": "1e400"}, "quantity"),
        ({"kind": "receipt", "quantity": "-5"}, "quantity"),
        ({"kind": "receipt", "quantity": 99999999999}, "quantity"),
        ({"kind": "receipt", "quantity": "NaN"}, "quantity"),
        ({"kind": "receipt", "quantity": [1]}, "quantity"),
        ({"kind": "adjustment", "quantity": "2", "reason": "a\u0000b"}, "reason"),
        ({"kind": "adjustment", "quantity": "2"}, "reason"),
        ({"kind": "issue", "quantity": "2"}, "kind"),
        ({"kind": "transfer", "quantity": "2", "to_store": 99999999}, "to_store"),
        ({"kind": "receipt", "quantity": "2", "idempotency_key": "x" * 65}, "idempotency_key"),
        ({"kind": "receipt", "quantity": "2", "part": "abc"}, "part"),
    ],
)
def test_hostile_movement_input_is_400_naming_the_field(api, body, field):
    part = make_part(on_hand=5)
    body = {"part": part.pk, **body}
    r = post(api, "/stock-movements", "service_manager_a", body)
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"], r.json()
    assert StockMovement.objects.filter(part=part).count() == 1


def test_unknown_or_other_store_part_is_404(api):
    other = make_part("b", on_hand=5)
    for pk in (other.pk, 99999999):
        r = post(api, "/stock-movements", "service_manager_a", {"kind": "receipt", "part": pk, "quantity": 1})
        assert r.status_code == 404


def test_adjust_below_zero_is_409(api):
    part = make_part(on_hand=1)
    r = post(api, "/stock-movements", "service_manager_a", {"kind": "adjustment", "part": part.pk,
                                                            "quantity": "-2", "reason": "破损"})  # fmt: skip
    assert r.status_code == 409 and "quantity" in r.json()["fields"]


def test_purchase_order_flow(api):
    supplier = make_supplier()
    part = make_part(cost="30.00")
    r = post(api, "/purchase-orders", "service_manager_a",
             {"supplier": supplier.pk, "lines": [{"part": part.pk, "quantity": "6"}]})  # fmt: skip
    assert r.status_code == 201, r.content
    order = r.json()
    assert order["status"] == "draft" and order["lines"][0]["unit_cost"] == "30.00"
    assert post(api, f"/purchase-orders/{order['id']}/send", "service_manager_a", {}).json()["status"] == "sent"
    line = order["lines"][0]["id"]
    r = post(api, f"/purchase-orders/{order['id']}/receive", "service_manager_a", {"lines": {str(line): "7"}})
    assert r.status_code == 400 and f"line_{line}" in r.json()["fields"]
    r = post(api, f"/purchase-orders/{order['id']}/receive", "service_manager_a", {"lines": {str(line): "2"}})
    assert r.json()["status"] == "partly_received"
    r = post(api, f"/purchase-orders/{order['id']}/receive", "service_manager_a", {})
    assert r.json()["status"] == "received" and r.json()["lines"][0]["received"] == "6.00"
    assert Part.objects.get(pk=part.pk).on_hand == 6
    assert api.get(f"/api/v1/purchase-orders/{order['id']}", **bearer("advisor_a1")).status_code in (403, 404)
    r = post(api, "/purchase-orders", "service_manager_a", {"supplier": supplier.pk, "lines": [{"part": 99999}]})
    assert r.status_code == 400 and "lines" in r.json()["fields"]
