import pytest
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.loyalty import services
from autocrm.loyalty.models import Membership

from .factories import actor_for, make_customer, member

pytestmark = pytest.mark.django_db


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_member_card_on_the_360_page_enrol_and_scope(demo):
    customer = make_customer(actor_for("advisor_a1", "a"))
    url = reverse("loyalty:customer_part", args=[customer.pk])
    advisor = login("advisor_a1")
    page = advisor.get(reverse("customers:customer_detail", args=[customer.pk]))
    assert url in page.content.decode()
    part = advisor.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "尚未入会" in part or "Not a member yet" in part
    assert advisor.post(reverse("loyalty:customer_enrol", args=[customer.pk])).status_code == 302
    m = Membership.objects.get(customer=customer)
    part = advisor.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert m.referral_code in part
    assert login("advisor_b1").get(url).status_code == 404
    assert login("advisor_b1").post(reverse("loyalty:customer_enrol", args=[customer.pk])).status_code in (302, 404)
    assert Membership.objects.filter(customer=customer).count() == 1
    assert login("tech_a1").get(url).status_code in (403, 404)


def test_pages_render_in_chinese(demo):
    m = member(points=300)
    manager = login("manager_a")
    for name, args in (("loyalty:member_list", []), ("loyalty:member_detail", [m.pk]), ("loyalty:coupon_list", []),
                       ("loyalty:programme", [])):  # fmt: skip
        r = manager.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert r.status_code == 200, name
    detail = manager.get(reverse("loyalty:member_detail", args=[m.pk])).content.decode()
    assert "积分" in detail


def test_adjust_and_redeem_from_the_pages(demo):
    m = member(points=10)
    manager = login("manager_a")
    r = manager.post(reverse("loyalty:member_adjust", args=[m.pk]), {"points": "-4", "reason": "补扣", "nonce": "1"})
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.points_balance == 6
    coupon = services.coupon_issue(actor=actor_for("advisor_a1", "a"), data={"type": "REFERRAL",
                                                                             "customer": m.customer_id})  # fmt: skip
    r = login("advisor_a1").post(reverse("loyalty:coupon_redeem"), {"code": coupon.code, "reference": "POS"})
    assert r.status_code == 302
    coupon.refresh_from_db()
    assert coupon.status == "redeemed"


def test_coupon_and_points_chosen_on_the_repair_order_page_in_scope(demo):
    from autocrm.loyalty.models import BillLoyalty

    from .factories import ro_at_quality_check

    advisor = actor_for("advisor_a1", "a")
    m = member(points=500)
    coupon = services.coupon_issue(actor=advisor, data={"type": "REFERRAL", "customer": m.customer_id})
    ro = ro_at_quality_check(advisor, m.customer)
    ro_url = reverse("service:repair_order_detail", args=[ro.pk])
    url = reverse("loyalty:bill_choose", args=[ro.pk])
    client = login("advisor_a1")
    page = client.get(ro_url).content.decode()
    assert url in page and coupon.code in page
    data = {"customer": m.customer_id, "coupon": coupon.code, "points": "300", "next": ro_url}
    # another store's advisor, a technician: refused, nothing chosen
    assert login("advisor_b1").post(url, data).status_code == 404
    assert login("tech_a1").post(url, data).status_code in (403, 404)
    assert not BillLoyalty.objects.filter(repair_order_id=ro.pk).exists()
    # more points than the balance: a clear message, nothing chosen
    response = client.post(url, {**data, "points": "501"})
    assert response.status_code == 302 and response["Location"] == ro_url
    assert not BillLoyalty.objects.filter(repair_order_id=ro.pk).exists()
    response = client.post(url, {**data, "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response["Location"]
    chosen = BillLoyalty.objects.get(repair_order_id=ro.pk)
    assert chosen.coupon_id == coupon.pk and chosen.points == 300
    assert 'value="300"' in client.get(ro_url).content.decode()
    assert login("tech_a1").get(ro_url).content.decode().count(url) == 0
