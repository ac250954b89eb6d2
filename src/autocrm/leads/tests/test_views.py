import re

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.demo.leads import demo_leads_store
from autocrm.leads.models import Lead, LeadActivity, LostRequest
from autocrm.tenancy.models import Store

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


def test_consultant_list_shows_own_leads_as_table_and_phone_cards(world):
    mine = make_lead(world, name="我的线索", consultant_id=uid("sales_a1"))
    make_lead(world, name="别人的线索", consultant_id=uid("sales_a2"))
    r = login("sales_a1").get("/leads/")
    body = r.content.decode()
    assert r.status_code == 200 and "我的线索" in body and "别人的线索" not in body
    assert 'id="lead-cards"' in body and f"/leads/{mine.pk}/" in body
    assert login("sales_a1").get("/leads/?status=bogus").status_code == 200  # a bad filter: a message, not a 500
    assert login("advisor_a1").get("/leads/").status_code == 403


def test_list_rows_show_the_columns_escaped_masked_and_labelled(world):
    """The rows are built in Python (leads.views._list_rows): what the template showed before —
    labels, the masked mobile, the flag, the score's reasons, "not assigned", local times — with
    every value escaped."""
    from django.utils import timezone

    hostile = make_lead(world, name='<script>alert("x")</script>', mobile="13800000000",
                        message="落地价多少？有现车吗", consultant_id=uid("sales_a1"))  # fmt: skip
    body = login("sales_a1").get("/leads/").content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert "138****0000" in body and "13800000000" not in body  # masked for a consultant
    assert "空号" in body  # the flag's label (an empty-number pattern)
    assert re.search(r'title="[^"]*问了落地价 \+15[^"]*"', body)  # the reasons in the score badge's title
    assert body.count('data-testid="lead-card"') == 1 and body.count(f'href="/leads/{hostile.pk}/"') == 2
    assert str(User.objects.get(username="sales_a1")) in body
    arrived = timezone.localtime(hostile.arrived_at)
    assert arrived.strftime("%Y-%m-%d %H:%M") in body and arrived.strftime("%m-%d %H:%M") in body
    queue = make_lead(world, name="待分配")
    Lead.objects.filter(pk=queue.pk).update(consultant=None)  # scoped: test (the manager's queue)
    manager_body = login("sales_manager_a").get("/leads/?unassigned=1").content.decode()
    assert "待分配" in manager_body and '<span class="text-warning">未分配</span>' in manager_body
    empty = login("sales_a1").get("/leads/?grade=C").content.decode()
    assert 'data-testid="lead-card"' not in empty


def test_list_filters_keep_the_chosen_options_selected(world):
    make_lead(world, name="甲", consultant_id=uid("sales_a1"), grade="A")
    body = login("sales_manager_a").get(
        f"/leads/?status=new&grade=A&source_channel=walk_in&consultant={uid('sales_a1')}"
    )
    text = body.content.decode()
    assert '<option value="new" selected>' in text and '<option value="A" selected>' in text
    assert '<option value="walk_in" selected>' in text and f'<option value="{uid("sales_a1")}" selected>' in text
    assert "甲" in text


def test_new_lead_form_runs_intake_and_shows_errors(world):
    client = login("sales_manager_a")
    assert client.get("/leads/new/").status_code == 200
    r = client.post("/leads/new/", {"name": "无号码", "mobile": ""})
    assert r.status_code == 400 and "is-invalid" in r.content.decode()
    r = client.post(
        "/leads/new/", {"name": "韩梅梅", "mobile": "13855556666", "source_channel": "walk_in", "grade": "A"}
    )
    lead = Lead.objects.get()
    assert r.status_code == 302 and lead.consultant_id == uid("sales_a1")


