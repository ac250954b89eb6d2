"""The customers services announce their writes (core.events) after commit, with ids only."""

import pytest

from autocrm.core import events
from autocrm.core.errors import Conflict
from autocrm.customers import events as customer_events
from autocrm.customers.merging import customer_merge, customer_merge_undo
from autocrm.customers.services import customer_assign, customer_create, customer_update

from .factories import actor_for, make_customer


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def test_create_update_assign_emit_after_commit(manager):
    with events.capture() as captured:
        customer = make_customer(manager, name="周杰", mobile="13900001111")
        customer_update(actor=manager, customer=customer, data={"name": "周杰", "district": "徐汇区"})
        customer_update(actor=manager, customer=customer, data={"district": "徐汇区"})  # nothing changed
        customer_assign(actor=manager, customer=customer, consultant_id=actor_for("sales_a1").user_id)
    assert captured.names() == ["customers.created", "customers.updated", "customers.updated"]
    assert captured.of(customer_events.CUSTOMER_CREATED) == [customer_events.CustomerCreated(customer_id=customer.pk)]
    assert [p.fields for p in captured.of(customer_events.CUSTOMER_UPDATED)] == [("district",), ("consultant",)]
    assert {e.store_id for e in captured.delivered} == {customer.store_id}


def test_a_refused_create_emits_nothing(manager):
    make_customer(manager, name="周杰", mobile="13900001111")
    with events.capture() as captured, pytest.raises(Conflict):
        customer_create(actor=manager, data={"name": "周杰伦", "mobile": "13900001111"})
    assert captured.names() == []


def test_merge_and_undo_emit_with_ids(manager):
    a = make_customer(manager, name="钱敏")
    b = make_customer(manager, name="钱敏")
    with events.capture() as captured:
        merge = customer_merge(actor=manager, survivor=a, merged=b)
        customer_merge_undo(actor=manager, merge=merge)
    ids = {"merge_id": merge.pk, "survivor_id": a.pk, "merged_id": b.pk}
    assert captured.of(customer_events.CUSTOMER_MERGED) == [customer_events.CustomerMerged(**ids)]
    assert captured.of(customer_events.CUSTOMER_MERGE_UNDONE) == [customer_events.CustomerMergeUndone(**ids)]
    assert captured.names()[-2:] == ["customers.merged", "customers.merge_undone"]
