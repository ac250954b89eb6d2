import pytest
from django.test import Client

from autocrm.customers.tests.test_api import bearer
from autocrm.loyalty.models import Coupon, Membership, PointsEntry

from .factories import actor_for, make_customer, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(demo):
    return Client()


def post(api, path, username, data, **extra):
    return api.post(f"/api/v1{path}", data, content_type="application/json", **bearer(username), **extra)


def test_partner_points_by_api_with_an_idempotency_key_and_the_ledger(api):
    m = member()
    body = {"customer": m.customer_id, "source": "partner", "points": 120, "reference": "洗车合作-001"}
    r = post(api, "/points", "service_manager_a", body, HTTP_IDEMPOTENCY_KEY="partner-1")
    assert r.status_code == 201, r.content
    again = post(api, "/points", "service_manager_a", body, HTTP_IDEMPOTENCY_KEY="partner-1")
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert post(api, "/points", "service_manager_a", body).status_code == 400  # no key
    r = post(api, "/points", "service_manager_a", {**body, "source": "redemption", "points": 121},
             HTTP_IDEMPOTENCY_KEY="gift-9")  # fmt: skip
    assert r.status_code == 409 and "points" in r.json()["fields"]
    ledger = api.get(f"/api/v1/points?customer={m.customer_id}", **bearer("advisor_a1")).json()
    assert ledger["balance"] == 120 and [e["points"] for e in ledger["items"]] == [120]
    assert PointsEntry.objects.filter(membership=m).count() == 1


def test_points_scope_and_roles(api):
    m = member()
    body = {"customer": m.customer_id, "source": "adjustment", "points": 5, "reason": "补录"}
    assert post(api, "/points", "advisor_a1", body, HTTP_IDEMPOTENCY_KEY="x1").status_code == 403
    assert post(api, "/points", "manager_b", body, HTTP_IDEMPOTENCY_KEY="x2").status_code == 404
    assert api.get(f"/api/v1/points?customer={m.customer_id}", **bearer("advisor_b1")).status_code == 404
    assert api.get(f"/api/v1/points?customer={m.customer_id}", **bearer("tech_a1")).status_code == 403
    assert post(api, "/points", "manager_a", body, HTTP_IDEMPOTENCY_KEY="x3").status_code == 201


def test_coupon_issue_list_and_redeem_once_by_api(api):
    m = member()
    r = post(api, "/coupons", "agent_a1", {"type": "REFERRAL", "customer": m.customer_id})
    assert r.status_code == 201, r.content
    code = r.json()["code"]
    assert post(api, f"/coupons/{code}/redeem", "agent_a1", {}).status_code == 403  # agents issue, tills redeem
    assert post(api, f"/coupons/{code}/redeem", "advisor_b1", {}).status_code == 404
    r = post(api, f"/coupons/{code}/redeem", "advisor_a1", {"amount": "300", "reference": "POS-1"})
    assert r.status_code == 200 and r.json()["status"] == "redeemed"
    r = post(api, f"/coupons/{code}/redeem", "advisor_a1", {})
    assert r.status_code == 409 and "coupon" in r.json()["fields"]
    listed = api.get(f"/api/v1/coupons?customer={m.customer_id}&status=redeemed", **bearer("advisor_a1")).json()
    assert [c["code"] for c in listed["items"]] == [code]
    assert api.get("/api/v1/coupons?status=bogus", **bearer("advisor_a1")).status_code == 400
    assert post(api, "/coupons", "agent_b1", {"type": "REFERRAL", "customer": m.customer_id}).status_code == 404


def test_memberships_enrol_list_and_programme(api):
    customer = make_customer(actor_for("advisor_a1", "a"))
    r = post(api, "/memberships", "advisor_a1", {"customer": customer.pk})
    assert r.status_code == 201 and r.json()["tier"] is None and len(r.json()["referral_code"]) == 8
    assert post(api, "/memberships", "advisor_a1", {"customer": customer.pk}).status_code == 200
    assert post(api, "/memberships", "advisor_b1", {"customer": customer.pk}).status_code == 404
    assert post(api, "/memberships", "tech_a1", {"customer": customer.pk}).status_code == 403
    items = api.get(f"/api/v1/memberships?customer={customer.pk}", **bearer("manager_a")).json()["items"]
    assert len(items) == 1
    assert api.get(f"/api/v1/memberships?customer={customer.pk}", **bearer("manager_b")).json()["items"] == []
    programme = api.get("/api/v1/loyalty-programme", **bearer("advisor_a1")).json()
    assert [t["code"] for t in programme["tiers"]] == ["silver", "gold", "diamond"]
    assert programme["tiers"][1]["free_service"] == "ALIGN"
    r = api.patch("/api/v1/loyalty-programme", {"tiers": [{"code": "gold", "min_spend": "2000"}]},
                  content_type="application/json", **bearer("manager_a"))  # fmt: skip
    assert r.status_code == 400 and "tiers" in r.json()["fields"]  # below silver
    r = api.patch("/api/v1/loyalty-programme", {"expiry_months": 12}, content_type="application/json",
                  **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 403


def test_bill_loyalty_and_referrals_by_api(api):
    m = member(points=50)
    r = api.put("/api/v1/bill-loyalty", {"repair_order": 12, "customer": m.customer_id, "points": 50},
                content_type="application/json", **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 200 and r.json()["points"] == 50 and r.json()["status"] == "draft"
    r = api.put("/api/v1/bill-loyalty", {"repair_order": 12, "customer": m.customer_id, "points": 51},
                content_type="application/json", **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 409
    r = api.put("/api/v1/bill-loyalty", {"repair_order": 12, "customer": m.customer_id, "coupon": "NOSUCH"},
                content_type="application/json", **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 400 and "coupon" in r.json()["fields"]
    assert api.get("/api/v1/referrals?status=pending", **bearer("manager_a")).json()["items"] == []
    assert Membership.objects.filter(pk=m.pk).exists() and Coupon.objects.filter(customer=m.customer).exists()
