"""GET /api/v1/voc and /voc/ try to break scope: another store's texts never count, an advisor
sees only the texts about themselves, a director the group or one store, a role without the
right gets 403; the figures themselves on a hand-made set."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.customers.tests.test_api import bearer
from autocrm.tenancy.models import Store
from autocrm.voc import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def texts(demo):
    a, b = Store.objects.get(code="a"), Store.objects.get(code="b")
    adv_a, adv_b = User.objects.get(username="advisor_a1"), User.objects.get(username="advisor_b1")
    sales_a = User.objects.get(username="sales_a1")
    now = timezone.now()
    before = now - dt.timedelta(days=40)
    rows = [
        (a, adv_a, "等了三个小时，太慢了", now), (a, adv_a, "等太久了", now), (a, adv_a, "又等了两个小时", now),
        (a, adv_a, "服务顾问很专业", now), (a, sales_a, "顾问态度很差", now), (a, None, "价格透明", now),
        (a, adv_a, "服务很好", before),
        (b, adv_b, "洗车很干净", now), (b, adv_b, "洗车洗得真干净", now), (b, adv_b, "配件缺货", now),
    ]  # fmt: skip
    for i, (store, staff, text, at) in enumerate(rows):
        services.record_text(store_id=store.pk, customer_id=None, source="survey", source_id=i, text=text,
                             staff_id=staff.pk if staff else None, at=at)  # fmt: skip
    return {"a": a, "b": b, "adv_a": adv_a, "adv_b": adv_b}


def _get(username, **params):
    return Client().get("/api/v1/voc", params, **bearer(username))


def test_store_manager_sees_only_their_store(texts):
    d = _get("manager_a", period="last_90_days").json()
    assert d["totals"]["texts"] == 7 and d["scope"] == "store"
    assert all(p["code"] not in ("wash+", "parts-") for p in d["top_positive"] + d["top_negative"])
    assert {p["code"] for p in d["top_negative"]} >= {"wait-"}
    b = _get("manager_b", period="last_90_days").json()
    assert b["totals"]["texts"] == 3 and {p["code"] for p in b["top_positive"]} == {"wash+"}
    # naming the other store is refused, not answered with its figures
    r = _get("manager_b", store=texts["a"].pk)
    assert r.status_code == 400 and "store" in r.json()["fields"]
    # a staff id of the other store gives nothing of theirs
    assert _get("manager_b", staff=texts["adv_a"].pk).json()["totals"]["texts"] == 0


def test_rising_phrases_and_staff_rows(texts):
    d = _get("manager_a").json()
    assert d["totals"]["texts"] == 6
    rising = {r["code"]: r for r in d["rising"]}
    assert rising["wait-"]["count"] == 3 and rising["wait-"]["previous"] == 0
    staff = {r["id"]: r for r in d["staff"]}
    assert staff[texts["adv_a"].pk]["texts"] == 4 and staff[texts["adv_a"].pk]["negative"] == 3
    assert staff[texts["adv_a"].pk]["top_negative"][0]["code"] == "wait-"


def test_advisor_sees_only_texts_about_themselves(texts):
    d = _get("advisor_a1", period="last_90_days").json()
    assert d["scope"] == "own" and d["totals"]["texts"] == 5
    assert [r["id"] for r in d["staff"]] == [texts["adv_a"].pk]
    # asking for a colleague gives nothing
    sales = User.objects.get(username="sales_a1")
    assert _get("advisor_a1", staff=sales.pk).json()["totals"]["texts"] == 0


def test_director_sees_the_group_and_one_store(texts):
    d = _get("director", period="last_90_days").json()
    assert d["totals"]["texts"] == 10 and len(d["stores"]) == 2
    one = _get("director", period="last_90_days", store=texts["b"].pk).json()
    assert one["totals"]["texts"] == 3 and one["stores"] == []


@pytest.mark.parametrize("username", ["tech_a1", "finance_a1", "marketing_a1"])
def test_roles_without_the_right_get_403(texts, username):
    assert _get(username).status_code == 403


def test_bad_period_and_ids_are_400(texts):
    assert _get("manager_a", period="forever").status_code == 400
    assert _get("manager_a", staff="x").status_code == 400
    assert _get("manager_a", period="custom", start="2026-01-10", end="2026-01-01").status_code == 400


def test_page_renders_on_a_phone_width_with_charts(texts):
    c = Client()
    c.force_login(User.objects.get(username="manager_a"))
    r = c.get("/voc/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="voc-charts"' in html and "echarts" in html and 'data-testid="voc-staff"' in html
    data = c.get("/voc/data/?period=last_90_days")
    assert data.status_code == 200 and data.json()["totals"]["texts"] == 7
    assert c.get("/voc/?period=forever").status_code == 400


def test_summary_queries_do_not_grow_with_the_texts(texts, django_assert_max_num_queries):
    from autocrm.accounts.selectors import actor_build
    from autocrm.core.periods import period_parse
    from autocrm.voc import selectors

    manager = actor_build(user=User.objects.get(username="manager_a"), store_id=texts["a"].pk)
    period = period_parse("last_90_days")
    with django_assert_max_num_queries(8):
        few = selectors.voc_summary(actor=manager, period=period)
    now = timezone.now()
    for i in range(30):
        services.record_text(store_id=texts["a"].pk, customer_id=None, source="call", source_id=f"more-{i}",
                             text="配件一直缺货" if i % 2 else "洗车很干净", staff_id=texts["adv_a"].pk, at=now)  # fmt: skip
    with django_assert_max_num_queries(8):
        many = selectors.voc_summary(actor=manager, period=period)
    assert many["totals"]["texts"] == few["totals"]["texts"] + 30
