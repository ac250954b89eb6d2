"""The data-quality report counts what a clerk would have to fix, per store and in scope."""

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.customers.models import Customer, DuplicatePair
from autocrm.customers.quality import quality_customers, quality_report
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.tenancy.models import Store

ADDRESS = "张杨路1200号"


@pytest.fixture
def crafted(demo):
    """Store a: three good customers, one with an invalid mobile written around the services,
    one without an address, one open duplicate pair. Store b: one good customer."""
    manager_a = actor_for("manager_a")
    good = [
        make_customer(manager_a, name=name, mobile=mobile, address=ADDRESS, district="浦东新区")
        for name, mobile in (("张伟", "13812345678"), ("张卫", "13812345679"), ("李娜", "13912345678"))
    ]
    store_a = Store.objects.get(code="a")
    field = Customer._meta.get_field("mobile_index")
    bad = Customer(store=store_a, name="王强", mobile="12345", address=ADDRESS, district="浦东新区")
    bad.mobile_index = field.compute(bad.mobile)
    Customer.objects.bulk_create([bad])  # bypasses customer_clean, as a raw import would
    no_address = make_customer(manager_a, name="赵敏", mobile="13712345678", district="浦东新区")
    DuplicatePair.objects.create(store=store_a, customer_a=good[0], customer_b=good[1], score=0.9, reasons=[])
    make_customer(actor_for("manager_b"), name="孙强", mobile="13612345678", address="文三路1号", district="西湖区")
    return {"good": good, "bad": bad, "no_address": no_address}


def report_of(username):
    return {sq.store_name: sq for sq in quality_report(actor=actor_for(username))}


def test_counts_on_crafted_store(crafted):
    (sq,) = report_of("manager_a").values()
    assert sq.customers == 5
    assert sq.counts["invalid_mobile"] == 1
    assert sq.counts["missing_address"] == 1
    assert sq.counts["three_elements"] == 1
    assert sq.counts["duplicates"] == 1
    assert sq.counts["missing_mobile"] == 0
    assert sq.invalid == 1
    assert sq.three_element_rate == pytest.approx(4 / 5)
    assert 0 < sq.completeness_rate < 1


def test_problem_lists_the_affected_customers(crafted):
    manager = actor_for("manager_a")
    assert [c.pk for c in quality_customers(actor=manager, problem="invalid_mobile")] == [crafted["bad"].pk]
    assert [c.pk for c in quality_customers(actor=manager, problem="missing_address")] == [crafted["no_address"].pk]
    dup_ids = {c.pk for c in quality_customers(actor=manager, problem="duplicates")}
    assert dup_ids == {crafted["good"][0].pk, crafted["good"][1].pk}


def test_invalid_vin_and_plate_written_around_the_services(crafted):
    from autocrm.vehicles.models import Vehicle

    store_a = Store.objects.get(code="a")
    owner = crafted["good"][2]
    Vehicle.objects.bulk_create(
        [
            Vehicle(store=store_a, organization_id=store_a.organization_id, customer=owner, vin="LSJA24U62JG2692I",
                    plate="沪A12345"),
            Vehicle(store=store_a, organization_id=store_a.organization_id, customer=owner, vin="LSJA24U62JG269225",
                    plate="沪A1234"),
        ]
    )  # fmt: skip
    (sq,) = report_of("manager_a").values()
    assert sq.counts["invalid_vin"] == 1 and sq.counts["invalid_plate"] == 1
    assert {k: sq.related[k] for k in ("invalid_vin", "invalid_plate")} == {
        "invalid_vin": 1,
        "invalid_plate": 1,
    }  # counted in vehicles, not owners
    assert [c.pk for c in quality_customers(actor=actor_for("manager_a"), problem="invalid_vin")] == [owner.pk]


def test_scope_manager_sees_own_store_director_both(crafted):
    b = report_of("manager_b")
    assert list(b) == ["杭州西湖丰田4S店"]
    assert b["杭州西湖丰田4S店"].customers == 1 and b["杭州西湖丰田4S店"].invalid == 0
    both = report_of("director")
    assert {name: sq.customers for name, sq in both.items()} == {"上海浦东比亚迪4S店": 5, "杭州西湖丰田4S店": 1}
    assert quality_customers(actor=actor_for("manager_b"), problem="invalid_mobile").count() == 0


def test_api_report_in_scope(crafted):
    _, secret = token_issue_session(user=User.objects.get(username="manager_a"))
    r = Client().get("/api/v1/customers/quality", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 200, r.content
    (store,) = r.json()["stores"]
    assert store["customers"] == 5 and store["invalid"] == 1
    assert store["missing_three_elements"] == 1 and store["probable_duplicates"] == 1
    counts = {p["key"]: p["count"] for p in store["problems"]}
    assert counts["invalid_mobile"] == 1 and counts["missing_address"] == 1


def test_page_links_each_problem_to_its_customers(crafted):
    client = Client()
    client.force_login(User.objects.get(username="manager_a"))
    page = client.get("/quality/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/quality/invalid_mobile/?store=" in html and "杭州西湖丰田4S店" not in html
    listing = client.get("/quality/invalid_mobile/").content.decode()
    assert f'data-customer="{crafted["bad"].pk}"' in listing and "王强" in listing
    assert f'data-customer="{crafted["good"][0].pk}"' not in listing
    assert client.get("/quality/no_such_problem/").status_code == 404


def test_counts_are_kept_a_minute_and_recounted_on_demand(crafted):
    manager = actor_for("manager_a")
    assert quality_report(actor=manager)[0].counts["missing_address"] == 1
    Customer.objects.filter(pk=crafted["no_address"].pk).update(district="")  # fixed elsewhere: now no district
    assert quality_report(actor=manager)[0].counts["missing_district"] == 0  # the kept figures
    assert quality_report(actor=manager, refresh=True)[0].counts["missing_district"] == 1
    client = Client()
    client.force_login(User.objects.get(username="manager_a"))
    assert 'id="quality-refresh"' in client.get("/quality/").content.decode()
