"""Lead scoring (issue 13 item 5): the text signal, the score and its reasons, rescoring on
intake and activities, the text signal's accuracy floor on the labelled set, and hot leads to
the best converters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from autocrm.leads import routing, scoring
from autocrm.leads.models import Lead, LeadSettings
from autocrm.leads.services import lead_activity_log, rules_changed

from .factories import actor_for, make_lead, on_duty, uid

DATA = Path(__file__).parent / "data" / "intent_labelled.jsonl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("汉EV落地价多少？", {"price"}),
        ("落 地 价 多 少", {"price"}),  # typed with spaces
        ("落地價多少？請問有現車嗎", {"price", "stock"}),  # traditional characters
        ("首付多少 月供多少😊", {"loan"}),
        ("什么时候能提车", {"delivery"}),
        ("我的旧车能置换吗", {"trade_in"}),
        ("月共多少", {"loan"}),  # 月共: a homophone typo of 月供, caught by sound
        ("what's the OTD price, can I get a loan?", {"price", "loan"}),
        ("随便看看", {"not_now"}),
        ("还早，明年再说", {"not_now"}),
        ("不需要贷款", set()),  # negated
        ("不用给我报价了", set()),  # negated three words before
        ("保养一次多少钱", {"service", "price"}),
        ("", set()),
        ("\x00\ud800" * 3, set()),
    ],
)
def test_text_signals(text, expected):
    assert set(scoring.text_signals(text)) == expected


def test_negative_lowers_and_positive_raises():
    assert scoring.text_points("随便看看") < 0 < scoring.text_points("落地价多少")
    assert scoring.text_points("落地价多少，有现车吗") > scoring.text_points("落地价多少")


def test_very_long_text_is_cut_not_slow():
    assert "price" in scoring.text_signals("落地价" + "啊" * 100000)


def _labelled():
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r["label"] == "high") for r in rows]


def test_labelled_set_is_large_and_balanced_enough():
    rows = _labelled()
    assert len(rows) >= 300
    assert len({t for t, _y in rows}) == len(rows)
    highs = sum(y for _t, y in rows)
    assert 0.35 < highs / len(rows) < 0.65


# Measured by benchmarks/lead_scoring.py (docs/adr/0015): 0.959 on the whole set, 0.929 on the
# held-out odd half. The floors sit a little below, so a change of the dictionary that costs
# accuracy fails here.
FLOOR_ALL, FLOOR_HELD_OUT = 0.94, 0.90


def test_text_signal_accuracy_stays_above_the_floor():
    rows = _labelled()

    def accuracy(part):
        return sum((scoring.text_points(t) >= scoring.HIGH_INTENT_TEXT) == y for t, y in part) / len(part)

    assert accuracy(rows) >= FLOOR_ALL
    assert accuracy(rows[1::2]) >= FLOOR_HELD_OUT


class _Lead:
    def __init__(self, **kw):
        self.customer_id = kw.get("customer_id")
        self.grade = kw.get("grade", "")
        self.source_channel = kw.get("source_channel", "other")
        self.enquiries = kw.get("enquiries", 1)
        self.mobile_flag = kw.get("mobile_flag", "")
        self.score_signals = kw.get("signals", {})
        self.message = kw.get("message", "")


def test_compute_profile_behaviour_and_text_with_reasons():
    cold, _ = scoring.compute(_Lead())
    assert cold == scoring.BASE
    hot = _Lead(customer_id=1, grade="H", source_channel="walk_in", enquiries=2,
                signals={"customer": {"owner": True, "income": "gt50k"}, "visits": 2, "test_drives": 1,
                         "views": 12, "price_views": 1, "models": {"汉": 5}, "streak": ["汉"],
                         "text": ["price", "loan"]})  # fmt: skip
    score, reasons = scoring.compute(hot)
    assert score == 100  # capped
    codes = {r["code"] for r in reasons}
    assert {"customer", "owner", "income", "grade", "source", "enquiries", "visits", "test_drives", "views",
            "price_views", "repeat_model", "streak", "text_price", "text_loan"} <= codes  # fmt: skip
    assert reasons[-1]["code"] == "base"
    bad, _ = scoring.compute(_Lead(mobile_flag="invalid", signals={"text": ["not_now"]}))
    assert bad == 0  # never below 0


def test_reason_text_is_translated():
    with translation.override("zh-hans"):
        assert scoring.reason_text({"code": "text_price", "points": 15, "args": {}}) == "问了落地价 +15"
        assert scoring.reason_text({"code": "text_not_now", "points": -15, "args": {}}).endswith("−15")
        assert "汽车之家" in scoring.reason_text({"code": "source", "points": 3, "args": {"source": "autohome"}})
    assert scoring.reason_text({"code": "nonsense", "points": 1}) == ""
    assert scoring.reason_text({"code": "grade", "points": 1, "args": {"wrong": 1}})  # bad args: label alone


def test_reason_texts_are_kept_per_language_and_odd_reasons_never_fail():
    """The texts are rendered once per (language, code, points, args) and kept: the same reason
    reads in the language of each request; stored reasons we did not write render or are skipped."""
    reason = {"code": "source", "points": 3, "args": {"source": "autohome"}}
    with translation.override("zh-hans"):
        zh = scoring.reason_text(reason)
    with translation.override("en"):
        en = scoring.reason_text(reason)
        assert scoring.reason_text(reason, language="zh-hans") == zh
    assert "汽车之家" in zh and en != zh and en.endswith("+3")
    with translation.override("zh-hans"):
        assert scoring.reason_text(reason) == zh  # from the cache, still Chinese
        odd = [{"code": "grade", "points": "x", "args": ["H"]}, {"code": "source", "points": 2, "args": {"source": []}},
               "text", None, {"code": "text_price", "points": 15, "args": {"n": {"a": 1}}}]  # fmt: skip
        texts = scoring.reasons_text({"score_reasons": odd}, 8)
        assert texts[0].endswith("+0") and texts[-1] == "问了落地价 +15"
        assert scoring.reasons_text({"score_reasons": "not a list"}) == []


pytestmark = pytest.mark.django_db


def test_intake_scores_the_lead_without_an_extra_query(demo):
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    make_lead(manager, name="预热")  # caches of the store's rules
    with CaptureQueriesContext(connection) as plain:
        make_lead(manager, name="甲")
    with CaptureQueriesContext(connection) as worded:
        lead = make_lead(manager, name="乙", message="落地价多少？有没有现车，首付多少", grade="A")
    assert len(worded) == len(plain)
    lead.refresh_from_db()
    assert lead.score > scoring.BASE and lead.scored_at is not None
    assert {r["code"] for r in lead.score_reasons} >= {"text_price", "text_stock", "text_loan", "grade"}


def test_activities_rescore_visits_test_drives_and_notes(demo):
    on_duty("a", "sales_a1")
    consultant = actor_for("sales_a1", "a")
    lead = make_lead(consultant)
    before = lead.score
    lead_activity_log(actor=consultant, lead=lead, kind="visit", note="客户说随便看看")
    lead.refresh_from_db()
    assert {r["code"] for r in lead.score_reasons} >= {"visits", "text_not_now"}
    lead_activity_log(actor=consultant, lead=lead, kind="test_drive", note="试驾后问了裸车价和月供")
    lead.refresh_from_db()
    codes = {r["code"] for r in lead.score_reasons}
    assert {"visits", "test_drives", "text_price", "text_loan"} <= codes
    assert "text_not_now" not in codes  # a later buying signal replaces "just looking"
    assert lead.score > before and lead.status == "visited"


def test_enquiring_again_counts_and_reads_the_new_message(demo):
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    lead = make_lead(manager, mobile="13766660001")
    make_lead(manager, mobile="13766660001", message="有现车吗，想置换")
    lead.refresh_from_db()
    assert lead.enquiries == 2
    assert {r["code"] for r in lead.score_reasons} >= {"enquiries", "text_stock", "text_trade_in"}


def test_list_sorts_by_score_and_detail_shows_reasons(demo, client):
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    low = make_lead(manager, name="低分", message="随便看看")
    high = make_lead(manager, name="高分", message="落地价多少，什么时候能提车", grade="H")
    client.force_login(low.consultant)
    with translation.override("zh-hans"):
        page = client.get("/leads/?sort=score", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert page.status_code == 200
        body = page.content.decode()
        assert body.index("高分") < body.index("低分")
        detail = client.get(f"/leads/{high.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "问了落地价 +15" in detail
    assert client.get("/leads/?sort=bogus").status_code == 200


# --- hot leads to the best converters -----------------------------------------------------------

HOT = {"grade": "H", "message": "落地价多少？有现车吗，首付多少，什么时候能提车"}


def _history(store, user, n, won, *, days_ago=10):
    arrived = timezone.now() - dt.timedelta(days=days_ago)
    for i in range(n):
        Lead.objects.create(store_id=store, consultant_id=uid(user), mobile=f"1350{uid(user):03d}{i:04d}",
                            arrived_at=arrived, status="won" if i < won else "lost")  # fmt: skip


@pytest.fixture
def store_a(demo):
    from autocrm.tenancy.models import Store

    return Store.objects.get(code="a").pk


def test_hot_lead_goes_to_the_best_recent_converter(store_a):
    on_duty("a", "sales_a1", "sales_a2")
    _history(store_a, "sales_a1", 10, 1)
    _history(store_a, "sales_a2", 10, 6)
    manager = actor_for("sales_manager_a", "a")
    first = make_lead(manager, **HOT)
    second = make_lead(manager, **HOT)
    assert first.score > 80 and first.consultant_id == second.consultant_id == uid("sales_a2")
    cold = [make_lead(manager).consultant_id for _ in range(2)]
    assert uid("sales_a1") in cold  # the round robin goes on for the others


def test_hot_lead_respects_capacity_busy_and_the_threshold(store_a):
    on_duty("a", "sales_a1")
    on_duty("a", "sales_a2", daily_capacity=1)
    _history(store_a, "sales_a1", 10, 1)
    _history(store_a, "sales_a2", 10, 6)
    manager = actor_for("sales_manager_a", "a")
    assert make_lead(manager, **HOT).consultant_id == uid("sales_a2")
    assert make_lead(manager, **HOT).consultant_id == uid("sales_a1")  # a2 is full for today
    on_duty("a", "sales_a2", status="busy", daily_capacity=30)
    rules_changed()
    assert make_lead(manager, **HOT).consultant_id == uid("sales_a1")  # busy is skipped
    on_duty("a", "sales_a2", status="on_duty")
    settings = LeadSettings.objects.get_or_create(store_id=store_a)[0]
    settings.hot_score_threshold = 100
    settings.save()
    rules_changed()
    got = {make_lead(manager, **HOT).consultant_id for _ in range(2)}
    assert got == {uid("sales_a1"), uid("sales_a2")}  # nothing is hot above 100: round robin


def test_too_small_a_sample_or_old_history_falls_back_to_round_robin(store_a):
    on_duty("a", "sales_a1", "sales_a2")
    _history(store_a, "sales_a2", routing.MIN_SAMPLE - 1, routing.MIN_SAMPLE - 1)  # all won, but too few
    _history(store_a, "sales_a1", 20, 20, days_ago=120)  # outside the window
    assert routing.ranking(store_id=store_a, now=timezone.now()) == []
    manager = actor_for("sales_manager_a", "a")
    got = {make_lead(manager, **HOT).consultant_id for _ in range(2)}
    assert got == {uid("sales_a1"), uid("sales_a2")}


def test_ranking_is_best_rate_then_larger_sample(store_a):
    _history(store_a, "sales_a1", 10, 5)
    _history(store_a, "sales_a2", 20, 10)
    assert routing.ranking(store_id=store_a, now=timezone.now()) == [uid("sales_a2"), uid("sales_a1")]


def test_the_threshold_is_a_managers_setting(store_a):
    from autocrm.core.errors import PermissionDenied, ValidationError

    routing.hot_threshold_set(actor=actor_for("sales_manager_a", "a"), value=70)
    assert LeadSettings.objects.get(store_id=store_a).hot_score_threshold == 70
    for bad in (-1, 101, "abc", None, True, 10**30):
        with pytest.raises(ValidationError):
            routing.hot_threshold_set(actor=actor_for("sales_manager_a", "a"), value=bad)
    with pytest.raises(PermissionDenied):
        routing.hot_threshold_set(actor=actor_for("sales_a1", "a"), value=10)
