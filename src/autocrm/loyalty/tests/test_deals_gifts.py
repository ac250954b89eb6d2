"""Points toward a new car on a deal (抵扣购车款, ADR 0039) through core.bill_hooks' deal hooks —
taken once when the order is placed, given back once when the deal is cancelled — and the store's
gift catalogue (积分兑换礼品): points and stock taken together, never negative, cancelled once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client

from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.test_api import bearer
from autocrm.loyalty import services
from autocrm.loyalty.models import DealPoints, Gift, GiftRedemption, Membership, PointsEntry
from autocrm.sales import services as sales
from autocrm.sales.choices import DocumentKind, Stage
from autocrm.sales.tests.factories import upload

from .factories import actor_for, make_customer, member

pytestmark = pytest.mark.django_db


def ledger_sum(m):
    return sum(PointsEntry.objects.filter(membership=m).values_list("points", flat=True))


def _deal(points: int, price: str = "200000"):
    """A consultant's deal for their own customer holding ``points``, at ``price``, stages skippable."""
    consultant = actor_for("sales_a1", "a")
    customer = make_customer(consultant)
    m = member(points=points, customer=customer)
    deal = sales.deal_create(actor=consultant, data={"model_interest": "汉 EV"}, customer=customer)
    sales.deal_update(actor=consultant, deal=deal, data={"agreed_price": price})
    sales.settings_update(actor=actor_for("manager_a", "a"),
                          data={"skippable_stages": ["contact", "visit", "test_drive", "quote"]})  # fmt: skip
    upload(consultant, deal, DocumentKind.CONTRACT)
    return consultant, m, deal


def test_points_on_a_deal_within_the_cap_taken_at_the_order_given_back_once(demo):
    consultant, m, deal = _deal(300_000)  # ¥3,000 of points; the cap: 5 % of ¥200,000 but at most ¥5,000
    with pytest.raises(ValidationError) as exc:
        sales.deal_points_apply(actor=consultant, deal=deal, points=600_000)  # ¥6,000 > the cap
    assert "points" in exc.value.fields
    with pytest.raises(Conflict) as exc:
        sales.deal_points_apply(actor=consultant, deal=deal, points=400_000)  # within the cap, over the balance
    assert exc.value.extra["available"] == 300_000
    sales.deal_points_apply(actor=consultant, deal=deal, points=200_000)
    lines, price, due = sales.deal_lines(deal)
    assert [(x.code, x.amount) for x in lines] == [("points:200000", Decimal("2000.00"))]
    assert price == Decimal("200000.00") and due == Decimal("198000.00")
    m.refresh_from_db()
    assert m.points_balance == 300_000  # chosen, not taken yet
    deal = sales.deal_advance(actor=consultant, deal=deal, to_stage=Stage.ORDER)  # the moment of commitment
    m.refresh_from_db()
    assert m.points_balance == 100_000 == ledger_sum(m)
    taken = PointsEntry.objects.get(membership=m, source="deal")
    assert taken.points == -200_000 and taken.source_ref == f"sales.deal:{deal.pk}"
    with pytest.raises(Conflict):  # after the order the points are fixed
        sales.deal_points_apply(actor=consultant, deal=deal, points=1000)
    sales.deal_advance(actor=consultant, deal=deal, to_stage=Stage.FINANCE)  # later moves take nothing more
    assert PointsEntry.objects.filter(membership=m, source="deal").count() == 1
    with pytest.raises(ValidationError):
        sales.deal_cancel(actor=consultant, deal=deal, reason="")  # a reason is needed
    sales.deal_cancel(actor=consultant, deal=deal, reason="客户放弃")
    with pytest.raises(Conflict):
        sales.deal_cancel(actor=consultant, deal=deal, reason="again")
    services.deal_cancelled(sales.deal_settlement(deal, consultant))  # the hook again: nothing more
    m.refresh_from_db()
    assert m.points_balance == 300_000 == ledger_sum(m)
    assert sorted(PointsEntry.objects.filter(membership=m, source="deal").values_list("points", flat=True)) == [
        -200_000, 200_000]  # fmt: skip
    assert DealPoints.objects.get(deal_id=deal.pk).status == "voided"


