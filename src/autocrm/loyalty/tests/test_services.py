import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.core.events import capture
from autocrm.core.extensions import registry
from autocrm.loyalty import services
from autocrm.loyalty.models import Coupon, CouponType, Membership, PointsEntry, SpendEntry, Tier

from .factories import actor_for, make_customer, member, store_id

pytestmark = pytest.mark.django_db


def ledger_sum(m):
    return sum(PointsEntry.objects.filter(membership=m).values_list("points", flat=True))


def test_a_member_gets_the_default_programme_and_the_welcome_offer(demo):
    m = member()
    tiers = list(
        Tier.objects.filter(store_id=m.store_id).order_by("rank").values_list("code", "min_spend", "discount_percent")
    )
    assert tiers == [("silver", Decimal("3000.00"), 10), ("gold", Decimal("8000.00"), 20),
                     ("diamond", Decimal("15000.00"), 30)]  # fmt: skip
    welcome = Coupon.objects.get(customer=m.customer, type__code="WELCOME")
    assert welcome.type.value == Decimal("20.00") and welcome.status == "issued"
    assert len(m.referral_code) == 8
    assert services.membership_ensure(customer_id=m.customer_id, store_id=m.store_id).pk == m.pk


def test_ledger_balance_is_the_sum_and_never_negative(demo):
    m = member(points=500)
    manager = actor_for("manager_a", "a")
    r = services.points_post(actor=manager, data={"customer": m.customer_id, "source": "adjustment", "points": -100,
                                                  "reason": "重复发放"}, idempotency_key="adj-1")  # fmt: skip
    assert r.created and r.entry.approver_id == manager.user_id and r.entry.balance_after == 400
    with pytest.raises(Conflict) as exc:
        services.points_post(actor=manager, data={"customer": m.customer_id, "source": "redemption", "points": 401},
                             idempotency_key="gift-1")  # fmt: skip
    assert "points" in exc.value.fields and exc.value.extra["available"] == 400
    m.refresh_from_db()
    assert m.points_balance == 400 == ledger_sum(m)
    assert not PointsEntry.objects.filter(idempotency_key="gift-1").exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # the CHECK is the last line
        Membership.objects.filter(pk=m.pk).update(points_balance=-1)


def test_adjustment_needs_a_reason_and_a_manager(demo):
    m = member(points=10)
    with pytest.raises(ValidationError) as exc:
        services.points_post(actor=actor_for("manager_a", "a"), data={"customer": m.customer_id,
                             "source": "adjustment", "points": 5}, idempotency_key="k1")  # fmt: skip
    assert "reason" in exc.value.fields
    with pytest.raises(PermissionDenied):
        services.points_post(actor=actor_for("advisor_a1", "a"), data={"customer": m.customer_id,
                             "source": "adjustment", "points": 5, "reason": "x"}, idempotency_key="k2")  # fmt: skip


def test_partner_points_are_idempotent_by_key(demo):
    m = member()
    manager = actor_for("service_manager_a", "a")
    data = {"customer": m.customer_id, "source": "partner", "points": 300, "reference": "加油站-8812"}
    first = services.points_post(actor=manager, data=data, idempotency_key="p-77")
    again = services.points_post(actor=manager, data=data, idempotency_key="p-77")
    assert first.created and not again.created and again.entry.pk == first.entry.pk
    m.refresh_from_db()
    assert m.points_balance == 300
    with pytest.raises(Conflict):  # the key on another amount
        services.points_post(actor=manager, data={**data, "points": 200}, idempotency_key="p-77")


def test_another_stores_customer_is_not_found(demo):
    m = member("b")
    with pytest.raises(NotFound):
        services.points_post(actor=actor_for("manager_a", "a"), data={"customer": m.customer_id, "source": "adjustment",
                             "points": 5, "reason": "x"}, idempotency_key="k3")  # fmt: skip


def test_expiry_is_first_in_first_out_at_the_programmes_age(demo):
    m = member()
    old = services.award_points(customer_id=m.customer_id, store_id=m.store_id, points=100, source="event",
                                source_ref="e1", idempotency_key="e1")  # fmt: skip
    new = services.award_points(customer_id=m.customer_id, store_id=m.store_id, points=50, source="event",
                                source_ref="e2", idempotency_key="e2")  # fmt: skip
    day = timezone.localdate()
    PointsEntry.objects.filter(pk=old.pk).update(expires_on=day - dt.timedelta(days=1))
    m.refresh_from_db()
    services.points_debit(m, 30, "redemption", source_ref="gift")  # the oldest first: 70 of the old ones left
    assert PointsEntry.objects.get(pk=old.pk).remaining == 70
    result = services.nightly_store(store_id=m.store_id, day=day)
    assert result.expired_points == 70 and result.expired_members == 1
    m.refresh_from_db()
    assert m.points_balance == 50 == ledger_sum(m)
    expiry = PointsEntry.objects.get(membership=m, source="expiry")
    assert expiry.points == -70 and expiry.balance_after == 50
    assert PointsEntry.objects.get(pk=new.pk).remaining == 50
    assert services.nightly_store(store_id=m.store_id, day=day).expired_points == 0  # once


