"""The sales KPI page (/sales/kpis/): figure cards rendered on the server (so a role without
cost access never receives the gross profit, not even in the markup), charts drawn by the
vendored ECharts from the JSON endpoint beside it (the same data as ``GET /api/v1/sales-kpis``).
A home panel for the sales manager and the store manager: today's funnel of the store."""

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
from .permissions import sees_kpis


def _query(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    return {k: g.get(k) or None for k in ("period", "start", "end", "store", "consultant")}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{number_format(round(value * 100, 1), 1)}%"


def _num(value: Any, unit: Any = "") -> str:
    return "—" if value is None else f"{number_format(value, 1 if isinstance(value, float) else 0)}{unit}"


def kpi_cards(totals: dict[str, Any], *, cost_visible: bool) -> list[dict[str, Any]]:
    """The figure cards of the page, formatted (a missing figure is "—")."""
    cards = [
        ("leads", _("Leads"), _num(totals["leads"]), _("Leads that arrived in the period")),
        ("lead_to_visit_rate", _("Lead-to-visit rate"), _pct(totals["lead_to_visit_rate"]),
         _("Leads that came to the store")),
        ("visit_to_order_rate", _("Visit-to-order rate"), _pct(totals["visit_to_order_rate"]),
         _("Visitors who ordered")),
        ("test_drive_rate", _("Test-drive rate"), _pct(totals["test_drive_rate"]), _("Visitors who test-drove")),
        ("lead_to_deal_rate", _("Lead-to-deal rate"), _pct(totals["lead_to_deal_rate"]),
         _("Leads that became a delivery")),
        ("first_response_median_minutes", _("First response (median)"),
         _num(totals["first_response_median_minutes"], _(" min")),
         _("90th percentile: %(p90)s; on time: %(on_time)s") % {
             "p90": _num(totals["first_response_p90_minutes"], _(" min")),
             "on_time": _pct(totals["first_response_on_time_rate"])}),
        ("deliveries", _("Deliveries"), _num(totals["deliveries"]), _("Cars delivered in the period")),
        ("deal_cycle_median_days", _("Deal cycle (median)"), _num(totals["deal_cycle_median_days"], _(" days")),
         _("From the lead's arrival to delivery")),
        ("finance_penetration", _("Finance penetration"), _pct(totals["finance_penetration"]),
         _("Deliveries with a loan through the store")),
        ("insurance_penetration", _("Insurance penetration"), _pct(totals["insurance_penetration"]),
         _("Deliveries insured through the store")),
        ("repurchase_rate", _("Repurchase rate"), _pct(totals["repurchase_rate"]),
         _("Buyers with two or more cars from us")),
    ]  # fmt: skip
    if cost_visible:
        gp = totals.get("gross_profit_per_vehicle")
        cards.insert(7, ("gross_profit_per_vehicle", _("Gross profit per vehicle"), "—" if gp is None else f"¥{gp}",
                         _("Agreed price minus the car's cost")))  # fmt: skip
    return [{"key": k, "label": label, "value": value, "hint": hint} for k, label, value, hint in cards]


def kpi_payload(actor: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The KPIs a page or an API request asks for (400 naming a bad parameter)."""
    period = kpis.period_parse(params.get("period"), start=params.get("start"), end=params.get("end"))
    return kpis.sales_kpis(actor=actor, period=period, store=params.get("store"), consultant=params.get("consultant"))


@login_required
@require_GET
def kpi_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not sees_kpis(actor):
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
    rows = [{**r, "visit": _pct(r["lead_to_visit_rate"]), "order": _pct(r["visit_to_order_rate"]),
             "drive": _pct(r["test_drive_rate"]), "deal": _pct(r["lead_to_deal_rate"]),
             "finance": _pct(r["finance_penetration"]), "gp": r.get("gross_profit_per_vehicle")}
            for r in data["consultants"]]  # fmt: skip
    store_rows = [{**r, "visit": _pct(r["lead_to_visit_rate"]), "deal": _pct(r["lead_to_deal_rate"]),
                   "gp": r.get("gross_profit_per_vehicle")} for r in data["stores"]]  # fmt: skip
    query = request.GET.urlencode() if not errors else ""
    context = {"kpi": data, "cards": kpi_cards(data["totals"], cost_visible=data["cost_visible"]), "params": params, "errors": errors, "periods": kpis.PERIOD_LABELS,
               "stores": stores, "query": query, "rows": rows, "store_rows": store_rows}  # fmt: skip
    return render(request, "sales/kpis.html", context, status=400 if errors else 200)


@login_required
@require_GET
def kpi_data(request: HttpRequest) -> JsonResponse:
    """The page's charts' data (session auth); the API answers the same for tokens."""
    actor = actor_of(request)
    if not sees_kpis(actor):
        raise PermissionDenied()
    try:
        data = kpi_payload(actor, _query(request))
    except DomainError as exc:
        if exc.status != 400:
            raise
        return JsonResponse({"code": exc.code, "message": str(exc.message),
                             "fields": {k: [str(m) for m in v] for k, v in exc.fields.items()}}, status=400)  # fmt: skip
    return JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})


def panel_funnel(request: ActorRequest) -> dict[str, Any] | None:
    """Today's funnel of the store on the sales manager's and the store manager's home."""
    actor = request.actor
    if not sees_kpis(actor):
        return None
    funnel = kpis.today_funnel(actor=actor)
    return None if funnel is None else {"funnel": funnel}
