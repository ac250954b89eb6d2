"""Test data of care through the real services and events."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership, User
from autocrm.core import events
from autocrm.core.roles import Role
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.vehicles.services import vehicle_create
from autocrm.vehicles.tests.test_multistore import new_vin

_ro = itertools.count(90000)


def make_car(actor: Any) -> tuple[Any, Any]:
    customer = make_customer(actor)
    vehicle = vehicle_create(actor=actor, data={"vin": new_vin(), "plate": f"沪A{next(_ro) % 100000:05d}"},
                             customer=customer)  # fmt: skip
    return customer, vehicle


def close_repair_order(store_id: int, customer: Any, vehicle: Any, *, ro_id: int | None = None,
                       closed_at: dt.datetime | None = None) -> int:  # fmt: skip
    """What service announces when a repaired car leaves (its payload, as service sends it)."""
    from autocrm.service.events import REPAIR_ORDER_CLOSED, RepairOrderClosed

    ro_id = ro_id or next(_ro)
    payload = RepairOrderClosed(repair_order_id=ro_id, vehicle_id=vehicle.pk, customer_id=customer.pk, odometer_km=12000,
                                closed_at=closed_at or timezone.now(), job_codes=("PM10K",), recall_codes=(),
                                is_comeback=False)  # fmt: skip
    with events.capture():
        events.emit(REPAIR_ORDER_CLOSED, store_id=store_id, payload=payload)
    return ro_id


def add_agent(store: Any, username: str) -> User:
    user = User.objects.create_user(username=username, password="x-Very-long-1", organization_id=store.organization_id)
    Membership.objects.create(user=user, organization_id=store.organization_id, store=store, role=Role.AGENT)
    return user


__all__ = ["actor_for", "add_agent", "close_repair_order", "make_car", "make_customer"]
