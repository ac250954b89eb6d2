"""The voice-of-customer page (/voc/, ADR 0035): figure cards and tables rendered on the server,
charts drawn by the vendored ECharts from the JSON endpoint beside it (the same data as
``GET /api/v1/voc``); cards below md, no sideways scroll on a phone."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.views.decorators.http import require_GET

from autocrm.core.actor import actor_of
from autocrm.core.errors import DomainError
from autocrm.core.periods import PERIOD_LABELS
from autocrm.core.permissions import Scope, require_model

from . import selectors
from .models import VocText


def _query(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    return {k: g.get(k) or None for k in ("period", "start", "end", "store", "staff")}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{number_format(round(value * 100, 1), 1)}%"


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "view", VocText)
    params = _query(request)
    errors: dict[str, Any] = {}
    try:
        data = selectors.summary_for(actor, params)
    except DomainError as exc:
        if exc.status != 400:
            raise
        errors = exc.fields or {"period": [exc.message]}
        params = {}
        data = selectors.summary_for(actor, params)
    stores = selectors.voc_stores(actor) if data["scope"] == str(Scope.ORGANIZATION) else []
    totals = data["totals"]
    context = {
        "kpi": data, "params": params, "errors": errors, "periods": PERIOD_LABELS, "stores": stores,
        "query": request.GET.urlencode() if not errors else "",
        "positive_pct": _pct(totals["positive_rate"]), "negative_pct": _pct(totals["negative_rate"]),
        "staff_rows": [{**r, "pct": _pct(r["positive_rate"])} for r in data["staff"]],
    }  # fmt: skip
    return render(request, "voc/overview.html", context, status=400 if errors else 200)


@login_required
@require_GET
def data(request: HttpRequest) -> JsonResponse:
    actor = actor_of(request)
    require_model(actor, "view", VocText)
    try:
        payload = selectors.summary_for(actor, _query(request))
    except DomainError as exc:
        if exc.status != 400:
            raise
        return JsonResponse({"code": exc.code, "message": str(exc.message),
                             "fields": {k: [str(m) for m in v] for k, v in exc.fields.items()}}, status=400)  # fmt: skip
    return JsonResponse(payload, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})
