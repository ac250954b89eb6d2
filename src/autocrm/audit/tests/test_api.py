"""The audit trail through the API: each role's scope, filters, keyset pages, one record's
history, and refusals that are themselves audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core import audit

URL = "/api/v1/audit-events"


@pytest.fixture
def tickets(demo):
    """One ticket per store, created and changed by their store's sales consultant."""
    made = {}
    for code in ("a", "b"):
        user = User.objects.get(username=f"sales_{code}1")
        with audit.acting_as(actor_build(user=user)):
            ticket = Ticket.objects.create(
                store=demo["stores"][code], owner=user, title=f"ticket {code}", mobile="13812345678"
            )
            ticket.title = f"ticket {code} (changed)"
            ticket.save()
        made[code] = ticket
    return made


def bearer(username, **headers):
    secret = token_issue_session(user=User.objects.get(username=username))[1]
    return {"Authorization": f"Bearer {secret}", **headers}


def ticket_events(body):
    return [(e["object_id"], e["action"]) for e in body["items"] if e["object_type"] == "testapp.ticket"]


def test_manager_sees_their_store_and_director_the_organization(tickets, client):
    a, b = str(tickets["a"].pk), str(tickets["b"].pk)

    manager = client.get(URL, headers=bearer("manager_a"))
    director = client.get(URL, headers=bearer("director"))

    assert manager.status_code == director.status_code == 200
    assert ticket_events(manager.json()) == [(a, "update"), (a, "create")]
    assert set(ticket_events(director.json())) == {(a, "update"), (a, "create"), (b, "update"), (b, "create")}


def test_event_shape_has_actor_time_object_and_before_after(tickets, client):
    body = client.get(f"{URL}?object_type=testapp.ticket&action=update", headers=bearer("manager_a")).json()

    [event] = body["items"]
    assert event["actor"] == "sales_a1"
    assert event["actor_id"] == User.objects.get(username="sales_a1").pk
    assert event["store_id"] == tickets["a"].store_id
    assert event["object_id"] == str(tickets["a"].pk)
    assert event["changes"]["title"] == ["ticket a", "ticket a (changed)"]
    assert event["at"].endswith("+08:00")
    assert "13812345678" not in str(body)


def test_filters(tickets, client):
    pk_a = str(tickets["a"].pk)
    headers = bearer("director")
    today = timezone.localdate()

    def objects(query):
        resp = client.get(f"{URL}?{query}", headers=headers)
        assert resp.status_code == 200, resp.content
        return ticket_events(resp.json())

    assert objects("action=create&object_type=testapp.ticket") == [
        (str(tickets["b"].pk), "create"),
        (pk_a, "create"),
    ]
    assert objects(f"object_type=testapp.ticket&object_id={pk_a}") == [(pk_a, "update"), (pk_a, "create")]
    assert objects("actor=sales_b1") == [(str(tickets["b"].pk), "update"), (str(tickets["b"].pk), "create")]
    assert len(objects(f"object_type=testapp.ticket&date_from={today}&date_to={today}")) == 4
    tomorrow = today + dt.timedelta(days=1)
    assert objects(f"object_type=testapp.ticket&date_from={tomorrow}") == []
    bad = client.get(f"{URL}?date_from=yesterday", headers=headers)
    assert bad.status_code == 400
    assert "date_from" in bad.json()["fields"]


def test_keyset_pages_cover_everything_once(tickets, client):
    headers = bearer("director")
    everything = [e["id"] for e in client.get(f"{URL}?limit=200", headers=headers).json()["items"]]
    seen, cursor = [], None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{URL}?{query}", headers=headers).json()
        assert len(page["items"]) <= 3
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(everything) > 3
    assert seen == everything == sorted(everything, reverse=True)


def test_bad_cursor_and_limit_are_400(tickets, client):
    headers = bearer("director")

    for query in ("cursor=not-a-cursor", "cursor=WyJ4Il0", "limit=0", "limit=100000", "limit=many"):
        resp = client.get(f"{URL}?{query}", headers=headers)
        assert resp.status_code == 400, query
        body = resp.json()
        assert body["code"] == "invalid"
        assert set(body["fields"]) & {"cursor", "limit"}, query


def test_roles_without_the_audit_trail_get_403_and_the_refusal_is_audited(tickets, client):
    resp = client.get(URL, headers=bearer("sales_a1"))

    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"
    denied = AuditEvent.objects.get(action="authz.denied", actor_label="sales_a1")
    assert denied.object_type == "audit.auditevent"
    assert denied.extra["role"] == "sales"


def test_history_of_a_record_in_scope(tickets, client):
    pk_a = tickets["a"].pk

    resp = client.get(f"{URL}/history?object_type=testapp.ticket&object_id={pk_a}", headers=bearer("manager_a"))

    assert resp.status_code == 200
    assert [e["action"] for e in resp.json()["items"]] == ["update", "create"]


def test_history_outside_scope_is_404_like_a_missing_record(tickets, client):
    headers = bearer("manager_a")

    other_store = client.get(f"{URL}/history?object_type=testapp.ticket&object_id={tickets['b'].pk}", headers=headers)
    missing = client.get(f"{URL}/history?object_type=testapp.ticket&object_id=987654321", headers=headers)
    no_model = client.get(f"{URL}/history?object_type=nothing.here&object_id=1", headers=headers)

    assert other_store.status_code == missing.status_code == no_model.status_code == 404
    assert other_store.content == missing.content == no_model.content


def test_history_visible_record_but_no_audit_right_is_403_and_audited(tickets, client):
    resp = client.get(
        f"{URL}/history?object_type=testapp.ticket&object_id={tickets['a'].pk}", headers=bearer("sales_a1")
    )

    assert resp.status_code == 403
    assert AuditEvent.objects.filter(
        action="authz.denied", actor_label="sales_a1", object_id=str(tickets["a"].pk)
    ).exists()


def test_history_requires_both_parameters(tickets, client):
    resp = client.get(f"{URL}/history?object_type=testapp.ticket", headers=bearer("manager_a"))

    assert resp.status_code == 400
    assert resp.json()["fields"] == {"object_id": [resp.json()["fields"]["object_id"][0]]}
