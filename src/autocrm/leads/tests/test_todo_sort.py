"""The consultant's to-do (issue 13 item 10): each section sorted by time left, score or arrival in
the database, the choice kept in the URL and swapped by htmx; new leads never crowded out by many
follow-ups; the panels that are not the consultant's first screen load after it."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.leads import selectors
from autocrm.leads.models import Lead

from .factories import actor_for, make_lead, on_duty, uid

pytestmark = pytest.mark.django_db


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def world(demo):
    on_duty("a", "sales_a1")
    return actor_for("sales_manager_a", "a")


def _set(lead, **fields):
    Lead.objects.filter(pk=lead.pk).update(**fields)  # scoped: test


def _names(body: str, section_start: str, section_end: str | None) -> list[str]:
    part = body.split(section_start, 1)[1]
    if section_end:
        part = part.split(section_end, 1)[0]
    return re.findall(r'<span class="text-truncate">([^<]+)</span>', part)


def _three_new(world):
    now = timezone.now()
    a = make_lead(world, name="甲", consultant_id=uid("sales_a1"))
    b = make_lead(world, name="乙", consultant_id=uid("sales_a1"))
    c = make_lead(world, name="丙", consultant_id=uid("sales_a1"))
    # 甲: latest deadline, hottest, oldest; 乙: soonest deadline, coldest, newest; 丙 between.
    _set(a, first_contact_due=now + dt.timedelta(minutes=50), score=90, arrived_at=now - dt.timedelta(hours=3))
    _set(b, first_contact_due=now + dt.timedelta(minutes=5), score=10, arrived_at=now - dt.timedelta(minutes=1))
    _set(c, first_contact_due=now + dt.timedelta(minutes=20), score=50, arrived_at=now - dt.timedelta(hours=1))
    return a, b, c


def test_each_sort_orders_the_sections_in_the_database(world):
    a, b, _c = _three_new(world)
    consultant = actor_for("sales_a1", "a")
    order = {sort: [r.name for r in selectors.lead_todo(actor=consultant, sort=sort)["new"]]
             for sort in ("due", "score", "arrived", "bogus")}  # fmt: skip
    assert order["due"] == ["乙", "丙", "甲"]  # the least time left first
    assert order["score"] == ["甲", "丙", "乙"]
    assert order["arrived"] == ["乙", "丙", "甲"]  # newest first
    assert order["bogus"] == order["due"]
    now = timezone.now()
    _set(a, status="contacted", next_action_at=now - dt.timedelta(days=1), score=10)
    _set(b, status="contacted", next_action_at=now - dt.timedelta(days=2), score=95)
    overdue = selectors.lead_todo(actor=consultant, sort="score")["overdue"]
    assert [r.name for r in overdue] == ["乙", "甲"] and overdue[0].score == 95
    assert [r.name for r in selectors.lead_todo(actor=consultant)["overdue"]] == ["乙", "甲"]  # most late first


def test_the_sort_is_in_the_url_and_htmx_swaps_the_panel_alone(world):
    _three_new(world)
    client = login("sales_a1")
    body = client.get("/?todo=score", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert _names(body, "待响应的新线索", "今日待回访") == ["甲", "丙", "乙"]
    fragment = reverse("home_panel", args=["leads_todo"])
    assert f'hx-get="{fragment}?todo=arrived"' in body and 'hx-push-url="/?todo=arrived"' in body
    assert 'data-sort="score" aria-current="true"' in body
    part = client.get(f"{fragment}?todo=arrived", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = part.content.decode()
    assert part.status_code == 200 and "<html" not in html and 'id="panel-leads-todo"' in html
    assert _names(html, "待响应的新线索", "今日待回访") == ["乙", "丙", "甲"]
    assert "Vary" in part and "HX-Request" in part["Vary"]
    plain = client.get(f"{fragment}?todo=due").content.decode()  # without JavaScript: a page of its own
    assert "<html" in plain and _names(plain, "待响应的新线索", "今日待回访") == ["乙", "丙", "甲"]
    assert client.get("/?todo=<script>").status_code == 200  # an unknown sort is the time left


def test_sorting_never_shows_another_consultants_leads(world):
    _three_new(world)
    make_lead(world, name="别人的", consultant_id=uid("sales_a2"))
    for sort in ("due", "score", "arrived"):
        html = login("sales_a1").get(f"/home/panels/leads_todo/?todo={sort}", HTTP_HX_REQUEST="true").content.decode()
        assert "别人的" not in html and "甲" in html
    # another store's consultant: their own (empty) to-do, never store a's
    html = login("sales_b1").get("/home/panels/leads_todo/?todo=score", HTTP_HX_REQUEST="true").content.decode()
    assert "甲" not in html
    # a role without the to-do: nothing to swap in
    assert login("advisor_a1").get("/home/panels/leads_todo/", HTTP_HX_REQUEST="true").content == b""
    assert login("sales_a1").get("/home/panels/no-such-panel/").status_code == 404


def test_new_leads_are_not_crowded_out_by_many_follow_ups(world):
    """Each section has its own LIMIT: 25 overdue follow-ups that arrived before a new lead do not
    push the new lead off the list (the old single query cut 60 rows in arrival order)."""
    now = timezone.now()
    for i in range(25):
        old = make_lead(world, name=f"旧{i}", consultant_id=uid("sales_a1"))
        _set(old, status="contacted", next_action_at=now - dt.timedelta(hours=i + 1),
             first_contact_due=now - dt.timedelta(days=30, minutes=i))  # fmt: skip
    fresh = make_lead(world, name="新来的", consultant_id=uid("sales_a1"))
    todo = selectors.lead_todo(actor=actor_for("sales_a1", "a"), limit=10)
    assert [r.pk for r in todo["new"]] == [fresh.pk]
    assert len(todo["overdue"]) == 10 and todo["overdue"][0].name == "旧24"


def test_the_consultants_home_first_paint_defers_what_is_not_the_to_do(world):
    make_lead(world, name="待联系", consultant_id=uid("sales_a1"))
    client = login("sales_a1")
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="panel-leads-todo"' in body and "待联系" in body
    for key in ("due", "activity"):
        assert f'data-home-panel="{key}"' in body and f'hx-get="/home/panels/{key}/"' in body
    # session, user, memberships, store, the to-do, test drives, deliveries, my stores, the session's save
    assert len(captured) <= 8, [q["sql"][:80] for q in captured.captured_queries]
    activity = client.get("/home/panels/activity/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="panel-activity"' in activity and "<html" not in activity
    # the manager's home keeps the activity in its first paint (only care's CSI/NPS loads later)
    manager = login("manager_a").get("/").content.decode()
    assert 'id="panel-activity"' in manager and 'data-home-panel="activity"' not in manager