def test_detail_log_activity_request_lost_and_approve(world):
    lead = make_lead(world, consultant_id=uid("sales_a1"))
    consultant = login("sales_a1")
    r = consultant.get(f"/leads/{lead.pk}/")
    assert r.status_code == 200 and 'id="activity-form"' in r.content.decode()
    assert (
        consultant.post(
            f"/leads/{lead.pk}/activities/", {"kind": "call", "outcome": "reached", "note": "约到店"}
        ).status_code
        == 302
    )
    lead.refresh_from_db()
    assert lead.first_contact_at is not None and LeadActivity.objects.filter(lead=lead, kind="call").exists()
    consultant.post(f"/leads/{lead.pk}/activities/", {"kind": "teleport"})  # an error message, nothing written
    assert LeadActivity.objects.filter(lead=lead).count() == 1
    consultant.post(f"/leads/{lead.pk}/lost/", {"reason": "price", "note": "嫌贵"})
    request = LostRequest.objects.get(lead=lead)
    manager = login("sales_manager_a")
    home = manager.get("/").content.decode()
    assert 'id="panel-leads-board"' in home and lead.name in home
    board = home.split('id="panel-leads-board"', 1)[1]
    assert "价格" in board and ">price<" not in board  # the manager reads the reason, not its code
    manager.post(f"/leads/lost-requests/{request.pk}/decide/", {"decision": "approve", "note": "同意"})
    lead.refresh_from_db()
    assert lead.status == "lost"


def test_consultant_home_is_the_todo(world):
    make_lead(world, name="待联系", consultant_id=uid("sales_a1"))
    body = login("sales_a1").get("/").content.decode()
    assert 'id="panel-leads-todo"' in body and "待联系" in body


def test_todo_lines_show_time_left_late_and_due_escaped(world):
    """The panel's lines are built in Python (leads.views.panel_todo): the minutes left or late,
    today's time and an overdue date, each name escaped, each linking to its lead."""
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    soon = make_lead(world, name="<b>新</b>", consultant_id=uid("sales_a1"))
    late = make_lead(world, name="迟了", consultant_id=uid("sales_a1"))
    due = make_lead(world, name="今天跟进", consultant_id=uid("sales_a1"))
    overdue = make_lead(world, name="过期跟进", consultant_id=uid("sales_a1"))
    Lead.objects.filter(pk=soon.pk).update(first_contact_due=now + dt.timedelta(minutes=25, seconds=30))  # scoped: test
    Lead.objects.filter(pk=late.pk).update(first_contact_due=now - dt.timedelta(minutes=7, seconds=30))  # scoped: test
    end = timezone.localtime(now).replace(hour=23, minute=59, second=0, microsecond=0)
    today_at = max(now + dt.timedelta(minutes=5), min(end, now + dt.timedelta(hours=1)))
    Lead.objects.filter(pk=due.pk).update(status="contacted", next_action_at=today_at)  # scoped: test
    Lead.objects.filter(pk=overdue.pk).update(
        status="contacted", next_action_at=now - dt.timedelta(days=2)
    )  # scoped: test
    body = login("sales_a1").get("/").content.decode()
    assert "&lt;b&gt;新&lt;/b&gt;" in body and "<b>新</b>" not in body
    assert "剩余 25 分钟" in body and "已超时 8 分钟" in body
    assert f'href="/leads/{soon.pk}/"' in body and f'href="/leads/{overdue.pk}/"' in body
    if timezone.localdate(today_at) == timezone.localdate(now):
        assert timezone.localtime(today_at).strftime("%H:%M") in body
    assert timezone.localtime(now - dt.timedelta(days=2)).strftime("%m-%d %H:%M") in body


def test_demo_leads_fill_the_home_pages(world):
    store = Store.objects.get(code="b")
    made = demo_leads_store(store, count=60, seed=3)
    assert made.made >= 50
    assert Lead.objects.filter(store=store, consultant__isnull=False).exists()
    assert LeadActivity.objects.filter(store=store, kind="call").exists()
    assert LostRequest.objects.filter(store=store).exists()
    assert demo_leads_store(store, count=60, seed=3).made == 0  # idempotent
