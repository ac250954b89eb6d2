"""GET /api/v1/service-kpis: the service KPIs of a period in the caller's scope (service.kpis);
GET/PATCH /api/v1/service-costs: the current store's cost basis those KPIs read (ADR 0026)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied

from .kpis import sees_service_kpis
from .models_kpis import ServiceCosts
from .services_kpis import service_costs_get, service_costs_set
from .views_kpis import kpi_payload

router = Router(tags=["service"])
PREFIX = ""


class ServiceKpiQuery(Schema):
    period: str | None = None
    start: str | None = None
    end: str | None = None
    store: str | None = None
    advisor: str | None = None


@router.get("/service-kpis", response={200: dict})
def service_kpis(request: ActorRequest, q: Query[ServiceKpiQuery]) -> dict[str, Any]:
    """Service KPIs of ``period`` (this_month, last_month, last_90_days, this_year, or custom with
    ``start`` and ``end`` as YYYY-MM-DD): totals (rates as fractions 0–1, money as decimal
    strings, ``null`` when there is nothing to divide), retention overall and by visit number,
    per advisor and, for the director, per store. Advisors get their own figures, the service
    and store manager the store's, the director the group's (``store`` narrows to one).
    ``gross_profit*`` and ``absorption_rate`` are absent for roles without cost access. A bad
    parameter is a 400 naming it. Definitions: ADR 0026."""
    actor = request.actor
    if not sees_service_kpis(actor):
        raise PermissionDenied()
    return kpi_payload(actor, q.dict())


class ServiceCostsOut(Schema):
    store: int
    basis: str
    monthly_fixed_costs: Decimal
    labour_cost_per_hour: Decimal
    updated_at: dt.datetime | None = None


class ServiceCostsPatch(Schema):
    """Any of the three; each is checked by the service (400 naming the field)."""

    basis: Any = None
    monthly_fixed_costs: Any = None
    labour_cost_per_hour: Any = None


def costs_out(row: ServiceCosts) -> dict[str, Any]:
    return {"store": row.store_id, "basis": row.basis, "monthly_fixed_costs": row.monthly_fixed_costs,
            "labour_cost_per_hour": row.labour_cost_per_hour, "updated_at": row.updated_at if row.pk else None}  # fmt: skip


@router.get("/service-costs", response=ServiceCostsOut)
def service_costs_read(request: ActorRequest) -> dict[str, Any]:
    """The current store's cost basis for the absorption rate and the gross profit: ``basis``
    (``store`` — all the store's fixed costs — or ``aftersales``), ``monthly_fixed_costs`` and
    ``labour_cost_per_hour`` (yuan, decimal strings); ``updated_at`` null while never set. Service
    manager, store manager and director; 403 otherwise."""
    return costs_out(service_costs_get(actor=request.actor))


@router.patch("/service-costs", response=ServiceCostsOut)
def service_costs_patch(request: ActorRequest, payload: ServiceCostsPatch) -> dict[str, Any]:
    """Change the fields sent (the others keep their value); store manager and director, audited.
    A bad value is a 400 naming the field, nothing changed."""
    row = service_costs_set(actor=request.actor, data=payload.dict(exclude_unset=True), partial=True)
    return costs_out(row)
