"""The store's lead-rules page and API, and the batch rescoring a new threshold starts
(leads.rules): who may, what is refused (400 naming the field), the run in keyset chunks,
newly hot leads routed once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone, translation

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.customers.tests.test_api import bearer
from autocrm.leads import rules
from autocrm.leads.models import Lead, LeadActivity, LeadRescore, LeadSettings
from autocrm.tenancy.models import Store

from .factories import actor_for, on_duty, uid

pytestmark = pytest.mark.django_db


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def patch(username, data):
    return Client().patch("/api/v1/lead-settings", json.dumps(data), content_type="application/json",
                          **bearer(username))  # fmt: skip


@pytest.fixture
def store_a(demo):
    return Store.objects.get(code="a").pk


# --- the page -----------------------------------------------------------------------------------


def test_manager_edits_the_rules_on_the_page_in_chinese(store_a):
    client = login("sales_manager_a")
    with translation.override("zh-hans"):
        page = client.get("/leads/settings/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert page.status_code == 200
        body = page.content.decode()
        assert "线索规则" in body and 'name="hot_score_threshold"' in body and "rescore-none" in body
        assert "bought_competitor" not in body  # the built-in lost reasons by their Chinese labels
        form = dict.fromkeys(rules.FIELDS, "") | {
            "first_contact_minutes": "20", "follow_up_days_h": "1", "follow_up_days_a": "2", "follow_up_days_b": "5",
            "follow_up_days_c": "10", "sleeping_days": "21", "remind_minutes_before": "5",
            "hot_score_threshold": "80", "daily_capacity_default": "25", "lost_reasons": "价格\n竞品\n价格\n",
        }  # fmt: skip
        r = client.post("/leads/settings/", form, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert r.status_code == 302
    settings = LeadSettings.objects.get(store_id=store_a)
    assert (settings.first_contact_minutes, settings.follow_up_days_a, settings.sleeping_days) == (20, 2, 21)
    # a line reading as a built-in reason's label is kept as its code (one name in the report)
    assert settings.lost_reasons == ["price", "竞品"] and settings.daily_capacity_default == 25
    with translation.override("zh-hans"):
        body = client.get("/leads/settings/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "价格\n竞品</textarea>" in body and "bought_competitor" not in body
    event = AuditEvent.objects.filter(action="lead.settings_changed").latest("id")
    assert event.changes["first_contact_minutes"] == [30, 20]
    assert not LeadRescore.objects.exists()  # the threshold did not change: no rescoring


def test_page_shows_translated_field_errors_and_saves_nothing(store_a):
    client = login("manager_a")
    with translation.override("zh-hans"):
        r = client.post("/leads/settings/", {"first_contact_minutes": "-5", "hot_score_threshold": "101",
                                             "sleeping_days": "9" * 40, "follow_up_days_c": "abc"},
                        HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip
    body = r.content.decode()
    assert r.status_code == 400 and body.count("is-invalid") >= 4 and "请输入" in body
    assert LeadSettings.objects.get(store_id=store_a).first_contact_minutes == 30


def test_consultant_gets_403_and_another_stores_run_404(store_a):
    assert login("sales_a1").get("/leads/settings/").status_code == 403
    assert login("sales_a1").post("/leads/settings/", {"sleeping_days": "3"}).status_code == 403
    assert login("sales_a1").post("/leads/settings/rescore/").status_code == 403
    assert login("advisor_a1").get("/leads/settings/").status_code == 403
    other = LeadRescore.objects.create(store=Store.objects.get(code="b"), threshold=80, previous_threshold=80)
    assert login("sales_manager_a").get(f"/leads/settings/rescores/{other.pk}/").status_code == 404
    assert login("sales_manager_a").get("/leads/settings/rescores/99999999/").status_code == 404
    r = Client().get(f"/api/v1/lead-settings/rescores/{other.pk}", **bearer("sales_manager_a"))
    assert r.status_code == 404
    assert Client().get("/api/v1/lead-settings", **bearer("sales_a1")).status_code == 403
    assert patch("sales_a1", {"sleeping_days": 3}).status_code == 403
    assert LeadSettings.objects.filter(store_id=store_a, sleeping_days=3).count() == 0


# --- the API ------------------------------------------------------------------------------------


def test_api_get_and_patch_partial(store_a):
    r = Client().get("/api/v1/lead-settings", **bearer("sales_manager_a"))
    assert r.status_code == 200 and r.json()["first_contact_minutes"] == 30 and r.json()["rescore"] is None
    assert r.json()["lost_reasons"]  # the defaults
    r = patch("sales_manager_a", {"follow_up_days_b": 6, "lost_reasons": ["价格太高", "买了竞品"]})
    assert r.status_code == 200, r.content
    assert r.json()["follow_up_days_b"] == 6 and r.json()["lost_reasons"] == ["价格太高", "买了竞品"]
    assert r.json()["follow_up_days_a"] == 3  # untouched


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_contact_minutes", -1),
        ("first_contact_minutes", 10**40),
        ("first_contact_minutes", "1e3"),
        ("first_contact_minutes", True),
        ("first_contact_minutes", None),
        ("hot_score_threshold", 101),
        ("hot_score_threshold", -1),
        ("hot_score_threshold", 50.5),
        ("hot_score_threshold", [80]),
        ("sleeping_days", "\x00"),
        ("remind_minutes_before", {"a": 1}),
        ("lost_reasons", ["价格\x00"]),
        ("lost_reasons", ["长" * 61]),
        ("lost_reasons", [{"x": 1}]),
        ("lost_reasons", 7),
        ("lost_reasons", [str(i) for i in range(31)]),
        ("lost_reasons", ["x"] * 10**4),
    ],
)
def test_api_refuses_hostile_input_naming_the_field(store_a, field, value):
    r = Client().patch("/api/v1/lead-settings", json.dumps({field: value}), content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="zh-hans", **bearer("sales_manager_a"))  # fmt: skip
    assert r.status_code == 400, r.content
    assert field in {name.split(".")[0] for name in r.json()["fields"]}
    assert not AuditEvent.objects.filter(action="lead.settings_changed").exists()


def test_api_body_that_is_not_an_object_changes_nothing(store_a):
    for body in ("[1, 2]", "null", '"x"', "{", '{"first_contact_minutes": 1e999}'):
        r = Client().patch("/api/v1/lead-settings", body, content_type="application/json",
                           **bearer("sales_manager_a"))  # fmt: skip
        assert r.status_code in (200, 400), (body, r.content)
    assert LeadSettings.objects.get(store_id=store_a).first_contact_minutes == 30


# --- rescoring ----------------------------------------------------------------------------------

HOT = {"grade": "H", "source_channel": "walk_in", "score_signals": {"text": ["price", "delivery", "loan"], "visits": 1}}


def _history(store, user, n, won):
    arrived = timezone.now() - dt.timedelta(days=10)
    for i in range(n):
        Lead.objects.create(store_id=store, consultant_id=uid(user), mobile=f"1350{uid(user):03d}{i:04d}",
                            arrived_at=arrived, status="won" if i < won else "lost")  # fmt: skip


def _lead(store, **kw):
    kw = {"name": "重算", "mobile": "13900000000", "score": 0, **kw}
    return Lead.objects.create(store_id=store, **kw)


def test_new_threshold_rescores_open_leads_and_routes_newly_hot_once(store_a, django_capture_on_commit_callbacks):
    on_duty("a", "sales_a1", "sales_a2")
    _history(store_a, "sales_a1", 10, 1)
    _history(store_a, "sales_a2", 10, 6)
    waiting = _lead(store_a, name="待分配", **HOT)  # unassigned, stale score 0
    fresh = _lead(store_a, name="未联系", consultant_id=uid("sales_a1"), **HOT)
    worked = _lead(store_a, name="已联系", consultant_id=uid("sales_a1"), first_contact_at=timezone.now(),
                   status="contacted", **HOT)  # fmt: skip
    cold = _lead(store_a, name="冷线索", consultant_id=uid("sales_a1"))
    closed = _lead(store_a, name="已成交", status="won", **HOT)
    score = 10 + 20 + 12 + 15 + 12 + 10 + 15  # base, H, walk-in, price, delivery, loan, a visit
    with django_capture_on_commit_callbacks(execute=True):
        r = patch("sales_manager_a", {"hot_score_threshold": 60})
    assert r.status_code == 200, r.content
    run = LeadRescore.objects.get()
    assert (run.status, run.previous_threshold, run.threshold) == ("done", 80, 60)
    for lead in (waiting, fresh, worked, cold, closed):
        lead.refresh_from_db()
    assert waiting.score == min(100, score) and closed.score == 0  # closed leads are not rescored
    assert run.scanned == 4 and run.changed == 4 and run.newly_hot == 3 and run.routed == 2
    assert waiting.consultant_id == fresh.consultant_id == uid("sales_a2")  # to the best converter
    assert worked.consultant_id == uid("sales_a1")  # contacted: stays, its consultant told
    assert LeadActivity.objects.filter(lead=fresh, kind="assignment").count() == 1
    assert all(lead.score_signals.get("hot_routed") for lead in (waiting, fresh, worked))
    # Again (the threshold lower still, then "rescore now"): nobody is routed a second time.
    with django_capture_on_commit_callbacks(execute=True):
        assert patch("sales_manager_a", {"hot_score_threshold": 50}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post("/api/v1/lead-settings/rescore", **bearer("sales_manager_a")).status_code == 202
    assert LeadRescore.objects.filter(status="done").count() == 3
    assert sum(LeadRescore.objects.values_list("routed", flat=True)) == 2
    assert LeadActivity.objects.filter(lead=fresh, kind="assignment").count() == 1
    r = Client().get("/api/v1/lead-settings", **bearer("sales_manager_a"))
    assert r.json()["rescore"]["status"] == "done" and r.json()["rescore"]["scanned"] == 4


def test_run_walks_in_chunks_resumes_and_is_idempotent(store_a):
    leads = [_lead(store_a, mobile=f"1390000{i:04d}", consultant_id=uid("sales_a1")) for i in range(7)]
    manager = actor_for("sales_manager_a", "a")
    run = rules.rescore_request(actor=manager)
    assert rules.rescore_chunk(run.pk, size=3) is True
    run.refresh_from_db()
    assert (run.status, run.scanned, run.cursor) == ("running", 3, leads[2].pk)
    assert rules.rescore_chunk(run.pk, size=3) is True
    assert rules.rescore_chunk(run.pk, size=3) is False  # 1 left: the run is over
    assert rules.rescore_chunk(run.pk, size=3) is False  # a second delivery does nothing
    run.refresh_from_db()
    assert (run.status, run.scanned, run.changed) == ("done", 7, 7)
    assert set(Lead.objects.filter(pk__in=[x.pk for x in leads]).values_list("score", flat=True)) == {10}


def test_a_new_request_supersedes_the_running_one(store_a):
    manager = actor_for("sales_manager_a", "a")
    first = rules.rescore_request(actor=manager)
    second = rules.rescore_request(actor=manager)
    first.refresh_from_db()
    assert first.status == "superseded" and rules.rescore_chunk(first.pk) is False
    assert rules.rescore_run(second.pk).status == "done"


def test_a_chunk_costs_the_same_queries_for_10_or_60_leads(store_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager = actor_for("sales_manager_a", "a")
    counts = []
    for n in (10, 60):
        Lead.objects.filter(store_id=store_a).delete()
        for i in range(n):
            _lead(store_a, mobile=f"1391{n:03d}{i:04d}", consultant_id=uid("sales_a1"))
        run = rules.rescore_request(actor=manager)
        with CaptureQueriesContext(connection) as queries:
            rules.rescore_chunk(run.pk, size=100)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8  # the run row, the chunk, one bulk update, the run saved


def test_progress_partial_polls_while_running(store_a):
    manager = actor_for("sales_manager_a", "a")
    run = rules.rescore_request(actor=manager)
    client = login("sales_manager_a")
    body = client.get(f"/leads/settings/rescores/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in body and 'data-status="queued"' in body
    assert 'data-testid="rescore-progress"' in client.get("/leads/settings/").content.decode()
    rules.rescore_run(run.pk)
    body = client.get(f"/leads/settings/rescores/{run.pk}/").content.decode()
    assert "every 2s" not in body and 'data-status="done"' in body


def test_a_new_consultant_gets_the_stores_daily_capacity(store_a):
    rules.lead_settings_update(actor=actor_for("sales_manager_a", "a"), data={"daily_capacity_default": 12})
    (duty,) = on_duty("a", "sales_a1")
    assert duty.daily_capacity == 12
