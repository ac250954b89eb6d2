"""Model-level denials are audited like object-level ones, once per request per model and action;
every 403 leaves an authz.denied event; child models follow their parent's rule."""

from __future__ import annotations

import pytest
from django.test import Client
from testapp.factories import actor_for

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core import audit, permissions
from autocrm.core.errors import PermissionDenied
from autocrm.customers.models import Consent, Customer
from autocrm.vehicles.models import OdometerReading, Vehicle


def _denials(**filters):
    return list(AuditEvent.objects.filter(action="authz.denied", **filters).order_by("id"))


def test_a_model_level_denial_is_recorded_once_per_request_per_model_and_action(demo):
    tech = actor_for("tech_a1")
    with audit.durable_scope():  # what the request middleware opens around each request
        for _ in range(3):
            assert not Customer.objects.for_actor(tech, "view").exists()
        Customer.objects.for_actor(tech, "export")
    events = _denials(actor_label="tech_a1")
    assert [(e.object_type, e.extra["attempted"], e.extra["level"]) for e in events] == [
        ("customers.customer", "view", "model"),
        ("customers.customer", "export", "model"),
    ]
    assert events[0].store_id == tech.store_id
    with audit.durable_scope():  # the next request records again
        Customer.objects.for_actor(tech, "view")
    assert len(_denials(actor_label="tech_a1")) == 3


def test_require_model_refuses_with_403_and_records_it(demo):
    tech = actor_for("tech_a1")
    with pytest.raises(PermissionDenied):
        permissions.require_model(tech, "view", Customer)
    assert permissions.require_model(actor_for("manager_a"), "view", Customer) is permissions.Scope.STORE
    assert len(_denials(actor_label="tech_a1", object_type="customers.customer")) == 1


def test_a_can_question_records_nothing(demo):
    tech = actor_for("tech_a1")
    assert not permissions.can(tech, "view", Customer)  # menus and buttons ask this on every page
    assert _denials() == []


def test_every_403_page_and_api_answer_leaves_one_event(demo):
    client = Client()
    client.force_login(User.objects.get(username="tech_a1"))
    assert client.get("/customers/").status_code == 403  # the view refuses on ``can`` alone
    (event,) = _denials(actor_label="tech_a1")
    assert event.extra["path"] == "/customers/" and event.extra["role"] == "technician"
    headers = {"Authorization": f"Bearer {token_issue_session(user=User.objects.get(username='tech_a1'))[1]}"}
    assert client.get("/api/v1/customers", headers=headers).status_code == 403
    assert len(_denials(actor_label="tech_a1")) == 2  # the selector's own record, no second one


def test_children_follow_their_parents_rule(demo):
    table = permissions.rule_table()
    assert table["customers.consent"]["sales"].actions == frozenset({"view", "add", "change", "delete"})
    assert table["customers.consent"]["marketing"].actions == frozenset({"view", "export"})
    assert "finance" in table["vehicles.odometerreading"]
    assert table["vehicles.odometerreading"]["finance"].actions == frozenset({"view"})  # no change on the car
    sales, agent = actor_for("sales_a1"), actor_for("agent_a1")
    assert permissions.scope_for(sales, Consent, "add") is permissions.Scope.OWN
    assert permissions.scope_for(agent, OdometerReading, "add") is None  # agents may not change vehicles
    assert permissions.scope_for(actor_for("advisor_a1"), OdometerReading, "add") is permissions.Scope.STORE
    # a token limited to customers may read consents (their resource is the customer's), not vehicles
    token_actor = actor_for("manager_a", token_scopes=frozenset({"customers:read"}))
    assert permissions.can(token_actor, "view", Consent)
    assert not permissions.can(token_actor, "view", Vehicle)


def test_a_consultant_reads_the_consents_of_their_own_customers_only(demo):
    manager = actor_for("manager_a")
    from autocrm.customers.tests.factories import make_customer

    own = make_customer(manager, consultant_id=User.objects.get(username="sales_a1").pk)
    other = make_customer(manager, name="李娜", consultant_id=User.objects.get(username="sales_a2").pk)
    for customer in (own, other):
        Consent.objects.create(store_id=customer.store_id, customer=customer, purpose="service", channel="sms")
    visible = set(Consent.objects.for_actor(actor_for("sales_a1"), "view").values_list("customer_id", flat=True))
    assert visible == {own.pk}
