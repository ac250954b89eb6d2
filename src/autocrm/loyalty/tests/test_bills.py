"""The bill applies tier discount → coupon → points line by line; paying consumes them in the
payment's transaction; voiding gives them back; referrals are rewarded once."""

from decimal import Decimal

import pytest

from autocrm.core.errors import Conflict
from autocrm.core.events import capture
from autocrm.loyalty import services
from autocrm.loyalty.models import BillLoyalty, Coupon, Membership, PointsEntry, Referral, Tier
from autocrm.service import services as service
from autocrm.service.models import Bill

from .factories import actor_for, make_customer, member, ro_at_quality_check

pytestmark = pytest.mark.django_db


def gold(m):
    Membership.objects.filter(pk=m.pk).update(tier=Tier.objects.get(store_id=m.store_id, code="gold"))


def test_gold_tier_coupon_and_points_in_order_on_the_bill_then_consumed_and_voided(demo):
    advisor = actor_for("advisor_a1", "a")
    m = member(points=5000)
    gold(m)
    coupon = Coupon.objects.get(customer=m.customer, type__code="REFERRAL") if False else None
    coupon = services.coupon_issue(actor=advisor, data={"type": "REFERRAL", "customer": m.customer_id})  # ¥100 off
    ro = ro_at_quality_check(advisor, m.customer, labour="600", parts="400")
    services.bill_loyalty_set(actor=advisor, data={"repair_order": ro.pk, "customer": m.customer_id,
                                                   "coupon": coupon.code, "points": 3000})  # fmt: skip
    service.repair_order_advance(actor=advisor, repair_order=ro)  # → 待结算: the bill is made
    bill = Bill.objects.get(repair_order=ro)
    lines = [(d["code"], d["amount"]) for d in bill.discounts]
    # 1000.00 × 20% = 200.00 (gold 8折); the ¥100 voucher; 3000 points × ¥0.01 = 30.00
    assert lines == [("tier:gold", "200.00"), (f"coupon:{coupon.code}", "100.00"), ("points:3000", "30.00")]
    assert bill.total == Decimal("670.00")
    with capture():
        service.bill_pay(actor=advisor, bill=bill, method="wechat")
    coupon.refresh_from_db()
    m.refresh_from_db()
    assert coupon.status == "redeemed" and coupon.redeemed_ref == f"service.bill:{bill.pk}"
    # 5000 − 3000 spent + 670 earned (1 point per yuan of labour and parts paid)
    assert m.points_balance == 2670 == sum(PointsEntry.objects.filter(membership=m).values_list("points", flat=True))
    assert m.spend_12m == Decimal("670.00")
    assert BillLoyalty.objects.get(repair_order_id=ro.pk).status == "settled"
    # voided: the coupon is usable again, the points come back, the spend no longer counts
    service.bill_void(actor=advisor, bill=bill, reason="收款方式错")
    coupon.refresh_from_db()
    m.refresh_from_db()
    assert coupon.status == "issued" and m.points_balance == 5000 and m.spend_12m == Decimal("0")
    # paid again: consumed again, once
    service.bill_pay(actor=advisor, bill=Bill.objects.get(pk=bill.pk), method="cash")
    m.refresh_from_db()
    assert m.points_balance == 2670


def test_a_coupon_used_elsewhere_refuses_the_payment_and_changes_nothing(demo):
    advisor = actor_for("advisor_a1", "a")
    m = member(points=100)
    coupon = services.coupon_issue(actor=advisor, data={"type": "REFERRAL", "customer": m.customer_id})
    ro = ro_at_quality_check(advisor, m.customer, labour="500")
    services.bill_loyalty_set(actor=advisor, data={"repair_order": ro.pk, "customer": m.customer_id,
                                                   "coupon": coupon.code, "points": 100})  # fmt: skip
    service.repair_order_advance(actor=advisor, repair_order=ro)
    services.coupon_redeem(actor=advisor, code=coupon.code, data={})  # the other till was faster
    bill = Bill.objects.get(repair_order=ro)
    with pytest.raises(Conflict) as exc:
        service.bill_pay(actor=advisor, bill=bill, method="cash")
    assert "coupon" in exc.value.fields
    bill.refresh_from_db()
    m.refresh_from_db()
    assert bill.status == "unpaid" and m.points_balance == 100


def test_labour_only_tier_discount_and_points_share_cap(demo):
    advisor = actor_for("advisor_a1", "a")
    m = member(points=100000)
    gold(m)
    services.programme_update(actor=actor_for("manager_a", "a"), data={"tier_basis": "labour"})
    ro = ro_at_quality_check(advisor, m.customer, labour="300", parts="700")
    services.bill_loyalty_set(actor=advisor, data={"repair_order": ro.pk, "customer": m.customer_id,
                                                   "points": 100000})  # fmt: skip
    service.repair_order_advance(actor=advisor, repair_order=ro)
    lines = [(d["code"], d["amount"]) for d in Bill.objects.get(repair_order=ro).discounts]
    assert lines == [("tier:gold", "60.00"), ("points:50000", "500.00")]  # at most half the bill in points


def test_bill_loyalty_refuses_more_points_than_the_balance_and_another_stores_customer(demo):
    advisor = actor_for("advisor_a1", "a")
    m = member(points=10)
    with pytest.raises(Conflict):
        services.bill_loyalty_set(actor=advisor, data={"repair_order": 1, "customer": m.customer_id, "points": 11})
    other = member("b")
    from autocrm.core.errors import NotFound

    with pytest.raises(NotFound):
        services.bill_loyalty_set(actor=advisor, data={"repair_order": 1, "customer": other.customer_id})


def test_referral_from_a_lead_rewarded_once_when_the_friend_first_services(demo):
    from autocrm.leads.services import lead_create

    referrer = member()
    sales = actor_for("sales_a1", "a")
    with capture():
        intake = lead_create(actor=sales, data={"name": "王小明", "mobile": "13912345678",
                                                "referral_code": referrer.referral_code.lower()})  # fmt: skip
    referral = Referral.objects.get(lead_id=intake.lead.pk)
    assert referral.referrer_id == referrer.pk and referral.status == "pending"
    friend = make_customer(actor_for("advisor_a1", "a"))
    services.referral_converted(store_id=referrer.store_id, customer_id=friend.pk, lead_id=intake.lead.pk,
                                reason="sales.deal:1")  # fmt: skip
    again = services.referral_converted(store_id=referrer.store_id, customer_id=friend.pk, lead_id=None,
                                        reason="service.repairorder:9")  # fmt: skip
    assert again is None
    assert Coupon.objects.filter(customer=referrer.customer, type__code="REFERRAL").count() == 1
    assert Coupon.objects.filter(customer=friend, type__code="REFERRAL").count() == 1
    referrer.refresh_from_db()
    assert referrer.spend_12m == Decimal("1000.00")  # referrals count toward the tier


def test_unknown_or_own_referral_code_is_ignored(demo):
    m = member()
    assert services.referral_from_lead(lead_id=99, store_id=m.store_id, code="NOPE1234", customer_id=None) is None
    assert services.referral_from_lead(lead_id=98, store_id=m.store_id, code=m.referral_code,
                                       customer_id=m.customer_id) is None  # fmt: skip
