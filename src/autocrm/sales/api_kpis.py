"""GET /api/v1/sales-kpis: the sales KPIs of a period in the caller's scope (sales.kpis)."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied

from .permissions import sees_kpis
from .views_kpis import kpi_payload

router = Router(tags=["sales"])
PREFIX = ""


class KpiQuery(Schema):
    period: str | None = None
    start: str | None = None
    end: str | None = None
    store: str | None = None
    consultant: str | None = None


@router.get("/sales-kpis", response={200: dict})
def sales_kpis(request: ActorRequest, q: Query[KpiQuery]) -> dict[str, Any]:
    """KPIs of ``period`` (this_month, last_month, last_90_days, this_year, or custom with
    ``start`` and ``end`` as YYYY-MM-DD): totals (rates as fractions 0–1, money as decimal
    strings, ``null`` when there is nothing to divide), leads by source, lost reasons, the funnel,
    per consultant (with the ability radar) and, for the director, per store. Consultants get
    their own figures, managers and finance the store's, the director the group's (``store``
    narrows to one). ``gross_profit_per_vehicle`` is absent for roles without cost access.
    A bad parameter is a 400 naming it."""
    actor = request.actor
    if not sees_kpis(actor):
        raise PermissionDenied()
    return kpi_payload(actor, q.dict())
