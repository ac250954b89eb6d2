"""Browsing events (issue 13 item 6c): POST /api/v1/lead-events with a leads:write token,
hostile input, idempotency, linking (now or when the lead arrives), the three-days-in-a-row
invite with a controlled clock, and store scope."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.core.events import capture
from autocrm.leads.browsing import lead_events_record
from autocrm.leads.models import Lead, LeadActivity, LeadEvent
from autocrm.leads.selectors import lead_todo
from autocrm.messaging.models import StaffNotification

from .factories import actor_for, make_lead, on_duty, uid

pytestmark = pytest.mark.django_db
URL = "/api/v1/lead-events"


def _token(store_code: str, scopes=("leads:write",), username: str | None = None) -> dict[str, str]:
    from autocrm.accounts.services import integration_token_create
    from autocrm.tenancy.models import Store

    store = Store.objects.get(code=store_code)
    _t, secret = integration_token_create(
        actor=actor_for("admin", store_code), username=username or f"web-{store_code}", integration_name="官网",
        name="web", scopes=list(scopes), store_id=store.pk,
    )  # fmt: skip
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def web(demo):
    on_duty("a", "sales_a1")
    return _token("a")


def post(headers, body, *, raw: bool = False):
    data = body if raw else json.dumps(body, ensure_ascii=False)
    return Client().post(URL, data, content_type="application/json", **headers)


def ago(days: int = 0, hours: int = 0) -> str:
    return (timezone.now() - dt.timedelta(days=days, hours=hours)).isoformat()


def event(**kw):
    base = {"mobile": "13811112222", "model": "汉EV", "page": "config", "occurred_at": ago(hours=1)}
    base.update(kw)
    return base


def test_an_event_links_to_the_open_lead_and_raises_its_score(web):
    lead = make_lead(actor_for("sales_manager_a", "a"), mobile="13811112222")
    before = lead.score
    r = post(web, {"events": [event(page="price"), event(page="gallery"), event(page="config")]})
    assert r.status_code == 200, r.content
    assert r.json() == {"created": 3, "duplicates": 0, "linked": 3, "pending": 0, "invited": 0}
    lead.refresh_from_db()
    assert lead.score > before
    assert {x["code"] for x in lead.score_reasons} >= {"views", "price_views", "repeat_model"}
    assert LeadEvent.objects.filter(lead=lead).count() == 3
    assert not LeadEvent.objects.exclude(mobile_index=lead.mobile_index).exists()  # the mobile is not kept


def test_one_event_a_list_or_a_wrapped_list(web):
    assert post(web, event(visitor_id="v-1")).json()["created"] == 1
    assert post(web, [event(visitor_id="v-1"), event(visitor_id="v-2")]).json()["created"] == 2
    assert post(web, {"events": [event(visitor_id="v-3")]}).json()["pending"] == 1


def test_idempotent_by_event_id(web):
    make_lead(actor_for("sales_manager_a", "a"), mobile="13811112222")
    body = [event(event_id="e-1"), event(event_id="e-2"), event(event_id="e-2")]
    first = post(web, body).json()
    assert first["created"] == 2 and first["duplicates"] == 1
    again = post(web, body).json()
    assert again["created"] == 0 and again["duplicates"] == 3
    assert LeadEvent.objects.count() == 2
    lead = Lead.objects.get()
    assert lead.score_signals["views"] == 2  # counted once


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": "abc"}, "events"),
        ("not json", "events"),
        (42, "events"),
        ([event()] * 501, "events"),  # at most 500
        ([{"model": "汉", "page": "config", "occurred_at": ago()}], "events.0.mobile"),  # neither mobile nor visitor
        ([event(mobile="138\x001111222")], "events.0.mobile"),
        ([event(mobile="12345")], "events.0.mobile"),
        ([event(visitor_id="a b\x00")], "events.0.visitor_id"),
        ([event(model="汉\x00")], "events.0.model"),
        ([event(model="长" * 101)], "events.0.model"),
        ([event(model="")], "events.0.model"),
        ([event(series=999999)], "events.0.series"),  # unknown model in the catalogue
        ([event(series="abc")], "events.0.series"),
        ([event(series=10**30)], "events.0.series"),
        ([event(page="checkout")], "events.0.page"),
        ([event(page=["config"])], "events.0.page"),
        ([event(occurred_at="yesterday")], "events.0.occurred_at"),
        ([event(occurred_at="2026-13-45T99:00")], "events.0.occurred_at"),
        ([event(occurred_at=None)], "events.0.occurred_at"),
        ([event(occurred_at="1999-01-01T00:00+08:00")], "events.0.occurred_at"),
        ([event(occurred_at=(timezone.now() + dt.timedelta(days=2)).isoformat())], "events.0.occurred_at"),
        ([event(occurred_at=12345)], "events.0.occurred_at"),
        ([event(event_id={"a": 1})], "events.0.event_id"),
        ([event(), "x"], "events.1"),
    ],
)
def test_hostile_input_is_400_naming_the_field_and_nothing_is_stored(web, body, field):
    r = post(web, body, raw=body == "not json")
    assert r.status_code == 400, r.content
    # a NUL byte is refused by the JSON body check before the view (its path: "0.mobile")
    named = r.json()["fields"]
    assert field in named or field.removeprefix("events.") in named, named
    assert not LeadEvent.objects.exists()


def test_a_huge_body_is_refused(web):
    r = post(web, [event()] * 200000)
    assert r.status_code in (400, 413)
    assert not LeadEvent.objects.exists()


def test_500_events_in_one_call(web, django_assert_max_num_queries):
    make_lead(actor_for("sales_manager_a", "a"), mobile="13811112222")
    body = [event(event_id=f"b-{i}", page="gallery", occurred_at=ago(hours=i % 48)) for i in range(500)]
    r = post(web, body)
    assert r.status_code == 200 and r.json()["created"] == 500
    with django_assert_max_num_queries(20):  # a few per batch, not per lead
        lead_events_record(actor=actor_for("sales_manager_a", "a"),
                           items=[{**e, "event_id": f"c-{i}"} for i, e in enumerate(body)])  # fmt: skip


def test_the_token_needs_leads_write(demo):
    read_only = _token("a", scopes=("leads:read",), username="web-ro")
    assert post(read_only, [event()]).status_code == 403
    assert Client().post(URL, "[]", content_type="application/json").status_code == 401
    assert not LeadEvent.objects.exists()


def test_a_consultant_may_not_post_events(web):
    from autocrm.customers.tests.test_api import bearer

    assert post(bearer("sales_a1"), [event()]).status_code == 403


def test_another_stores_token_cannot_reach_this_stores_leads(web):
    lead = make_lead(actor_for("sales_manager_a", "a"), mobile="13811112222")
    on_duty("b", "sales_b1")
    other = _token("b")
    r = post(other, [event(), event(page="price")])
    assert r.status_code == 200 and r.json()["linked"] == 0 and r.json()["pending"] == 2
    lead.refresh_from_db()
    assert "views" not in lead.score_signals
    assert set(LeadEvent.objects.values_list("store__code", flat=True)) == {"b"}
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_pending_events_join_the_lead_when_it_arrives(web):
    post(web, [event(visitor_id="vis-9", mobile=None, page="price"), event(mobile="13811113333", page="gallery")])
    assert LeadEvent.objects.filter(lead__isnull=True).count() == 2
    manager = actor_for("sales_manager_a", "a")
    with capture():
        by_visitor = make_lead(manager, mobile="13822224444", visitor_id="vis-9")
        by_mobile = make_lead(manager, mobile="+86 138 1111 3333")
    assert LeadEvent.objects.get(visitor_id="vis-9").lead_id == by_visitor.pk
    assert LeadEvent.objects.get(visitor_id="").lead_id == by_mobile.pk
    by_visitor.refresh_from_db()
    assert {x["code"] for x in by_visitor.score_reasons} >= {"views", "price_views"}
    # later events for the visitor go straight to the lead
    assert post(web, [event(visitor_id="vis-9", mobile=None)]).json()["linked"] == 1


def test_three_days_in_a_row_on_one_models_configuration_invites_once(web):
    lead = make_lead(actor_for("sales_manager_a", "a"), mobile="13811112222")
    now = timezone.now().replace(hour=12)
    web_actor = actor_for("web-a", "a")

    def day(n, **kw):
        return event(occurred_at=(now - dt.timedelta(days=n)).isoformat(), **kw)

    r = lead_events_record(actor=web_actor, items=[day(2), day(1), day(1, model="海豹")], now=now)
    assert r.invited == [] and not LeadActivity.objects.filter(kind="task").exists()
    r = lead_events_record(actor=web_actor, items=[day(0, page="gallery")], now=now)  # not the configuration
    assert r.invited == []
    r = lead_events_record(actor=web_actor, items=[day(0)], now=now)
    assert r.invited == [(lead.pk, "汉EV")]
    task = LeadActivity.objects.get(lead=lead, kind="task")
    assert "汉EV" in task.note and timezone.localdate(task.next_action_at) == timezone.localdate(now)
    lead.refresh_from_db()
    assert timezone.localdate(lead.next_action_at) == timezone.localdate(now)
    assert {x["code"] for x in lead.score_reasons} >= {"streak"}
    note = StaffNotification.objects.get(user_id=uid("sales_a1"), dedup_key__startswith="lead-invite:")
    assert "汉EV" in note.title
    # the consultant's to-do list shows the lead today
    todo = lead_todo(actor=actor_for("sales_a1", "a"), now=now)
    assert lead.pk in {x.pk for x in todo["new"] + todo["today"]}
    # once per lead and model
    again = lead_events_record(actor=web_actor, items=[day(0, event_id="x1"), day(-0)], now=now)
    assert again.invited == []
    assert LeadActivity.objects.filter(lead=lead, kind="task").count() == 1
    assert StaffNotification.objects.filter(dedup_key__startswith="lead-invite:").count() == 1


def test_a_gap_in_the_days_is_no_streak(web):
    make_lead(actor_for("sales_manager_a", "a"), mobile="13811112222")
    now = timezone.now().replace(hour=12)
    items = [event(occurred_at=(now - dt.timedelta(days=n)).isoformat()) for n in (4, 3, 1, 0)]
    assert lead_events_record(actor=actor_for("web-a", "a"), items=items, now=now).invited == []