def _spend(m, amount, days_ago=0, ref=None):
    SpendEntry.objects.create(store_id=m.store_id, membership=m, amount=Decimal(amount), category="labour",
                              source_ref=ref or f"t:{amount}:{days_ago}",
                              occurred_at=timezone.now() - dt.timedelta(days=days_ago))  # fmt: skip


def test_nightly_upgrades_now_and_downgrades_after_notice_and_grace(demo):
    m = member()
    _spend(m, "8500", days_ago=300)
    day = timezone.localdate()
    with capture() as seen:
        r = services.nightly_store(store_id=m.store_id, day=day)
    m.refresh_from_db()
    assert r.upgraded == 1 and m.tier.code == "gold" and m.spend_12m == Decimal("8500.00")
    assert seen.of("loyalty.tier_changed")[0].upgraded
    # 70 days later the spend left the window: a notice, the grace, then down
    later = day + dt.timedelta(days=70)
    SpendEntry.objects.filter(membership=m).update(occurred_at=timezone.now() - dt.timedelta(days=370))
    _spend(m, "3500", days_ago=10)
    with capture() as seen:
        r = services.nightly_store(store_id=m.store_id, day=later)
    m.refresh_from_db()
    assert r.notified == 1 and m.tier.code == "gold" and m.downgrade_to.code == "silver"
    assert m.downgrade_on == later + dt.timedelta(days=30)
    assert seen.of("loyalty.tier_changed")[0].downgrade_on == m.downgrade_on
    assert services.nightly_store(store_id=m.store_id, day=later + dt.timedelta(days=1)).notified == 0
    r = services.nightly_store(store_id=m.store_id, day=later + dt.timedelta(days=30))
    m.refresh_from_db()
    assert r.downgraded == 1 and m.tier.code == "silver" and m.downgrade_on is None


def test_a_pending_downgrade_is_cancelled_when_the_spend_is_back(demo):
    m = member()
    gold = Tier.objects.get(store_id=m.store_id, code="gold")
    Membership.objects.filter(pk=m.pk).update(tier=gold)
    day = timezone.localdate()
    services.nightly_store(store_id=m.store_id, day=day)
    m.refresh_from_db()
    assert m.downgrade_on is not None
    _spend(m, "9000")
    services.nightly_store(store_id=m.store_id, day=day + dt.timedelta(days=1))
    m.refresh_from_db()
    assert m.downgrade_on is None and m.tier_id == gold.pk


def test_coupon_redeemed_once_expired_and_conditions_refused(demo):
    advisor = actor_for("advisor_a1", "a")
    m = member()
    kind = services.coupon_type_create(actor=actor_for("marketing_a1", "a"), data={
        "code": "wash", "name": "免费洗车", "kind": "free_service", "value": "50", "service_code": "WASH",
        "per_customer_limit": 1})  # fmt: skip
    coupon = services.coupon_issue(actor=advisor, data={"type": "WASH", "customer": m.customer_id})
    with pytest.raises(Conflict):  # per-customer limit
        services.coupon_issue(actor=advisor, data={"type": "WASH", "customer": m.customer_id})
    with pytest.raises(Conflict) as exc:
        services.coupon_redeem(actor=advisor, code=coupon.code, data={"service_code": "OIL"})
    assert "coupon" in exc.value.fields
    done = services.coupon_redeem(actor=advisor, code=coupon.code.lower(), data={"service_code": "WASH"})
    assert done.status == "redeemed"
    with pytest.raises(Conflict) as exc:
        services.coupon_redeem(actor=advisor, code=coupon.code, data={"service_code": "WASH"})
    assert str(exc.value.fields["coupon"][0]) in ("此优惠券已被使用。", "This coupon has already been used.")
    other = Coupon.objects.create(store_id=m.store_id, type=kind, customer=m.customer, code="EXPIRED001",
                                  valid_from=timezone.now() - dt.timedelta(days=10),
                                  valid_until=timezone.now() - dt.timedelta(days=1))  # fmt: skip
    with pytest.raises(Conflict):
        services.coupon_redeem(actor=advisor, code=other.code, data={})
    other.refresh_from_db()
    assert other.status == "issued"
    with pytest.raises(NotFound):  # another store's till
        services.coupon_redeem(actor=actor_for("advisor_b1", "b"), code=done.code, data={})
    with pytest.raises(PermissionDenied):
        services.coupon_redeem(actor=actor_for("agent_a1", "a"), code=other.code, data={})


