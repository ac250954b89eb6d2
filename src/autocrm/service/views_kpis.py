"""The service KPI page (/service/kpis/, ADR 0026): figure cards rendered on the server (a role
without cost access never receives the gross profit or the absorption rate, not even in the
markup), charts drawn by the vendored ECharts from the JSON endpoint beside it (the same data
as ``GET /api/v1/service-kpis``). A home panel for the service and store manager: today's
workshop (throughput, bays in use, revenue per RO)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from autocrm.core.actor import ActorRequest, actor_of
from autocrm.core.errors import DomainError, PermissionDenied
from autocrm.core.permissions import Scope

from . import kpis


def _query(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    return {k: g.get(k) or None for k in ("period", "start", "end", "store", "advisor")}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{number_format(round(value * 100, 1), 1)}%"


def _num(value: Any, unit: Any = "") -> str:
    return "—" if value is None else f"{number_format(value, 1 if isinstance(value, float) else 0)}{unit}"


def _yuan(value: str | None) -> str:
    return "—" if value is None else f"¥{value}"


def kpi_cards(totals: dict[str, Any], *, cost_visible: bool) -> list[dict[str, Any]]:
    cards = [
        ("repair_orders", _("Car throughput"), _num(totals["repair_orders"]),
         _("Repair orders delivered; %(n)s cars") % {"n": totals["vehicles"]}),
        ("revenue_per_ro", _("Revenue per RO"), _yuan(totals["revenue_per_ro"]), _("Bills net of VAT")),
        ("avg_hours_in_shop", _("Average time in shop"), _num(totals["avg_hours_in_shop"], _(" h")),
         _("From reception to delivery")),
        ("first_time_fix_rate", _("First-time-fix rate"), _pct(totals["first_time_fix_rate"]),
         _("Not followed by a comeback for the same job")),
        ("comeback_rate", _("Comeback rate"), _pct(totals["comeback_rate"]), _("Delivered repair orders that were comebacks")),
        ("estimate_approval_rate", _("Estimate approval rate"), _pct(totals["estimate_approval_rate"]),
         _("Lines the owner approved of those answered")),
        ("retention_rate", _("Retention"), _pct(totals["retention_rate"]),
         _("Cars back for their next service within the interval and grace")),
        ("in_shop", _("In the shop now"), _num(totals["in_shop"]), _("Cars received and not yet delivered")),
    ]  # fmt: skip
    if cost_visible:
        cards.insert(2, ("gross_profit_per_ro", _("Gross profit per RO"), _yuan(totals.get("gross_profit_per_ro")),
                         _("Net revenue minus parts' and labour cost")))  # fmt: skip
        cards.append(("absorption_rate", _("Absorption rate"), _pct(totals.get("absorption_rate")),
                      _("After-sales gross profit ÷ the store's fixed costs")))  # fmt: skip
    return [{"key": k, "label": label, "value": value, "hint": hint} for k, label, value, hint in cards]


def kpi_payload(actor: Any, params: dict[str, Any]) -> dict[str, Any]:
    period = kpis.period_parse(params.get("period"), start=params.get("start"), end=params.get("end"))
    return kpis.service_kpis(actor=actor, period=period, store=params.get("store"), advisor=params.get("advisor"))


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "ftf": _pct(r["first_time_fix_rate"]), "comeback": _pct(r["comeback_rate"]),
             "approval": _pct(r["estimate_approval_rate"]), "hours": _num(r["avg_hours_in_shop"]),
             "revenue_ro": _yuan(r["revenue_per_ro"]), "gp_ro": _yuan(r.get("gross_profit_per_ro")),
             "retention": _pct(r.get("retention_rate")), "absorption": _pct(r.get("absorption_rate"))}
            for r in rows]  # fmt: skip


@login_required
@require_GET
def kpi_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not kpis.sees_service_kpis(actor):
        raise PermissionDenied()
    params = _query(request)
    errors: dict[str, Any] = {}
    try:
        data = kpi_payload(actor, params)
    except DomainError as exc:
        if exc.status != 400:
            raise
        errors = exc.fields or {"period": [exc.message]}
        params = {}
        data = kpi_payload(actor, params)
    stores = kpis.kpi_stores(actor) if data["scope"] == str(Scope.ORGANIZATION) else []
    context = {"kpi": data, "cards": kpi_cards(data["totals"], cost_visible=data["cost_visible"]), "params": params,
               "errors": errors, "periods": kpis.PERIOD_LABELS, "stores": stores,
               "query": request.GET.urlencode() if not errors else "",
               "rows": _rows(data["advisors"]), "store_rows": _rows(data["stores"]),
               "retention": [{**v, "pct": _pct(v["rate"])} for v in data["retention"]["by_visit"]]}  # fmt: skip
    return render(request, "service/kpis.html", context, status=400 if errors else 200)


@login_required
@require_GET
def kpi_data(request: HttpRequest) -> JsonResponse:
    actor = actor_of(request)
    if not kpis.sees_service_kpis(actor):
        raise PermissionDenied()
    try:
        data = kpi_payload(actor, _query(request))
    except DomainError as exc:
        if exc.status != 400:
            raise
        return JsonResponse({"code": exc.code, "message": str(exc.message),
                             "fields": {k: [str(m) for m in v] for k, v in exc.fields.items()}}, status=400)  # fmt: skip
    return JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})


def panel_workshop(request: ActorRequest) -> dict[str, Any] | None:
    """Today's workshop on the service manager's and the store manager's home."""
    data = kpis.today_workshop(actor=request.actor)
    if data is None:
        return None
    return {**data, "bays_pct": _pct(data["bays_rate"]), "hours": _num(data["avg_hours_in_shop"], _(" h")),
            "revenue": _yuan(data["revenue_per_ro"]), "gp": _yuan(data["gross_profit_per_ro"])}  # fmt: skip
