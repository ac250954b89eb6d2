"""The audit trail: who, when, which record, before/after (sensitive values masked), request
id; append-only in the application and in the database."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from testapp.factories import actor_for, store
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core import audit

PLAIN = ("13812345678", "11010519491231002X", "13987654321", "110105194912310036")


def _assert_no_plaintext(event: AuditEvent) -> None:
    text = json.dumps({"changes": event.changes, "extra": event.extra, "repr": event.object_repr}, ensure_ascii=False)
    for secret in PLAIN:
        assert secret not in text


def test_create_update_delete_record_actor_store_object_and_before_after(demo):
    manager = actor_for("manager_a")
    with audit.acting_as(manager):
        ticket = Ticket.objects.create(
            store=store("a"), title="刹车异响", mobile="13812345678", id_number="11010519491231002X", cost_price=100
        )
        pk = ticket.pk
        created = AuditEvent.objects.filter(action="create", object_type="testapp.ticket").get()
        assert created.actor_id == manager.user_id
        assert created.actor_label == "manager_a"
        assert created.store_id == store("a").pk
        assert created.organization_id == manager.organization_id
        assert created.object_id == str(pk)
        assert created.at is not None
        assert created.changes["title"] == [None, "刹车异响"]
        assert created.changes["mobile"] == [None, "138****5678"]
        assert created.changes["id_number"] == [None, "*****************X"]
        _assert_no_plaintext(created)

        ticket = Ticket.objects.get(pk=pk)
        ticket.title = "刹车异响（已复查）"
        ticket.mobile = "13987654321"
        ticket.save()
        updated = AuditEvent.objects.get(action="update", object_id=str(pk))
        assert updated.changes["title"] == ["刹车异响", "刹车异响（已复查）"]
        assert updated.changes["mobile"] == ["138****5678", "139****4321"]
        assert "id_number" not in updated.changes  # unchanged fields are not listed
        assert "cost_price" not in updated.changes
        _assert_no_plaintext(updated)

        Ticket.objects.get(pk=pk).delete()
        deleted = AuditEvent.objects.get(action="delete", object_id=str(pk))
        assert deleted.actor_id == manager.user_id
        assert deleted.changes["title"] == ["刹车异响（已复查）", None]
        assert deleted.changes["mobile"] == ["139****4321", None]
        _assert_no_plaintext(deleted)


def test_a_change_through_a_request_stores_and_echoes_the_request_id(demo, client: Client):
    _token, secret = token_issue_session(user=User.objects.get(username="sales_a1"))
    response = client.post(
        "/api/v1/testapp/tickets",
        {"title": "试驾回访", "mobile": "13812345678"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "req-7f3a9c"},
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "req-7f3a9c"
    assert response.json()["mobile"] == "138****5678"
    event = AuditEvent.objects.get(action="create", object_type="testapp.ticket")
    assert event.request_id == "req-7f3a9c"
    assert event.actor is not None
    assert event.actor.username == "sales_a1"
    assert event.store_id == store("a").pk  # the actor's store, never the client's
    _assert_no_plaintext(event)


def test_a_request_without_an_id_gets_one(demo, client: Client):
    client.force_login(User.objects.get(username="manager_a"))
    response = client.get("/api/v1/health")
    assert len(response["X-Request-ID"]) >= 16


def test_raw_sql_cannot_update_or_delete_audit_events(demo):
    audit.record("test.event", actor=actor_for("manager_a"), extra={"n": 1})
    event = AuditEvent.objects.latest("id")
    for sql in (
        "UPDATE audit_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite has no TRUNCATE (DELETE FROM is refused above)")
def test_the_database_refuses_truncate_of_audit_events(demo):
    """A role that may TRUNCATE the table (granted here) but is not superuser — what the app
    connects as in production (docs/operations.md) — is refused by the statement trigger."""
    import os

    event = audit.record("test.event", actor=actor_for("manager_a"))
    role = f"autocrm_audit_probe_{os.getpid()}"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')  # rolled back with the transaction
        cursor.execute(f'GRANT TRUNCATE ON audit_auditevent TO "{role}"')
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_cannot_change_or_remove_audit_events(demo):
    event = audit.record("test.event", actor=actor_for("manager_a"))
    event.action = "forged"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
