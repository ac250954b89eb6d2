"""Role scopes through ``for_actor``, 404/403 at the edges, field rules and token scopes,
exercised on the test app's Ticket for every staff role."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from testapp.factories import LOGIN_OF_ROLE, actor_for, store, ticket_make
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.accounts.services import membership_set, token_create, token_issue_session, user_create
from autocrm.audit.models import AuditEvent
from autocrm.core import permissions
from autocrm.core.errors import NotFound, PermissionDenied
from autocrm.core.roles import Role

ACTIONS = ("view", "add", "change", "delete", "reveal", "export", "audit")
MISSING_PK = 987654321


@pytest.fixture
def world(demo):
    """Tickets in store a (owned by two consultants, an advisor, nobody) and in store b."""
    return {
        "a_sales1": ticket_make("a", owner="sales_a1", title="a-sales1"),
        "a_sales2": ticket_make("a", owner="sales_a2", title="a-sales2"),
        "a_advisor": ticket_make("a", owner="advisor_a1", title="a-advisor"),
        "a_none": ticket_make("a", title="a-unassigned"),
        "b_sales1": ticket_make("b", owner="sales_b1", title="b-sales1"),
        "b_none": ticket_make("b", title="b-unassigned"),
    }


EXPECTED_VIEW = {
    "sales": {"a_sales1"},
    "advisor": {"a_advisor", "a_none"},
    "agent": {"a_sales1", "a_sales2", "a_advisor", "a_none"},
    "marketing": {"a_sales1", "a_sales2", "a_advisor", "a_none"},
    "manager": {"a_sales1", "a_sales2", "a_advisor", "a_none"},
    "sales_manager": {"a_sales1", "a_sales2", "a_advisor", "a_none"},
    "service_manager": {"a_sales1", "a_sales2", "a_advisor", "a_none"},
    "finance": {"a_sales1", "a_sales2", "a_advisor", "a_none"},
    "technician": set(),
    "director": {"a_sales1", "a_sales2", "a_advisor", "a_none", "b_sales1", "b_none"},
    "admin": set(),
}


def test_every_role_is_covered():
    assert set(EXPECTED_VIEW) == set(Role.values) == set(LOGIN_OF_ROLE)


@pytest.mark.parametrize("role", Role.values)
def test_for_actor_applies_each_roles_scope(world, role):
    username, store_code = LOGIN_OF_ROLE[role]
    actor = actor_for(username, store_code)
    assert actor.role == role
    names = {
        name
        for name, t in world.items()
        if t.pk in set(Ticket.objects.for_actor(actor, "view").values_list("pk", flat=True))
    }
    assert names == EXPECTED_VIEW[role]


@pytest.mark.parametrize("role", Role.values)
def test_can_agrees_with_for_actor_for_every_action_and_row(world, role):
    username, store_code = LOGIN_OF_ROLE[role]
    actor = actor_for(username, store_code)
    for action in ACTIONS:
        allowed = set(Ticket.objects.for_actor(actor, action).values_list("pk", flat=True))
        for ticket in world.values():
            assert permissions.can(actor, action, ticket) == (ticket.pk in allowed), (role, action, ticket.title)
        if not permissions.can(actor, action, Ticket):
            assert allowed == set(), (role, action)


def test_get_in_scope_out_of_scope_is_not_found_like_missing(world):
    sales = actor_for("sales_a1")
    for pk in (world["a_sales2"].pk, world["b_sales1"].pk, MISSING_PK, "not-a-number"):
        with pytest.raises(NotFound):
            permissions.get_in_scope(Ticket, sales, pk)
    assert permissions.get_in_scope(Ticket, sales, world["a_sales1"].pk) == world["a_sales1"]


@pytest.mark.parametrize(
    ("role", "action"), [("agent", "change"), ("marketing", "delete"), ("advisor", "reveal"), ("director", "change")]
)
def test_in_scope_but_action_not_allowed_is_403_and_audited(world, role, action):
    username, store_code = LOGIN_OF_ROLE[role]
    actor = actor_for(username, store_code)
    ticket = world["a_none"] if role != "advisor" else world["a_advisor"]
    with pytest.raises(PermissionDenied):
        permissions.get_in_scope(Ticket, actor, ticket.pk, action)
    event = AuditEvent.objects.filter(action="authz.denied").latest("id")
    assert event.actor_id == actor.user_id
    assert (event.object_type, event.object_id) == ("testapp.ticket", str(ticket.pk))
    assert event.extra["attempted"] == action
    assert event.store_id == ticket.store_id


def _page(response, pk) -> bytes:
    """The 404 page with the two things that legitimately differ between two requests masked:
    the requested path (echoed by the language switch) and the per-request CSRF token."""
    body = response.content.replace(f"/testapp/tickets/{pk}/".encode(), b"/testapp/tickets/<pk>/")
    return re.sub(rb'(csrfmiddlewaretoken" value="|csrf-token" content="|"X-CSRFToken": ")[^"]*', rb"\1<csrf>", body)


def test_out_of_scope_is_404_in_the_ui_byte_identical_to_missing(world, client: Client):
    client.force_login(User.objects.get(username="sales_a1"))
    own = client.get(f"/testapp/tickets/{world['a_sales1'].pk}/")
    assert own.status_code == 200
    missing = client.get(f"/testapp/tickets/{MISSING_PK}/")
    assert missing.status_code == 404
    for name in ("a_sales2", "b_sales1", "b_none"):
        pk = world[name].pk
        response = client.get(f"/testapp/tickets/{pk}/")
        assert response.status_code == 404
        assert _page(response, pk) == _page(missing, MISSING_PK)
        assert world[name].title.encode() not in response.content


def _bearer(user: User) -> dict[str, str]:
    _token, secret = token_issue_session(user=user)
    return {"Authorization": f"Bearer {secret}"}


def test_out_of_scope_is_404_in_the_api_byte_identical_to_missing(world, client: Client):
    headers = _bearer(User.objects.get(username="sales_a1"))
    own = client.get(f"/api/v1/testapp/tickets/{world['a_sales1'].pk}", headers=headers)
    assert own.status_code == 200
    assert own.json()["title"] == "a-sales1"
    missing = client.get(f"/api/v1/testapp/tickets/{MISSING_PK}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    for name in ("a_sales2", "b_sales1", "b_none"):
        response = client.get(f"/api/v1/testapp/tickets/{world[name].pk}", headers=headers)
        assert response.status_code == 404
        assert response.content == missing.content


def test_admin_sees_no_tenant_data_in_ui_or_api(world, client: Client):
    admin = User.objects.get(username="admin")
    client.force_login(admin)
    assert client.get(f"/testapp/tickets/{world['a_none'].pk}/").status_code == 404
    assert client.get(f"/api/v1/testapp/tickets/{world['a_none'].pk}", headers=_bearer(admin)).status_code == 404


def test_forbidden_action_through_the_api_is_403_with_the_error_shape(world, client: Client):
    advisor = User.objects.get(username="advisor_a1")
    response = client.get(
        f"/api/v1/testapp/tickets/{world['a_advisor'].pk}/reveal", {"field": "mobile"}, headers=_bearer(advisor)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert AuditEvent.objects.filter(
        action="authz.denied", actor=advisor, object_id=str(world["a_advisor"].pk)
    ).exists()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


# --- field-level rules ------------------------------------------------------------------------

HIDES_COST = {"sales", "agent", "advisor"}


@pytest.mark.parametrize("role", [r for r in Role.values if r not in ("admin", "technician")])
def test_cost_price_hidden_and_mobile_masked_by_role(world, role, client: Client):
    username, store_code = LOGIN_OF_ROLE[role]
    actor = actor_for(username, store_code)
    ticket = next(
        t for t in world.values() if t.pk in set(Ticket.objects.for_actor(actor).values_list("pk", flat=True))
    )
    fields = permissions.visible_fields(actor, ticket, ["title", "mobile", "id_number", "cost_price"])
    assert fields["mobile"] == "138****5678"
    assert fields["id_number"] == "*****************X"
    body = client.get(
        f"/api/v1/testapp/tickets/{ticket.pk}", headers=_bearer(User.objects.get(username=username))
    ).json()
    assert body["mobile"] == "138****5678"
    assert "13812345678" not in str(body)
    if role in HIDES_COST:
        assert permissions.present(actor, ticket, "cost_price") is None
        assert "cost_price" not in fields
        assert body["cost_price"] is None
    else:
        assert str(permissions.present(actor, ticket, "cost_price")) == "88000.00"
        assert body["cost_price"] == "88000.00"


def test_ui_shows_the_mobile_masked(world, client: Client):
    client.force_login(User.objects.get(username="manager_a"))
    body = client.get(f"/testapp/tickets/{world['a_none'].pk}/").content.decode()
    assert "138****5678" in body
    assert "13812345678" not in body


def test_reveal_gives_the_full_value_and_logs_it(world, client: Client):
    sales = User.objects.get(username="sales_a1")
    ticket = world["a_sales1"]
    response = client.get(f"/api/v1/testapp/tickets/{ticket.pk}/reveal", {"field": "mobile"}, headers=_bearer(sales))
    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": "13812345678"}
    event = AuditEvent.objects.get(action="pii.reveal")
    assert (event.actor_id, event.object_id, event.extra) == (sales.pk, str(ticket.pk), {"field": "mobile"})
    # Out of scope stays 404 for a reveal too, and nothing is logged as revealed.
    other = client.get(
        f"/api/v1/testapp/tickets/{world['a_sales2'].pk}/reveal", {"field": "mobile"}, headers=_bearer(sales)
    )
    assert other.status_code == 404
    assert AuditEvent.objects.filter(action="pii.reveal").count() == 1


# --- several stores, token scopes -------------------------------------------------------------


@pytest.fixture
def multi_manager(world):
    user = user_create(organization_id=store("a").organization_id, username="manager_ab", password="x-unused-pass-1")
    membership_set(user=user, role=Role.MANAGER, store_id=store("a").pk)
    membership_set(user=user, role=Role.MANAGER, store_id=store("b").pk)
    return user


def test_multi_store_manager_sees_only_the_current_store(world, multi_manager, client: Client):
    in_a = actor_for("manager_ab", "a")
    in_b = actor_for("manager_ab", "b")
    assert set(in_a.member_store_ids) == {store("a").pk, store("b").pk}
    titles_a = set(Ticket.objects.for_actor(in_a).values_list("title", flat=True))
    titles_b = set(Ticket.objects.for_actor(in_b).values_list("title", flat=True))
    assert titles_a == {"a-sales1", "a-sales2", "a-advisor", "a-unassigned"}
    assert titles_b == {"b-sales1", "b-unassigned"}
    # The API follows the store the request picks.
    headers = _bearer(multi_manager)
    b_pk = world["b_none"].pk
    assert (
        client.get(f"/api/v1/testapp/tickets/{b_pk}", headers={**headers, "X-Store": str(store("a").pk)}).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/testapp/tickets/{b_pk}", headers={**headers, "X-Store": str(store("b").pk)}).status_code
        == 200
    )


def test_a_token_without_the_resource_scope_sees_nothing(world, client: Client):
    narrow = actor_for("manager_a", token_scopes=frozenset({"leads:read"}))
    assert not Ticket.objects.for_actor(narrow, "view").exists()
    assert not permissions.can(narrow, "view", world["a_none"])
    read_only = actor_for("manager_a", token_scopes=frozenset({"customers:read"}))
    assert Ticket.objects.for_actor(read_only, "view").count() == 4
    assert not Ticket.objects.for_actor(read_only, "change").exists()
    # End to end: an administrator's integration token for the manager, scoped to leads only.
    admin = actor_for("admin")
    _token, secret = token_create(
        actor=admin, user=User.objects.get(username="manager_a"), name="crm sync", scopes=["leads:read"]
    )
    response = client.get(
        f"/api/v1/testapp/tickets/{world['a_none'].pk}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 404
