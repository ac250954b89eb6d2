"""Sales KPIs (sales.kpis) on a hand-checked March: seven leads built through the lead and sales
services with a controlled clock, every figure worked out by hand in the comments; the gross
profit hidden from roles without cost access (page and API); scope (own / store / group);
query counts of the page; bad parameters → 400 naming them."""

from __future__ import annotations

import datetime as dt

import django.utils.timezone
import pytest
from django.test import Client
from django.utils import timezone

from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.leads import services as leads
from autocrm.sales import kpis, services
from autocrm.sales.choices import DocumentKind, Stage

from .factories import LICENCE, make_stock, upload

MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour, minute))


class Clock:
    def __init__(self) -> None:
        self.now = at(1, 9)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(django.utils.timezone, "now", c)
    return c


def _lead(manager, consultant, *, mobile, source, when, clock):
    clock.now = when
    return leads.lead_create(actor=manager, data={"name": "客户", "mobile": mobile, "source_channel": source},
                             consultant_id=consultant.user_id, now=when).lead  # fmt: skip


def _touch(actor, lead, kind, when, clock, next_at=None):
    clock.now = when
    lead.refresh_from_db()
    leads.lead_activity_log(actor=actor, lead=lead, kind=kind, outcome="reached", now=when, next_action_at=next_at)


def _sell(actor, manager, lead, *, clock, visit, deliver, cost, discount, insurance, drive=False, finance=None,
          price="200000"):  # fmt: skip
    """Visit → (test drive) → quote → order → (finance) → delivery, each at its time."""
    _touch(actor, lead, "visit", visit, clock)
    car = make_stock(manager, cost=cost, list_price=price)
    demo_car = make_stock(manager, status="demo") if drive else None
    lead.refresh_from_db()
    deal = services.deal_create(actor=actor, data={"model_interest": "汉 EV"}, lead=lead, stock_vehicle=car)
    deal = services.deal_advance(actor=actor, deal=deal, to_stage=Stage.VISIT)
    if drive:
        upload(actor, deal, DocumentKind.TEST_DRIVE_AGREEMENT)
        services.test_drive_book(actor=actor, deal=deal, vehicle=demo_car, data={
            "starts_at": visit + dt.timedelta(minutes=30), "ends_at": visit + dt.timedelta(minutes=70),
            "licence_number": LICENCE})  # fmt: skip
        deal = services.deal_advance(actor=actor, deal=deal, to_stage=Stage.TEST_DRIVE)
    services.quote_create(actor=actor, deal=deal, data={"vehicle_price": price, "discount": discount,
                                                        "insurance": insurance})  # fmt: skip
    deal = services.deal_advance(actor=actor, deal=deal, to_stage=Stage.QUOTE)
    upload(actor, deal, DocumentKind.CONTRACT)
    deal = services.deal_advance(actor=actor, deal=deal, to_stage=Stage.ORDER)
    if finance is not None:
        deal = services.deal_advance(actor=actor, deal=deal, to_stage=Stage.FINANCE)
        services.deal_finance_approve(actor=finance, deal=deal, insurer="中国人保")
    upload(actor, deal, DocumentKind.CONDITION_SHEET)
    upload(actor, deal, DocumentKind.PDI)
    clock.now = deliver
    return services.deal_advance(actor=actor, deal=deal, to_stage=Stage.DELIVERY)