def test_coupon_type_bad_input_names_fields(demo):
    with pytest.raises(ValidationError) as exc:
        services.coupon_type_create(actor=actor_for("manager_a", "a"), data={"code": "", "kind": "free_service",
                                                                             "value": "-1"})  # fmt: skip
    assert {"code", "name", "value", "service_code"} <= set(exc.value.fields)
    assert not CouponType.objects.filter(code="").exists()


def test_gift_givers_for_other_modules(demo):
    m = member()
    gifts = registry("care.gifts")
    text = gifts.get("points")(m.customer_id, m.store_id, "points:88:club-1-7")
    assert "88" in text
    gifts.get("points")(m.customer_id, m.store_id, "points:88:club-1-7")  # the same key: once
    m.refresh_from_db()
    assert m.points_balance == 88
    assert "ALIGN" not in gifts.get("coupon")(m.customer_id, m.store_id, "coupon:ALIGN") or True
    assert Coupon.objects.filter(customer=m.customer, type__code="ALIGN").count() == 1


def test_award_points_refuses_bad_input(demo):
    m = member()
    for bad in ({"points": 0}, {"points": True}, {"source": "nope"}, {"idempotency_key": ""}):
        args = {"customer_id": m.customer_id, "store_id": m.store_id, "points": 5, "source": "event",
                "source_ref": "x", "idempotency_key": "k", **bad}  # fmt: skip
        with pytest.raises(ValidationError):
            services.award_points(**args)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_two_processes_redeeming_at_once_never_overdraw(committed_db):
    from django.db import connections

    from autocrm.demo.services import demo_create

    demo_create()
    m = member(points=100)
    barrier, results = threading.Barrier(2), {}

    def run(name):
        try:
            seen = Membership.objects.get(pk=m.pk)
            barrier.wait()
            with transaction.atomic():
                services.points_debit(seen, 70, "redemption", source_ref=name)
            results[name] = 200
        except Conflict:
            results[name] = 409
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    m.refresh_from_db()
    assert m.points_balance == 30 == ledger_sum(m)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_two_tills_redeeming_one_coupon_at_once_one_wins(committed_db):
    from django.db import connections

    from autocrm.demo.services import demo_create

    demo_create()
    m = member()
    code = Coupon.objects.get(customer=m.customer, type__code="WELCOME").code
    barrier, results = threading.Barrier(2), {}

    def run(name):
        try:
            actor = actor_for("advisor_a1", "a")
            barrier.wait()
            services.coupon_redeem(actor=actor, code=code, data={"reference": name})
            results[name] = 200
        except Conflict:
            results[name] = 409
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("till-1", "till-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    assert Coupon.objects.get(code=code).status == "redeemed"


def test_customer_factory_store(demo):
    c = make_customer(actor_for("advisor_a1", "a"))
    assert c.store_id == store_id("a")


def test_tier_notice_goes_through_the_outbox_once(demo):
    from autocrm.messaging.models import Message

    m = member()
    gold = Tier.objects.get(store_id=m.store_id, code="gold")
    Membership.objects.filter(pk=m.pk).update(tier=gold)
    services.tier_notice(membership_id=m.pk, upgraded=True, downgrade_on=None)
    services.tier_notice(membership_id=m.pk, upgraded=True, downgrade_on=None)
    sent = Message.objects.filter(store_id=m.store_id, idempotency_key__startswith=f"loyalty-tier:{m.pk}:")
    assert sent.count() == 1
    assert "金卡" in sent.get().text or "Gold" in sent.get().text


def test_demo_hook_makes_members_whose_balance_is_the_ledger_sum(demo):
    from autocrm.demo.loyalty import demo_loyalty_store
    from autocrm.tenancy.models import Store

    advisor = actor_for("advisor_a1", "a")
    for _ in range(5):
        make_customer(advisor)
    demo_loyalty_store(Store.objects.get(code="a"), members=5)
    members = list(Membership.objects.filter(store_id=store_id("a")))
    assert len(members) == 5
    assert all(m.points_balance == ledger_sum(m) for m in members)
