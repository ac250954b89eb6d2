"""GET /api/v1/service-kpis: the service KPIs of a period in the caller's scope (service.kpis)."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied

from .kpis import sees_service_kpis
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