@pytest.fixture
def march(demo, clock):
    """Store a, opening 08:30-18:00 (the first contact is due 30 business minutes after arrival).

    A = sales_a1, B = sales_a2:
      L1 A autohome  3-02 10:00, call 10:10 (10 min, on time), visit 3-03, test drive, quote
         200,000 − 2,000 (insurance 6,800), order, finance approved, delivered 3-20 10:00 on a car
         costing 185,000: GP 13,000, cycle 18 days.
      L2 A dongchedi 3-02 10:00, call 10:40 (40 min, late), visit 3-04, quote 200,000 − 1,000 with
         no insurance, cash (finance skipped), delivered 3-25 10:00, cost 190,000: GP 9,000, 23 days.
      L3 A autohome  3-02 11:00, call 11:20 (20 min), never visits.
      L4 B walk_in   3-02 11:00, met in the showroom 11:00 (0 min); lost (price), approved 3-05.
      L5 B autohome  3-02 12:00, never contacted.
      L6 B yiche     2-10 (February: outside the period).
      L7 A referral  3-21 10:00, L1's customer again (by mobile), call 10:05, visit 3-22, quote
         160,000 − 1,000 with insurance, cash, delivered 3-28 10:00, cost 150,000: GP 9,000, 7 days.
    """
    m, a, b = actor_for("sales_manager_a"), actor_for("sales_a1"), actor_for("sales_a2")
    fin = actor_for("finance_a1")
    l1 = _lead(m, a, mobile="13911110001", source="autohome", when=at(2, 10), clock=clock)
    l2 = _lead(m, a, mobile="13911110002", source="dongchedi", when=at(2, 10), clock=clock)
    l3 = _lead(m, a, mobile="13911110003", source="autohome", when=at(2, 11), clock=clock)
    l4 = _lead(m, b, mobile="13911110004", source="walk_in", when=at(2, 11), clock=clock)
    _lead(m, b, mobile="13911110005", source="autohome", when=at(2, 12), clock=clock)
    _lead(m, b, mobile="13911110006", source="yiche", when=at(10, 10, month=2), clock=clock)
    _touch(a, l1, "call", at(2, 10, 10), clock, next_at=at(3, 12))  # kept: visited 3-03 10:00
    _touch(a, l2, "call", at(2, 10, 40), clock, next_at=at(2, 18))  # missed: next touch 3-04, after a day's grace
    _touch(a, l3, "call", at(2, 11, 20), clock, next_at=at(5, 10))  # missed: never touched again
    _touch(b, l4, "visit", at(2, 11), clock, next_at=at(5, 10))  # kept: closed (lost) 3-05 09:00
    clock.now = at(4, 15)
    l4.refresh_from_db()
    request = leads.lost_request_create(actor=b, lead=l4, reason="price")
    leads.lost_request_approve(actor=m, request=request, now=at(5, 9))
    _sell(a, m, l1, clock=clock, visit=at(3, 10), deliver=at(20, 10), cost="185000", discount="2000",
          insurance="6800", drive=True, finance=fin)  # fmt: skip
    _sell(a, m, l2, clock=clock, visit=at(4, 10), deliver=at(25, 10), cost="190000", discount="1000", insurance="0")
    l7 = _lead(m, a, mobile="13911110001", source="referral", when=at(21, 10), clock=clock)
    assert l7.customer_id is not None and l7.pk != l1.pk
    _touch(a, l7, "call", at(21, 10, 5), clock)
    _sell(a, m, l7, clock=clock, visit=at(22, 10), deliver=at(28, 10), cost="150000", discount="1000",
          insurance="6800", price="160000")  # fmt: skip
    clock.now = at(31, 12)
    return {"a": a, "b": b, "m": m}


def _kpis(actor, **params):
    query = {**MARCH, **params}
    period = kpis.period_parse(query.pop("period"), start=query.pop("start"), end=query.pop("end"))
    return kpis.sales_kpis(actor=actor, period=period, **query)


