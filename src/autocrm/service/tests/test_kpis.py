"""Service KPIs (service.kpis, ADR 0026) on a hand-checked March 2026 in store a: four repair
orders delivered (one a comeback), one still in the shop, an old one outside the period, and
five cars' visit histories for retention; every figure worked out by hand in the comments. Gross
profit and absorption hidden from roles without cost access (page and API); scope (own / store /
group); bounded queries; bad parameters → 400 naming them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.parts.models import Part
from autocrm.service import kpis
from autocrm.service.choices import Approval, RoStatus
from autocrm.service.models import Bill, Job, PartLine, RepairOrder, ServiceCosts
from autocrm.service.services_kpis import service_costs_set

from .factories import make_car

MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}
NOW = timezone.make_aware(dt.datetime(2026, 5, 1, 12))
A, D = Approval.APPROVED, Approval.DECLINED


def at(y: int, m: int, d: int, h: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, h))


def _ro(store_id, advisor, car, received, closed=None, *, jobs=(), parts=(), bill=None, comeback=False):
    customer, vehicle = car
    ro = RepairOrder.objects.create(
        store_id=store_id, customer=customer, vehicle=vehicle, advisor_id=advisor, received_at=received,
        status=RoStatus.DELIVERED if closed else RoStatus.IN_REPAIR, closed_at=closed, is_comeback=comeback,
    )  # fmt: skip
    for code, hours, approval, is_comeback in jobs:
        Job.objects.create(store_id=store_id, repair_order=ro, code=code, name=code, hours=Decimal(hours),
                           rate=Decimal("200"), approval=approval, is_comeback=is_comeback)  # fmt: skip
    for part, qty, price, approval in parts:
        PartLine.objects.create(store_id=store_id, repair_order=ro, part=part, name=part.name, quantity=Decimal(qty),
                                unit_price=Decimal(price), approval=approval)  # fmt: skip
    if bill:
        total, tax = (Decimal(x) for x in bill)
        Bill.objects.create(store_id=store_id, repair_order=ro, labour_total=total, parts_total=0, total=total,
                            tax_rate=Decimal("0.13"), tax=tax)  # fmt: skip
    return ro


@pytest.fixture
def march(demo):
    adv, sm = actor_for("advisor_a1"), actor_for("service_manager_a")
    a1, a2, s = adv.user_id, sm.user_id, adv.store_id
    oil = Part.objects.create(store_id=s, part_number="OIL", name="机油", price=400, cost=250)
    pad = Part.objects.create(store_id=s, part_number="PAD", name="刹车片", price=300, cost=180)
    wiper = Part.objects.create(store_id=s, part_number="WIP", name="雨刮", price=100, cost=60)
    v1, v2, v3, v4 = (make_car(adv) for _ in range(4))
    # R1 (a1): 4 h in the shop; net 600 − 69.02 = 530.98; parts cost 1 × 250; 1 labour hour.
    _ro(
        s,
        a1,
        v1,
        at(2026, 3, 2),
        at(2026, 3, 2, 13),
        jobs=[("OIL", "1.0", A, False)],
        parts=[(oil, "1", "400", A)],
        bill=("600.00", "69.02"),
    )
    # R2 (a1): 24 h; net 884.96; parts 2 × 180 (the wiper declined); 2 approved hours, AC declined.
    _ro(
        s,
        a1,
        v2,
        at(2026, 3, 3),
        at(2026, 3, 4),
        jobs=[("BRK", "2.0", A, False), ("AC", "1.0", D, False)],
        parts=[(pad, "2", "300", A), (wiper, "1", "100", D)],
        bill=("1000.00", "115.04"),
    )
    # R3 (a2): the comeback of R2's brakes, 2 h, free (bill 0); 1 approved hour → R2 not fixed first time.
    _ro(s, a2, v2, at(2026, 3, 10), at(2026, 3, 10, 11), jobs=[("BRK", "1.0", A, True)], bill=("0", "0"), comeback=True)
    # R4 (a2): 8 h; net 300 − 34.50 = 265.50; 1.5 hours.
    _ro(s, a2, v3, at(2026, 3, 20), at(2026, 3, 20, 17), jobs=[("SVC", "1.5", A, False)], bill=("300.00", "34.50"))
    # R5 (a1): still in repair; one job approved, one part still waiting (not answered).
    _ro(s, a1, v4, at(2026, 3, 25), jobs=[("SVC", "1.0", A, False)], parts=[(oil, "1", "400", Approval.PENDING)])
    # R6 (a1): February, outside the period.
    _ro(s, a1, v1, at(2026, 2, 27), at(2026, 2, 28), jobs=[("OIL", "1.0", A, False)], bill=("500", "57.52"))
    # Retention (window 456 days): visits whose deadline falls in March 2026 were closed
    # 2024-12-01 … 2024-12-31.
    w = [make_car(adv) for _ in range(5)]
    _ro(s, a1, w[0], at(2024, 12, 10), at(2024, 12, 10, 12))  # W1 visit 1, due 2026-03-11 …
    _ro(s, a1, w[0], at(2025, 6, 10), at(2025, 6, 10, 12))  # … came back
    _ro(s, a1, w[1], at(2024, 12, 12), at(2024, 12, 12, 12))  # W2 visit 1, …
    _ro(s, a1, w[1], at(2024, 12, 20), at(2024, 12, 20, 12), comeback=True)  # … a comeback is no return
    _ro(s, a1, w[2], at(2023, 6, 1), at(2023, 6, 1, 12))  # W3 visit 1 (due 2024)
    _ro(s, a1, w[2], at(2024, 12, 15), at(2024, 12, 15, 12))  # W3 visit 2, due 2026-03-16, …
    _ro(s, a1, w[2], at(2025, 12, 1), at(2025, 12, 1, 12))  # … came back
    _ro(s, a1, w[3], at(2023, 6, 1), at(2023, 6, 1, 12))  # W4 visit 1
    _ro(s, a1, w[3], at(2024, 12, 20), at(2024, 12, 20, 12))  # W4 visit 2, due 2026-03-21, …
    _ro(s, a1, w[3], at(2026, 4, 20), at(2026, 4, 20, 12))  # … too late (and after the period)
    _ro(s, a1, w[4], at(2024, 12, 25), at(2024, 12, 25, 12))  # W5 visit 1, due 2026-03-26, …
    _ro(s, a1, w[4], at(2025, 12, 20), at(2025, 12, 20, 12))  # … came back
    ServiceCosts.objects.create(store_id=s, monthly_fixed_costs=Decimal("3650"), labour_cost_per_hour=Decimal("50"))
    return {"adv": adv, "sm": sm, "a1": a1, "a2": a2}


def _kpis(actor, **params):
    query = {**MARCH, **params}
    period = kpis.period_parse(query.pop("period"), start=query.pop("start"), end=query.pop("end"))
    return kpis.service_kpis(actor=actor, period=period, now=NOW, **query)


def test_store_figures_by_hand(march):
    r = _kpis(march["sm"])
    t = r["totals"]
    assert r["scope"] == "store" and r["cost_visible"]
    assert t["repair_orders"] == 4 and t["vehicles"] == 3  # R1–R4; R2 and R3 are the same car
    assert t["revenue"] == "1681.44"  # 530.98 + 884.96 + 0 + 265.50
    assert t["revenue_per_ro"] == "420.36"  # ÷ 4
    # GP = 1681.44 − parts (250 + 360) − labour (1 + 2 + 1 + 1.5 = 5.5 h × 50 = 275) = 796.44; ÷ 4
    assert t["gross_profit"] == "796.44" and t["gross_profit_per_ro"] == "199.11"
    assert t["avg_hours_in_shop"] == 9.5  # (4 + 24 + 2 + 8) ÷ 4
    assert t["comeback_rate"] == 0.25  # R3
    assert t["first_time_fix_rate"] == 0.75  # all but R2
    # answered lines of R1–R5: 2 + 4 + 1 + 1 + 1 = 9, approved 2 + 2 + 1 + 1 + 1 = 7
    assert t["estimate_lines_answered"] == 9 and t["estimate_approval_rate"] == 0.7778
    assert t["in_shop"] == 1  # R5
    # fixed costs: 3650 × 31 days × 12 / 365 = 3720.00; 796.44 ÷ 3720 = 0.2141
    assert t["absorption_rate"] == 0.2141
    ret = r["retention"]
    by = {v["visit"]: (v["due"], v["returned"], v["rate"]) for v in ret["by_visit"]}
    assert by[1] == (3, 2, 0.6667)  # W1 back, W2 not (its comeback is no return), W5 back
    assert by[2] == (2, 1, 0.5)  # W3 back, W4 too late
    assert by[3] == (0, 0, None)
    assert (ret["due"], ret["returned"], ret["rate"]) == (5, 3, 0.6) and t["retention_rate"] == 0.6


def test_per_advisor_by_hand(march):
    rows = {r["id"]: r for r in _kpis(march["sm"])["advisors"]}
    a1, a2 = rows[march["a1"]], rows[march["a2"]]
    assert a1["repair_orders"] == 2 and a1["revenue_per_ro"] == "707.97"  # (530.98 + 884.96) ÷ 2
    assert a1["gross_profit_per_ro"] == "327.97"  # (1415.94 − 610 − 3 h × 50) ÷ 2
    assert a1["avg_hours_in_shop"] == 14.0 and a1["first_time_fix_rate"] == 0.5 and a1["comeback_rate"] == 0
    assert a1["estimate_approval_rate"] == 0.7143  # R1 2/2, R2 2/4, R5 1/1 → 5/7
    assert a2["repair_orders"] == 2 and a2["revenue_per_ro"] == "132.75"  # 265.50 ÷ 2
    assert a2["gross_profit_per_ro"] == "70.25"  # (265.50 − 2.5 h × 50) ÷ 2
    assert a2["avg_hours_in_shop"] == 5.0 and a2["comeback_rate"] == 0.5 and a2["first_time_fix_rate"] == 1.0


def test_advisor_sees_own_figures_without_cost(march):
    r = _kpis(march["adv"])
    t = r["totals"]
    assert r["scope"] == "own" and not r["cost_visible"]
    assert t["repair_orders"] == 2 and "gross_profit_per_ro" not in t and "absorption_rate" not in t
    assert [a["id"] for a in r["advisors"]] == [march["a1"]]
    assert _kpis(march["adv"], advisor=march["a2"])["totals"]["repair_orders"] == 2  # still their own
    assert r["retention"]["due"] == 5  # every retention visit was theirs


def test_director_sees_the_group_per_store(march):
    director = actor_for("director")
    r = _kpis(director)
    assert r["scope"] == "organization" and r["totals"]["repair_orders"] == 4
    store_a = next(s for s in r["stores"] if s["id"] == march["adv"].store_id)
    assert store_a["absorption_rate"] == 0.2141 and store_a["retention_rate"] == 0.6
    other = next(pk for pk in director.organization_store_ids if pk != march["adv"].store_id)
    assert _kpis(director, store=other)["totals"]["repair_orders"] == 0
    assert actor_for("manager_b", "b") and _kpis(actor_for("manager_b"))["totals"]["repair_orders"] == 0


def test_roles_without_kpis_and_bad_parameters(march):
    for username in ("tech_a1", "sales_a1", "finance_a1"):
        with pytest.raises(PermissionDenied):
            _kpis(actor_for(username))
    for params, field in (({"store": "x\x00"}, "store"), ({"store": str(2**70)}, "store"),
                          ({"advisor": "-1"}, "advisor"), ({"end": "2026-02-01"}, "end"),
                          ({"start": "nope"}, "start")):  # fmt: skip
        with pytest.raises(ValidationError) as e:
            _kpis(march["sm"], **params)
        assert field in e.value.fields
    other = next(pk for pk in march["sm"].organization_store_ids if pk != march["sm"].store_id)
    with pytest.raises(ValidationError):
        _kpis(march["sm"], store=other)


def _login(username):
    c = Client()
    assert c.login(username=username, password="autocrm-demo")
    return c


def test_api_answers_in_scope_and_hides_cost(march):
    api = Client()
    r = api.get("/api/v1/service-kpis", MARCH, **bearer("service_manager_a"))
    assert r.status_code == 200, r.content
    assert r.json()["totals"]["gross_profit_per_ro"] == "199.11" and r.json()["totals"]["repair_orders"] == 4
    r = api.get("/api/v1/service-kpis", MARCH, **bearer("advisor_a1"))
    assert r.status_code == 200 and "gross_profit" not in r.content.decode() and "absorption" not in r.content.decode()
    r = api.get("/api/v1/service-kpis", {"period": "nope"}, **bearer("service_manager_a"))
    assert r.status_code == 400 and "period" in r.json()["fields"]
    assert api.get("/api/v1/service-kpis", {"store": "\x00"}, **bearer("director")).status_code == 400
    assert api.get("/api/v1/service-kpis", MARCH, **bearer("sales_a1")).status_code == 403


def test_page_shows_cards_and_hides_cost_from_advisors(march, django_assert_max_num_queries):
    manager = _login("service_manager_a")
    with django_assert_max_num_queries(40):
        r = manager.get("/service/kpis/", MARCH)
    body = r.content.decode()
    assert r.status_code == 200 and 'data-kpi="gross_profit_per_ro"' in body and "¥199.11" in body
    assert 'data-kpi="absorption_rate"' in body and "21.4%" in body
    assert "echarts.min.js" in body and "cdn" not in body.lower()
    advisor = _login("advisor_a1")
    body = advisor.get("/service/kpis/", MARCH).content.decode()
    assert 'data-kpi="gross_profit_per_ro"' not in body and "327.97" not in body and "absorption" not in body
    data = advisor.get("/service/kpis/data/", MARCH).json()
    assert "gross_profit_per_ro" not in data["totals"] and data["totals"]["repair_orders"] == 2
    assert advisor.get("/service/kpis/data/", {"period": "x"}).status_code == 400
    assert advisor.get("/service/kpis/", {"period": "x"}).status_code == 400
    assert _login("sales_a1").get("/service/kpis/").status_code == 403


def test_queries_do_not_grow_with_the_data(march):
    manager = _login("director")
    manager.get("/service/kpis/data/", MARCH)
    with CaptureQueriesContext(connection) as before:
        manager.get("/service/kpis/data/", MARCH)
    adv = march["adv"]
    for n in range(5):
        _ro(
            adv.store_id,
            adv.user_id,
            make_car(adv),
            at(2026, 3, 5 + n),
            at(2026, 3, 6 + n),
            jobs=[("OIL", "1.0", A, False)],
            bill=("100", "11.50"),
        )
    with CaptureQueriesContext(connection) as after:
        manager.get("/service/kpis/data/", MARCH)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_cost_basis_is_set_by_the_store_manager(demo):
    manager = actor_for("manager_a")
    costs = service_costs_set(actor=manager, data={"basis": "aftersales", "monthly_fixed_costs": "120000.00",
                                                   "labour_cost_per_hour": "45"})  # fmt: skip
    assert costs.monthly_fixed_costs == Decimal("120000.00") and costs.basis == "aftersales"
    with pytest.raises(ValidationError) as e:
        service_costs_set(actor=manager, data={"monthly_fixed_costs": "1e400", "basis": "x\x00"})
    assert {"monthly_fixed_costs", "basis"} <= set(e.value.fields)
    with pytest.raises(PermissionDenied):
        service_costs_set(actor=actor_for("advisor_a1"), data={"monthly_fixed_costs": "1"})


def test_navigation_entry_and_the_managers_workshop_panel(march):
    from autocrm.core.navigation import menu_for

    for username in ("advisor_a1", "service_manager_a", "manager_a", "director"):
        assert "service_kpis" in {i["key"] for i in menu_for(actor_for(username))}, username
    assert "service_kpis" not in {i["key"] for i in menu_for(actor_for("sales_a1"))}
    sm = march["sm"]
    panel = kpis.today_workshop(actor=sm, now=at(2026, 3, 20, 18))
    assert panel is not None and panel["delivered"] == 1 and panel["revenue_per_ro"] == "265.50"
    assert panel["bays_in_use"] == 1 and panel["gross_profit_per_ro"] == "190.50"  # 265.50 − 1.5 h × 50
    assert kpis.today_workshop(actor=march["adv"]) is None
    body = _login("service_manager_a").get("/").content.decode()
    assert 'id="panel-service-workshop"' in body and 'data-status="in_repair"' in body
    assert 'id="panel-service-workshop"' not in _login("advisor_a1").get("/").content.decode()