def test_a_cancelled_deal_before_the_order_takes_nothing_and_zero_takes_points_off(demo):
    consultant, m, deal = _deal(50_000)
    sales.deal_points_apply(actor=consultant, deal=deal, points=50_000)
    sales.deal_points_apply(actor=consultant, deal=deal, points=0)
    assert sales.deal_lines(deal)[0] == ()
    sales.deal_points_apply(actor=consultant, deal=deal, points=10_000)
    sales.deal_cancel(actor=consultant, deal=deal, reason="买了别家")
    m.refresh_from_db()
    assert m.points_balance == 50_000 and not PointsEntry.objects.filter(membership=m, source="deal").exists()


def test_deal_points_scope_and_roles(demo):
    _consultant, _m, deal = _deal(10_000)
    for username, store in (("sales_a2", "a"), ("sales_b1", "b")):  # another consultant's, another store's deal
        other = actor_for(username, store)
        with pytest.raises((NotFound, PermissionDenied)):
            sales.deal_points_apply(actor=other, deal=deal, points=100)
    with pytest.raises(PermissionDenied):  # a desk without the right to put points on deals
        services.deal_points_set(actor_for("agent_a1", "a"), sales.deal_context(deal), 100)
    assert not DealPoints.objects.filter(deal_id=deal.pk).exists()


