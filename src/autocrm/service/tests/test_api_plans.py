"""The plans, insurer claims and accessories API (ADR 0025): the contract, scope, hostile input."""

import pytest
from django.test import Client

from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.service import services

from .factories import make_car, make_ro


@pytest.fixture
def api(demo):
    return Client()


def call(api, method, path, data=None, user="advisor_a1"):
    kwargs = {"content_type": "application/json"} if data is not None else {}
    return getattr(api, method)(f"/api/v1{path}", data, **kwargs, **bearer(user)) if data is not None else \
        getattr(api, method)(f"/api/v1{path}", **bearer(user))  # fmt: skip


def test_sell_apply_bill_and_insurer_claim_over_the_api(api):
    made = call(api, "post", "/service-plans", {"code": "BY2", "name": "两次保养", "services": 2, "price": "800",
                                                "covered_codes": ["OIL"]}, user="service_manager_a")  # fmt: skip
    assert made.status_code == 201, made.content
    product = made.json()
    assert call(api, "post", "/service-plans", {"code": "X", "name": "x", "services": 1}).status_code == 403
    advisor = actor_for("advisor_a1")
    customer, car = make_car(advisor)
    sold = call(api, "post", "/vehicle-plans", {"vehicle": car.pk, "product": product["id"]})
    assert sold.status_code == 201 and sold.json()["remaining"] == 2 and sold.json()["price"] == "800.00"
    plan = sold.json()["id"]
    ro = make_ro(advisor, car=(customer, car))
    services.job_add(
        actor=advisor, repair_order=ro, data={"code": "OIL", "name": "保养", "hours": "1", "rate": "199.99"}
    )
    services.job_add(actor=advisor, repair_order=ro, data={"code": "PNT", "name": "钣喷", "hours": "2.5",
                                                           "rate": "200"})  # fmt: skip
    applied = call(api, "post", f"/repair-orders/{ro.pk}/plans", {"plan": plan})
    assert applied.status_code == 201 and applied.json()["remaining"] == 1
    assert call(api, "post", f"/repair-orders/{ro.pk}/plans", {"plan": plan}).status_code == 409
    claim = call(api, "put", f"/repair-orders/{ro.pk}/insurer-claim", {"insurer": "平安产险", "claim_number": "PA-1",
                                                                      "share_kind": "percent", "share_value": "70"})  # fmt: skip
    assert claim.status_code == 200, claim.content
    answers = {f"job:{j.pk}": "approved" for j in ro.jobs.all()}
    services.estimate_record(actor=advisor, repair_order=ro, answers=answers)
    bill = services.bill_make(ro)
    # 199.99 + 500.00 = 699.99; the plan takes 199.99 → 500.00; insurer 70% = 350.00, owner 150.00
    assert (str(bill.discount_total), str(bill.total)) == ("199.99", "500.00")
    got = call(api, "get", f"/insurer-claims/{claim.json()['id']}").json()
    assert (got["insurer_amount"], got["owner_amount"], got["status"]) == ("350.00", "150.00", "pending")
    pending = call(api, "get", "/insurer-claims?status=pending", user="finance_a1").json()["items"]
    assert claim.json()["id"] in [c["id"] for c in pending]
    assert call(api, "post", f"/insurer-claims/{got['id']}/paid").status_code == 403
    assert call(api, "post", f"/insurer-claims/{got['id']}/paid", user="finance_a1").json()["status"] == "paid"
    assert call(api, "post", f"/insurer-claims/{got['id']}/paid", user="finance_a1").status_code == 409
    listed = call(api, "get", f"/vehicle-plans?vehicle={car.pk}").json()["items"]
    assert [p["remaining"] for p in listed] == [1]
    cancel = call(api, "post", f"/vehicle-plans/{plan}/cancel", {"reason": "退车"}, user="service_manager_a")
    assert cancel.status_code == 200 and cancel.json()["refund"] == "400.00"  # 800 × 1/2


def test_scope_and_hostile_input(api):
    advisor = actor_for("advisor_a1")
    _customer, car = make_car(advisor)
    product = call(api, "post", "/service-plans", {"code": "S1", "name": "一次", "services": 1},
                   user="service_manager_a").json()  # fmt: skip
    plan = call(api, "post", "/vehicle-plans", {"vehicle": car.pk, "product": product["id"]}).json()
    assert call(api, "get", f"/vehicle-plans/{plan['id']}", user="advisor_b1").status_code == 404
    assert call(api, "get", f"/service-plans/{product['id']}", user="advisor_b1").status_code == 404
    assert call(api, "get", "/vehicle-plans/99999999999999999999").status_code in (400, 404)
    assert call(api, "get", "/vehicle-plans?vehicle=abc").status_code == 400
    assert call(api, "get", "/vehicle-plans?status=nope").status_code == 400
    assert call(api, "get", "/insurer-claims?status=x").status_code == 400
    assert call(api, "get", "/accessory-offers?months_from=9&months_to=3").status_code == 400
    bad = call(api, "post", "/vehicle-plans", {"vehicle": car.pk, "product": product["id"], "price": "9" * 40})
    assert bad.status_code == 400 and "price" in bad.json()["fields"]
    bad = call(api, "post", "/service-plans", {"code": "N\x00", "name": "x", "services": 1}, user="service_manager_a")
    assert bad.status_code == 400 and "code" in bad.json()["fields"]
    ro_b = make_ro(actor_for("advisor_b1"))
    assert call(api, "post", f"/repair-orders/{ro_b.pk}/plans", {"plan": plan["id"]}).status_code == 404
    assert call(api, "post", f"/repair-orders/{ro_b.pk}/plans", {"plan": plan["id"]},
                user="advisor_b1").status_code == 404  # fmt: skip


def test_accessory_margin_is_hidden_from_the_advisor(api):
    made = call(api, "post", "/accessories", {"code": "FILM", "name": "隔热膜", "price": "1980", "cost": "760"},
                user="service_manager_a")  # fmt: skip
    assert made.status_code == 201 and made.json()["margin"] == "1220.00"
    seen = call(api, "get", "/accessories").json()
    assert seen and all(a["cost"] is None and a["margin"] is None for a in seen)
    ro = make_ro(actor_for("advisor_a1"))
    sold = call(api, "post", f"/repair-orders/{ro.pk}/accessories", {"accessory": made.json()["id"]})
    assert sold.status_code == 201 and sold.json()["amount"] == "1980.00"
    assert call(api, "get", "/accessory-offers").status_code == 200