def test_store_figures_by_hand(march):
    r = _kpis(march["m"])
    t = r["totals"]
    assert t["leads"] == 6  # L1–L5, L7 (L6 arrived in February)
    assert t["first_response_median_minutes"] == 10.0  # of 0, 5, 10, 20, 40
    assert t["first_response_p90_minutes"] == 40.0
    assert t["first_response_on_time_rate"] == 0.8  # L1, L3, L4, L7 of 5 contacted
    assert t["visits"] == 4 and t["lead_to_visit_rate"] == 0.6667  # L1, L2, L4, L7
    assert t["test_drive_rate"] == 0.25  # L1 of 4 visitors
    assert t["visit_to_order_rate"] == 0.75  # L1, L2, L7
    assert t["lead_to_deal_rate"] == 0.5 and t["deliveries"] == 3
    assert t["finance_penetration"] == 0.3333  # L1
    assert t["insurance_penetration"] == 0.6667  # L1 (insurer, quote), L7 (quote)
    assert t["gross_profit_per_vehicle"] == "10333.33"  # (13,000 + 9,000 + 9,000) / 3
    assert t["deal_cycle_median_days"] == 18.0  # of 7, 18, 23
    assert t["repurchase_customers"] == 2 and t["repurchase_rate"] == 0.5  # L1/L7's customer bought twice
    assert {s["source"]: s["count"] for s in r["by_source"]} == {"autohome": 3, "dongchedi": 1, "walk_in": 1,
                                                                  "referral": 1}  # fmt: skip
    assert [(x["reason"], x["count"]) for x in r["lost_reasons"]] == [("price", 1)]  # L4, decided 3-05
    assert [f["count"] for f in r["funnel"]] == [6, 4, 1, 3, 3]
    rows = {c["id"]: c for c in r["consultants"]}
    a, b = rows[march["a"].user_id], rows[march["b"].user_id]
    assert (a["leads"], a["won"], a["deliveries"]) == (4, 3, 3)
    assert (b["leads"], b["won"], b["deliveries"]) == (2, 0, 0)
    assert a["radar"]["conversion"] == 100 and b["radar"]["conversion"] == 0  # 75 % and 0 % (full marks at 10 %)
    assert a["radar"]["response_speed"] == 75  # L1, L3, L7 on time of 4
    assert b["radar"]["response_speed"] == 100  # L4
    assert a["radar"]["follow_up"] == 33 and b["radar"]["follow_up"] == 100  # 1 of 3 kept; 1 of 1
    assert a["radar"]["gross_profit"] == 100 and a["radar"]["satisfaction"] is None
    assert r["stores"] == []  # a store-wide actor gets no per-store breakdown


def test_consultant_sees_own_only_and_no_gross_profit(march):
    r = _kpis(march["a"])
    t = r["totals"]
    assert t["leads"] == 4 and t["deliveries"] == 3 and r["cost_visible"] is False
    assert "gross_profit_per_vehicle" not in t
    assert [c["id"] for c in r["consultants"]] == [march["a"].user_id]
    assert r["consultants"][0]["radar"]["gross_profit"] is None
    assert _kpis(march["b"])["totals"]["leads"] == 2


def test_director_sees_the_group_per_store_and_narrows_to_one(march):
    director = actor_for("director")
    r = _kpis(director)
    assert r["scope"] == "organization" and r["totals"]["leads"] == 6
    assert r["totals"]["gross_profit_per_vehicle"] == "10333.33"
    assert [s["leads"] for s in r["stores"]] == [6]
    other = next(pk for pk in director.organization_store_ids if pk != march["m"].store_id)
    assert _kpis(director, store=other)["totals"]["leads"] == 0
    with pytest.raises(ValidationError) as exc:
        _kpis(march["m"], store=other)  # a store manager may not look at another store
    assert "store" in exc.value.fields


def test_finance_sees_deal_figures_without_leads_or_cost(march):
    r = _kpis(actor_for("finance_a1"))
    assert r["totals"]["deliveries"] == 3 and r["totals"]["leads"] == 0
    assert r["totals"]["finance_penetration"] == 0.3333 and "gross_profit_per_vehicle" not in r["totals"]


def test_other_roles_and_bad_periods_are_refused(march):
    with pytest.raises(PermissionDenied):
        _kpis(actor_for("advisor_a1"))
    for bad, name in (({"period": "yesterday"}, "period"), ({"start": "3月1日"}, "start"),
                      ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
                      ({"start": "2020-01-01", "end": "2026-03-01"}, "end")):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            _kpis(march["m"], **bad)
        assert name in exc.value.fields
    with pytest.raises(ValidationError):
        _kpis(march["m"], consultant="x")


def test_named_periods(clock):
    clock.now = at(15, 12)
    p = kpis.period_parse("last_month")
    assert (p.start, p.end) == (at(1, 0, month=2), at(1, 0))
    p = kpis.period_parse("this_month")
    assert (p.start, p.end) == (at(1, 0), at(16, 0))
    assert kpis.period_parse("this_year").start == timezone.make_aware(dt.datetime(2026, 1, 1))
    assert kpis.period_parse("last_90_days").start == at(16, 0) - dt.timedelta(days=90)


