"""Pages of plans, accessories, the offer list and insurer receivables (ADR 0025)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from autocrm.customers.tests.factories import actor_for
from autocrm.service import accessories, insurance, plans, services
from autocrm.service.models import PlanUse

from .factories import make_car, make_ro
from .test_views import login


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


@pytest.fixture
def manager(demo):
    return actor_for("service_manager_a")


def test_sell_apply_on_the_ro_page_and_the_bill_shows_both_shares(advisor, manager):
    product = plans.plan_product_create(actor=manager, data={"code": "P2", "name": "两次保养套餐", "services": 2,
                                                             "price": "888", "covered_codes": ["OIL"]})  # fmt: skip
    customer, car = make_car(advisor)
    client = login("advisor_a1")
    page = client.get(reverse("service:vehicle_plans", args=[car.pk]))
    assert page.status_code == 200 and "两次保养套餐" in page.content.decode()
    sold = client.post(reverse("service:vehicle_plan_sell", args=[car.pk]), {"product": product.pk})
    assert sold.status_code == 302
    plan = plans.vehicle_plan_list(actor=advisor, filters={"vehicle": car.pk}).get()
    ro = make_ro(advisor, car=(customer, car))
    services.job_add(actor=advisor, repair_order=ro, data={"code": "OIL", "name": "保养", "hours": "1"})
    services.job_add(actor=advisor, repair_order=ro, data={"code": "BDY", "name": "钣金", "hours": "3.3"})
    extras = client.get(reverse("service:ro_extras", args=[ro.pk])).content.decode()
    assert "两次保养套餐" in extras and 'data-testid="plan-apply"' in extras
    client.post(reverse("service:ro_plan_apply", args=[ro.pk]), {"plan": plan.pk})
    client.post(reverse("service:ro_plan_apply", args=[ro.pk]), {"plan": plan.pk})  # a second click: once
    assert PlanUse.objects.filter(repair_order=ro).count() == 1
    client.post(reverse("service:ro_claim_set", args=[ro.pk]), {"insurer": "太平洋保险", "claim_number": "CPIC-9",
                                                                "share_kind": "amount", "share_value": "500"})  # fmt: skip
    answers = {f"job:{j.pk}": "approved" for j in ro.jobs.all()}
    services.estimate_record(actor=advisor, repair_order=ro, answers=answers)
    bill = services.bill_make(ro)
    # 180.00 (covered) + 3.3 × 180 = 594.00 → total 594.00; insurer 500.00, owner 94.00
    assert str(bill.total) == "594.00"
    html = client.get(reverse("service:bill_detail", args=[bill.pk])).content.decode()
    assert "两次保养套餐" in html and "¥500.00" in html and "¥94.00" in html
    page = client.get(reverse("service:vehicle_plans", args=[car.pk])).content.decode()
    assert "剩余 1/2 次" in page
    part = client.get(reverse("service:customer_plans", args=[customer.pk]), HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and "两次保养套餐" in part.content.decode()
    receivables = login("finance_a1").get(reverse("service:claim_list")).content.decode()
    assert "CPIC-9" in receivables and "500.00" in receivables


def test_pages_answer_404_and_403_and_hostile_ids(advisor, manager):
    _customer, car = make_car(advisor)
    other = login("advisor_b1")
    assert other.get(reverse("service:vehicle_plans", args=[car.pk])).status_code == 404
    ro = make_ro(advisor)
    assert other.get(reverse("service:ro_extras", args=[ro.pk])).status_code == 404
    client = login("advisor_a1")
    response = client.post(reverse("service:ro_plan_apply", args=[ro.pk]), {"plan": "9" * 30})
    assert response.status_code in (302, 400, 404)
    assert client.post(
        reverse("service:plan_product_create"), {"code": "X", "name": "x", "services": "1"}
    ).status_code in (302, 403)
    assert not plans.plan_product_list(actor=manager).filter(code="X").exists()
    assert login("tech_a1").get(reverse("service:claim_list")).status_code == 403
    assert client.get(reverse("service:offer_list") + "?months_from=x").status_code == 200


def test_the_offer_list_exports_only_for_roles_allowed(advisor, manager):
    today = timezone.localdate()
    _customer, car = make_car(advisor, delivery_date=(today - dt.timedelta(days=183)).isoformat())
    page = login("advisor_a1").get(reverse("service:offer_list"))
    assert page.status_code == 200 and car.vin in page.content.decode()
    assert login("advisor_a1").get(reverse("service:offer_list") + "?format=csv").status_code == 403
    csv = login("service_manager_a").get(reverse("service:offer_list") + "?format=csv")
    assert csv.status_code == 200 and car.vin in csv.content.decode("utf-8-sig")


def test_the_ro_extras_part_costs_the_same_queries_for_few_and_many_plans(advisor, manager):
    client = login("advisor_a1")
    counts = []
    for n in (1, 6):
        customer, car = make_car(advisor)
        for i in range(n):
            product = plans.plan_product_create(actor=manager, data={"code": f"Q{n}-{i}", "name": f"套餐{i}",
                                                                     "services": 3, "covered_codes": ["OIL"]})  # fmt: skip
            plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={})
        accessories.accessory_create(actor=manager, data={"code": f"A{n}", "name": "脚垫", "price": "99"})
        ro = make_ro(advisor, car=(customer, car))
        insurance.claim_set(actor=advisor, repair_order=ro, data={"insurer": "人保", "claim_number": f"C{n}",
                                                                  "share_kind": "percent", "share_value": "50"})  # fmt: skip
        client.get(reverse("service:ro_extras", args=[ro.pk]))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("service:ro_extras", args=[ro.pk])).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] and counts[1] <= 25, counts
