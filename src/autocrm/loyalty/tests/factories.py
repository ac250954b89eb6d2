"""Test data for loyalty, through the real services (and after-sales' for a bill)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.loyalty import services
from autocrm.loyalty.models import Membership
from autocrm.tenancy.models import Store


def store_id(code: str = "a") -> int:
    return Store.objects.get(code=code).pk


def member(store: str = "a", *, points: int = 0, customer: Any = None) -> Membership:
    actor = actor_for(f"advisor_{store}1", store)
    customer = customer or make_customer(actor)
    m = services.membership_ensure(customer_id=customer.pk, store_id=store_id(store))
    if points:
        services.award_points(customer_id=customer.pk, store_id=m.store_id, points=points, source="partner",
                              source_ref="seed", idempotency_key=f"seed:{m.pk}")  # fmt: skip
        m.refresh_from_db()
    return m


def ro_at_quality_check(actor: Any, customer: Any, *, labour: str = "1000", parts: str = "0", code: str = "OIL") -> Any:
    """A repair order of ``customer`` with one approved, done job (and a part line) at 质检."""
    from autocrm.service.models import Job, PartLine, RepairOrder
    from autocrm.service.tests.factories import make_car
    from autocrm.vehicles.models import Vehicle

    vehicle = Vehicle.objects.filter(customer=customer).first()  # scoped: the test's customer
    if vehicle is None:
        _c, vehicle = make_car(actor, customer=customer)
    ro = RepairOrder.objects.create(store_id=customer.store_id, customer=customer, vehicle=vehicle, advisor=actor.user,
                                    number=f"RO{customer.pk:08d}{RepairOrder.objects.count()}", odometer_km=1000,
                                    status="quality_check")  # fmt: skip
    Job.objects.create(store_id=ro.store_id, repair_order=ro, code=code, name="保养", hours=Decimal("1"),
                       rate=Decimal(labour), approval="approved", progress="done")  # fmt: skip
    if Decimal(parts):
        PartLine.objects.create(store_id=ro.store_id, repair_order=ro, part_number="P-1", name="机滤",
                                quantity=Decimal("1"), unit_price=Decimal(parts), approval="approved")  # fmt: skip
    return ro


__all__ = ["actor_for", "make_customer", "member", "ro_at_quality_check", "store_id"]