def test_api_answers_in_scope_and_hides_gross_profit(march):
    api = Client()
    r = api.get("/api/v1/sales-kpis", MARCH, **bearer("sales_manager_a"))
    assert r.status_code == 200, r.content
    assert r.json()["totals"]["gross_profit_per_vehicle"] == "10333.33"
    r = api.get("/api/v1/sales-kpis", MARCH, **bearer("sales_a1"))
    assert r.status_code == 200 and "gross_profit" not in r.content.decode().replace('"gross_profit": null', "")
    assert r.json()["totals"]["leads"] == 4
    r = api.get("/api/v1/sales-kpis", {"period": "nope"}, **bearer("sales_manager_a"))
    assert r.status_code == 400 and "period" in r.json()["fields"]
    assert api.get("/api/v1/sales-kpis", MARCH, **bearer("advisor_a1")).status_code == 403


def _login(username):
    c = Client()
    assert c.login(username=username, password="autocrm-demo")
    return c


def test_page_shows_cards_and_hides_gross_profit_from_consultants(march, django_assert_max_num_queries):
    manager = _login("sales_manager_a")
    with django_assert_max_num_queries(40):
        r = manager.get("/sales/kpis/", MARCH)
    body = r.content.decode()
    assert r.status_code == 200 and 'data-kpi="gross_profit_per_vehicle"' in body and "¥10333.33" in body
    assert "echarts.min.js" in body and "cdn" not in body.lower()
    consultant = _login("sales_a1")
    body = consultant.get("/sales/kpis/", MARCH).content.decode()
    assert 'data-kpi="gross_profit_per_vehicle"' not in body and "10333" not in body and "13000" not in body
    data = consultant.get("/sales/kpis/data/", MARCH).json()
    assert "gross_profit_per_vehicle" not in data["totals"] and data["totals"]["leads"] == 4
    assert consultant.get("/sales/kpis/data/", {"period": "x"}).status_code == 400
    assert consultant.get("/sales/kpis/", {"period": "x"}).status_code == 400
    assert _login("advisor_a1").get("/sales/kpis/").status_code == 403


def test_page_queries_do_not_grow_with_the_data(march, clock, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager = _login("sales_manager_a")
    manager.get("/sales/kpis/data/", MARCH)
    with CaptureQueriesContext(connection) as before:
        manager.get("/sales/kpis/data/", MARCH)
    m = march["m"]
    for n in range(5):
        _lead(m, march["b"], mobile=f"1391111020{n}", source="phone", when=at(6, 10 + n), clock=clock)
    with CaptureQueriesContext(connection) as after:
        manager.get("/sales/kpis/data/", MARCH)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_navigation_entry_for_the_kpi_roles(march):
    from autocrm.core.navigation import menu_for

    for username in ("sales_a1", "sales_manager_a", "manager_a", "finance_a1", "director"):
        assert "sales_kpis" in {i["key"] for i in menu_for(actor_for(username))}, username
    assert "sales_kpis" not in {i["key"] for i in menu_for(actor_for("advisor_a1"))}


def test_todays_funnel_on_the_managers_home(demo):
    m, a = actor_for("sales_manager_a"), actor_for("sales_a1")
    now = timezone.now()
    lead = leads.lead_create(actor=m, data={"name": "今", "mobile": "13911113333"}, consultant_id=a.user_id).lead
    leads.lead_activity_log(actor=a, lead=lead, kind="call", outcome="reached")
    lead.refresh_from_db()
    leads.lead_activity_log(actor=a, lead=lead, kind="visit", outcome="reached")
    funnel = kpis.today_funnel(actor=m, now=now)
    assert funnel == {"new": 1, "contacted": 1, "visits": 1, "test_drives": 0, "orders": 0, "deliveries": 0}
    assert kpis.today_funnel(actor=a) is None  # a consultant's home has their to-do list instead
    body = _login("sales_manager_a").get("/").content.decode()
    assert 'id="panel-sales-funnel"' in body and 'data-step="visits">1<' in body
    assert 'id="panel-sales-funnel"' not in _login("sales_a1").get("/").content.decode()
