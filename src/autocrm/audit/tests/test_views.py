"""The audit trail in the UI: list with filters and keyset "load more", record history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.core import audit
from autocrm.tenancy.models import Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    from autocrm.demo.services import demo_create

    return demo_create()


def login(client, username: str) -> User:
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


def ticket(code: str, title: str) -> Ticket:
    with audit.acting_as(None):
        t = Ticket.objects.create(store=Store.objects.get(code=code), title=title, mobile="13812345678")
        t.title = title + " (changed)"
        t.save()
    return t


def test_sales_gets_403_on_the_audit_list(client, demo):
    login(client, "sales_a1")
    response = client.get(reverse("audit:event_list"))
    assert response.status_code == 403
    assert "403" in response.content.decode()


def test_manager_sees_the_audit_list_with_before_and_after(client, demo, django_assert_max_num_queries):
    ticket("a", "store a ticket")
    ticket("b", "store b ticket")
    login(client, "manager_a")
    # Names of the records the events mention (tickets, users, stores, memberships, the
    # organization, and since the demo writes them, message templates and sending rules): one query
    # per model, whatever the page holds.
    with django_assert_max_num_queries(16):
        response = client.get(reverse("audit:event_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "store a ticket" in body
    assert "store b ticket" not in body  # another store's trail is not in scope
    assert "store a ticket (changed)" in body
    assert "→" in body


def test_audit_list_filters(client, demo):
    ticket("a", "filtered ticket")
    login(client, "manager_a")
    response = client.get(reverse("audit:event_list"), {"action": "update", "object_type": "testapp.ticket"})
    rows = response.context["rows"]
    assert rows and all(r["event"].action == "update" and r["event"].object_type == "testapp.ticket" for r in rows)
    today = timezone.localdate()
    response = client.get(reverse("audit:event_list"), {"date_from": (today + dt.timedelta(days=1)).isoformat()})
    assert response.context["rows"] == []
    assert "audit-empty" in response.content.decode()
    response = client.get(reverse("audit:event_list"), {"date_from": "2026-01-02", "date_to": "2026-01-01"})
    assert response.context["form"].errors["date_to"]


def test_audit_list_load_more_via_htmx(client, demo):
    store = Store.objects.get(code="a")
    with audit.acting_as(None):
        for i in range(60):
            Ticket.objects.create(store=store, title=f"t{i:02d}")
    login(client, "manager_a")
    first = client.get(reverse("audit:event_list"), {"object_type": "testapp.ticket"})
    assert len(first.context["rows"]) == 50
    cursor = first.context["next_cursor"]
    assert cursor and 'hx-get="' in first.content.decode()
    more = client.get(
        reverse("audit:event_list"), {"object_type": "testapp.ticket", "cursor": cursor}, HTTP_HX_REQUEST="true"
    )
    assert more.status_code == 200
    body = more.content.decode()
    assert "<html" not in body  # the partial only
    assert len(more.context["rows"]) == 10
    first_ids = {r["event"].pk for r in first.context["rows"]}
    assert not first_ids & {r["event"].pk for r in more.context["rows"]}
    assert more.context["next_cursor"] is None
    bad = client.get(reverse("audit:event_list"), {"cursor": "not-a-cursor"})
    assert bad.status_code == 400


def test_manager_sees_history_of_a_store_ticket_but_404_for_the_other_store(client, demo):
    mine = ticket("a", "history a")
    other = ticket("b", "history b")
    login(client, "manager_a")
    response = client.get(reverse("audit:history", args=["testapp.ticket", mine.pk]))
    assert response.status_code == 200
    actions = [r["event"].action for r in response.context["rows"]]
    assert actions == ["update", "create"]
    assert "history a (changed)" in response.content.decode()
    response = client.get(reverse("audit:history", args=["testapp.ticket", other.pk]))
    assert response.status_code == 404
    missing = client.get(reverse("audit:history", args=["testapp.ticket", 999999]))
    assert missing.status_code == 404
    assert client.get(reverse("audit:history", args=["nosuch.model", 1])).status_code == 404


def test_history_in_scope_without_audit_right_is_403(client, demo):
    t = ticket("a", "agent sees it")  # agents see every ticket of the store, but not the audit trail
    login(client, "agent_a1")
    response = client.get(reverse("audit:history", args=["testapp.ticket", t.pk]))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="authz.denied", object_id=str(t.pk)).exists()


def test_home_activity_panel_for_manager_shows_store_events(client, demo):
    ticket("a", "panel ticket")
    login(client, "manager_a")
    response = client.get(reverse("home"))
    panel = next(p for p in response.context["panels"] if p["key"] == "activity")
    assert panel["scope"] == "store"
    assert 0 < len(panel["rows"]) <= 10
    assert "panel ticket" in response.content.decode()