def test_deal_points_by_api(demo):
    _consultant, _m, deal = _deal(20_000)
    api = Client()
    r = api.post(f"/api/v1/deals/{deal.pk}/points", {"points": 20_000}, content_type="application/json",
                 **bearer("sales_a1"))  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["lines"][0]["code"] == "points:20000" and r.json()["total_due"] == "199800.00"
    r = api.post(f"/api/v1/deals/{deal.pk}/points", {"points": 20_001}, content_type="application/json",
                 **bearer("sales_a1"))  # fmt: skip
    assert r.status_code == 409 and "points" in r.json()["fields"]
    r = api.post(f"/api/v1/deals/{deal.pk}/cancel", {"reason": "x"}, content_type="application/json",
                 **bearer("sales_a1"))  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "lost"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_the_same_points_on_two_deals_placed_at_once_one_wins(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    consultant, m, first = _deal(100_000)
    second = sales.deal_create(actor=consultant, data={"model_interest": "唐"}, customer=m.customer)
    sales.deal_update(actor=consultant, deal=second, data={"agreed_price": "200000"})
    upload(consultant, second, DocumentKind.CONTRACT)
    for deal in (first, second):
        sales.deal_points_apply(actor=consultant, deal=deal, points=100_000)
    barrier, results = threading.Barrier(2), {}

    def run(deal):
        try:
            barrier.wait()
            sales.deal_advance(actor=actor_for("sales_a1", "a"), deal=deal, to_stage=Stage.ORDER)
            results[deal.pk] = 200
        except Conflict:
            results[deal.pk] = 409
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    m.refresh_from_db()
    assert m.points_balance == 0 == ledger_sum(m)
    assert PointsEntry.objects.filter(membership=m, source="deal").count() == 1


# --- gifts -------------------------------------------------------------------------------------


def test_gift_catalogue_redeem_and_cancel(demo):
    manager, advisor = actor_for("manager_a", "a"), actor_for("advisor_a1", "a")
    with pytest.raises(PermissionDenied):
        services.gift_save(actor=advisor, data={"name": "车载香薰", "points": 100, "stock": 1})
    with pytest.raises(ValidationError) as exc:
        services.gift_save(actor=manager, data={"name": "", "points": 0, "stock": -1})
    assert {"name", "points", "stock"} <= set(exc.value.fields)
    gift = services.gift_save(actor=manager, data={"name": "车载香薰", "points": 100, "stock": 1})
    m = member(points=150)
    r = services.gift_redeem(actor=advisor, data={"gift": gift.pk, "customer": m.customer_id}, idempotency_key="g-1")
    assert r.created
    again = services.gift_redeem(actor=advisor, data={"gift": gift.pk, "customer": m.customer_id},
                                 idempotency_key="g-1")  # fmt: skip
    assert not again.created and again.redemption.pk == r.redemption.pk
    gift.refresh_from_db()
    m.refresh_from_db()
    assert gift.stock == 0 and m.points_balance == 50 == ledger_sum(m)
    with pytest.raises(Conflict) as exc:  # none left
        services.gift_redeem(actor=advisor, data={"gift": gift.pk, "customer": m.customer_id})
    assert "gift" in exc.value.fields
    services.gift_save(actor=manager, gift=gift, data={"stock": 5})
    with pytest.raises(Conflict) as exc:  # short of points: the stock stays
        services.gift_redeem(actor=advisor, data={"gift": gift.pk, "customer": m.customer_id})
    assert "points" in exc.value.fields
    gift.refresh_from_db()
    assert gift.stock == 5
    services.gift_redemption_cancel(actor=advisor, redemption=r.redemption)
    with pytest.raises(Conflict):
        services.gift_redemption_cancel(actor=advisor, redemption=r.redemption)
    gift.refresh_from_db()
    m.refresh_from_db()
    assert gift.stock == 6 and m.points_balance == 150 == ledger_sum(m)
    rows = list(PointsEntry.objects.filter(membership=m, source="gift_redeem").values_list("points", "source_ref"))
    assert sorted(rows) == [(-100, f"loyalty.gift_redemption:{r.redemption.pk}"),
                            (100, f"loyalty.gift_redemption:{r.redemption.pk}")]  # fmt: skip


def test_gifts_are_the_stores(demo):
    gift = services.gift_save(actor=actor_for("manager_a", "a"), data={"name": "雨伞", "points": 10, "stock": 3})
    other = member("b", points=100)
    with pytest.raises(ValidationError):  # store b's desk does not see store a's gift
        services.gift_redeem(actor=actor_for("advisor_b1", "b"), data={"gift": gift.pk, "customer": other.customer_id})
    api = Client()
    listed = api.get("/api/v1/gifts", **bearer("advisor_b1")).json()["items"]
    assert gift.pk not in [g["id"] for g in listed]


def test_gifts_by_api(demo):
    api = Client()
    r = api.post("/api/v1/gifts", {"name": "洗车券", "points": 30, "stock": 2}, content_type="application/json",
                 **bearer("manager_a"))  # fmt: skip
    assert r.status_code == 201, r.content
    gift = r.json()["id"]
    m = member(points=40)
    body = {"gift": gift, "customer": m.customer_id}
    r = api.post("/api/v1/gift-redemptions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1",
                 **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 201 and r.json()["points"] == 30
    again = api.post("/api/v1/gift-redemptions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1",
                     **bearer("advisor_a1"))  # fmt: skip
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    short = api.post("/api/v1/gift-redemptions", body, content_type="application/json", **bearer("advisor_a1"))
    assert short.status_code == 409 and "points" in short.json()["fields"]
    back = api.post(f"/api/v1/gift-redemptions/{r.json()['id']}/cancel", {}, content_type="application/json",
                    **bearer("advisor_a1"))  # fmt: skip
    assert back.status_code == 200 and back.json()["status"] == "cancelled"
    assert Membership.objects.get(pk=m.pk).points_balance == 40
    assert GiftRedemption.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_the_last_gift_redeemed_at_once_by_two_desks_one_wins(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    gift = services.gift_save(actor=actor_for("manager_a", "a"), data={"name": "保温杯", "points": 10, "stock": 1})
    members = [member(points=50), member(points=50)]
    barrier, results = threading.Barrier(2), {}

    def run(m):
        try:
            barrier.wait()
            services.gift_redeem(actor=actor_for("advisor_a1", "a"), data={"gift": gift.pk, "customer": m.customer_id})
            results[m.pk] = 200
        except Conflict:
            results[m.pk] = 409
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    assert Gift.objects.get(pk=gift.pk).stock == 0
    assert sorted(Membership.objects.filter(pk__in=[m.pk for m in members]).values_list("points_balance",
                                                                                        flat=True)) == [40, 50]  # fmt: skip


def test_demo_gift_catalogue_and_a_deal_with_points(demo):
    from autocrm.demo.loyalty import demo_gifts_and_deal_points
    from autocrm.tenancy.models import Store

    consultant, m, deal = _deal(0)
    sales.deal_advance(actor=consultant, deal=deal, to_stage=Stage.VISIT)
    demo_gifts_and_deal_points(Store.objects.get(code="a"))
    assert Gift.objects.filter(store__code="a").count() == 4
    row = DealPoints.objects.get(deal_id=deal.pk)
    assert row.points == 20_000 and sales.deal_lines(deal)[2] == Decimal("199800.00")  # ¥200 of points
    m.refresh_from_db()
    assert m.points_balance == ledger_sum(m)
