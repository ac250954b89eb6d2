from __future__ import annotations

import pytest

from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.models import TimelineEvent
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.messaging.models import Suppression
from autocrm.messaging.services_suppressions import active_suppression, suppression_add_manual, suppression_lift


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def test_add_normalises_masks_and_lifts(manager):
    row = suppression_add_manual(actor=manager, channel="sms", address="138-1234-5678", source="电话投诉")
    assert row.address == "+8613812345678" and row.address_display == "138****5678"
    assert active_suppression(store_id=manager.store_id, channel="sms", address="+8613812345678") == row
    with pytest.raises(Conflict):
        suppression_add_manual(actor=manager, channel="sms", address="+86 13812345678")
    suppression_lift(actor=manager, suppression=row)
    assert active_suppression(store_id=manager.store_id, channel="sms", address="+8613812345678") is None


def test_customer_address_and_timeline(manager):
    customer = make_customer(manager, name="韩梅梅")
    row = suppression_add_manual(actor=manager, channel="sms", customer=customer)
    assert row.address == customer.mobile and row.customer == customer
    assert TimelineEvent.objects.filter(customer=customer, kind="messaging.suppressed").exists()


@pytest.mark.parametrize(("channel", "address", "field"), [
    ("sms", "12345", "address"), ("email", "not-mail", "address"), ("sms", "", "address"),
    ("inbox", "x", "channel"), ("wechat", "o'; DROP", "address"),
])  # fmt: skip
def test_bad_input(manager, channel, address, field):
    with pytest.raises(ValidationError) as exc:
        suppression_add_manual(actor=manager, channel=channel, address=address)
    assert field in exc.value.fields
    assert not Suppression.objects.exists()


def test_roles(demo):
    with pytest.raises(PermissionDenied):
        suppression_add_manual(actor=actor_for("sales_a1"), channel="sms", address="13812345678")
    row = suppression_add_manual(actor=actor_for("marketing_a1"), channel="sms", address="13812345678")
    with pytest.raises(PermissionDenied):  # marketing adds, the manager lifts
        suppression_lift(actor=actor_for("marketing_a1"), suppression=row)
