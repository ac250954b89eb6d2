"""Reveal of full personal data and the access log of reveals and exports."""

from __future__ import annotations

import pytest
from django.test import Client
from testapp.factories import actor_for, ticket_make
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.permissions import get_in_scope
from autocrm.core.sensitive import export_logged, field_reveal


@pytest.fixture
def ticket(demo):
    return ticket_make("a", owner="sales_a1", mobile="13812345678", id_number="11010519491231002X")


def test_reveal_returns_plaintext_and_writes_the_access_log(ticket):
    manager = actor_for("manager_a")
    obj = get_in_scope(Ticket, manager, ticket.pk)
    assert field_reveal(actor=manager, obj=obj, field="id_number") == "11010519491231002X"
    event = AuditEvent.objects.get(action="pii.reveal")
    assert event.actor_id == manager.user_id
    assert event.store_id == ticket.store_id
    assert (event.object_type, event.object_id) == ("testapp.ticket", str(ticket.pk))
    assert event.extra == {"field": "id_number"}
    assert "11010519491231002X" not in str(event.changes) + str(event.extra)


@pytest.mark.parametrize("username", ["advisor_a1", "marketing_a1", "director"])
def test_a_role_without_reveal_gets_403_and_an_audit_event(demo, username):
    actor = actor_for(username)
    obj = get_in_scope(Ticket, actor, ticket_make("a").pk)  # unassigned: visible to all three
    with pytest.raises(PermissionDenied):
        field_reveal(actor=actor, obj=obj, field="mobile")
    assert AuditEvent.objects.filter(action="authz.denied", actor_id=actor.user_id).exists()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


@pytest.mark.parametrize("field", ["title", "cost_price", "mobile_index", "nope", ""])
def test_only_protected_fields_can_be_revealed(ticket, field):
    manager = actor_for("manager_a")
    with pytest.raises(ValidationError) as info:
        field_reveal(actor=manager, obj=ticket, field=field)
    assert "field" in info.value.fields
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_api_reveal_of_an_unknown_field_is_400_naming_the_field(ticket, client: Client):
    from autocrm.accounts.services import token_issue_session

    _token, secret = token_issue_session(user=User.objects.get(username="manager_a"))
    response = client.get(
        f"/api/v1/testapp/tickets/{ticket.pk}/reveal", {"field": "title"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "field" in body["fields"]


def test_ui_reveal_shows_the_full_value_once_logged(ticket, client: Client):
    client.force_login(User.objects.get(username="sales_a1"))
    response = client.get(f"/testapp/tickets/{ticket.pk}/reveal/", {"field": "mobile"})
    assert response.status_code == 200
    assert response.content.decode() == "13812345678"
    assert AuditEvent.objects.filter(action="pii.reveal", object_id=str(ticket.pk)).count() == 1
    # A role without reveal gets the 403 page; another consultant's ticket is a 404.
    client.force_login(User.objects.get(username="marketing_a1"))
    assert client.get(f"/testapp/tickets/{ticket.pk}/reveal/", {"field": "mobile"}).status_code == 403
    client.force_login(User.objects.get(username="sales_a2"))
    assert client.get(f"/testapp/tickets/{ticket.pk}/reveal/", {"field": "mobile"}).status_code == 404
    assert AuditEvent.objects.filter(action="pii.reveal").count() == 1


def test_export_is_logged_with_count_and_filters(demo):
    manager = actor_for("manager_a")
    event = export_logged(actor=manager, model=Ticket, count=42, filters={"status": "open", "q": "张"})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == "export"
    assert stored.actor_id == manager.user_id
    assert stored.store_id == manager.store_id
    assert stored.object_type == "testapp.ticket"
    assert stored.extra["count"] == 42
    assert stored.extra["filters"] == {"status": "open", "q": "张"}


def test_export_without_the_export_action_is_refused_and_audited(demo):
    sales = actor_for("sales_a1")
    with pytest.raises(PermissionDenied):
        export_logged(actor=sales, model=Ticket, count=1, filters={})
    assert not AuditEvent.objects.filter(action="export").exists()
    denied = AuditEvent.objects.get(action="authz.denied")
    assert denied.extra["attempted"] == "export"
    assert denied.object_type == "testapp.ticket"
