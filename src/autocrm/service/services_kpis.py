"""Writing the store's cost basis for the service KPIs (ADR 0026)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied
from autocrm.core.permissions import can

from .models_kpis import CostBasis, ServiceCosts


@transaction.atomic
def service_costs_set(*, actor: Actor, data: Mapping[str, Any], partial: bool = False) -> ServiceCosts:
    """Set the actor's store's cost basis, monthly fixed costs and labour cost per hour (400
    naming a bad field, 403 for a role that may not change it). ``partial``: the fields not sent
    keep their value (the API's PATCH)."""
    if actor is None or actor.store_id is None or not can(actor, "change", ServiceCosts):
        raise PermissionDenied()
    if partial:
        current = service_costs_get(actor=actor)
        data = {"basis": current.basis, "monthly_fixed_costs": current.monthly_fixed_costs,
                "labour_cost_per_hour": current.labour_cost_per_hour, **data}  # fmt: skip
    errors = inputs.Errors()
    basis = inputs.choice(errors, data, "basis", CostBasis, default=CostBasis.STORE)
    monthly = inputs.money(errors, data.get("monthly_fixed_costs"), "monthly_fixed_costs", required=True)
    labour = inputs.money(errors, data.get("labour_cost_per_hour"), "labour_cost_per_hour")
    errors.raise_if_any()
    assert monthly is not None  # required: raise_if_any answered a missing one
    costs, _created = ServiceCosts.objects.select_for_update().get_or_create(  # scoped: the actor's own store
        store_id=actor.store_id, defaults={"basis": basis, "monthly_fixed_costs": monthly}
    )
    costs.basis, costs.monthly_fixed_costs = basis, monthly
    if labour is not None:
        costs.labour_cost_per_hour = labour
    costs.save()
    audit.record("service_costs.set", obj=costs, actor=actor)
    return costs


def service_costs_get(*, actor: Actor) -> ServiceCosts:
    """The actor's store's cost basis (unsaved defaults when the store has none yet): for the
    roles that may read it (service manager, store manager, director), 403 otherwise."""
    if actor is None or actor.store_id is None or not can(actor, "view", ServiceCosts):
        raise PermissionDenied()
    row = ServiceCosts.objects.filter(store_id=actor.store_id).first()  # scoped: the actor's own store
    return row if row is not None else ServiceCosts(store_id=actor.store_id)
