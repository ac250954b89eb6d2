"""The parts forecast page (cards on a phone, a table on a desk): the next four weeks per part,
the stock, the suggestion, a draft order per supplier, and the keeper's item → part mapping."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.forms import REFUSED, run_action
from autocrm.core.permissions import can, require_model
from autocrm.maintenance.choices import Item
from autocrm.parts import selectors as parts_selectors
from autocrm.parts.choices import Unit
from autocrm.parts.models import PurchaseOrder

from . import selectors, services
from .models import ItemPart


@login_required
@require_GET
def forecast(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    result = selectors.store_forecast(actor=actor, store=request.GET.get("store") or None)
    units = {value: str(label) for value, label in Unit.choices}
    items = {value: str(label) for value, label in Item.choices}
    suppliers: dict[int, dict[str, Any]] = {}
    for r in result.rows:
        r["unit"] = units.get(r["part"].unit, r["part"].unit)
        s = r["part"].supplier
        if s is not None and r["forecast"].suggested > 0:
            suppliers.setdefault(s.pk, {"supplier": s, "lines": 0})["lines"] += 1
    mapping = [{"row": m, "item": items.get(m.item, m.item)} for m in selectors.mapping_of(result.store_id)[1]]
    own_store = result.store_id == actor.store_id
    return render(request, "partsforecast/forecast.html", {
        "result": result, "rows": result.rows, "show_rate_pct": int(result.show_rate * 100),
        "week_numbers": list(range(1, result.weeks + 1)), "mapping": mapping, "items": Item.choices,
        "suppliers": list(suppliers.values()) if own_store and can(actor, "add", PurchaseOrder) else [],
        "can_map": own_store and can(actor, "change", ItemPart),
    })  # fmt: skip


@login_required
@require_POST
def mapping_set(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    data = {k: request.POST.get(k) for k in ("item", "part_number", "quantity")}
    if run_action(request, services.item_part_set, actor=actor, data=data) is not REFUSED:
        messages.success(request, _("The parts of the plan item were saved."))
    return redirect("partsforecast:forecast")


@login_required
@require_POST
def order_from_forecast(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "add", PurchaseOrder)  # before the supplier is looked up: 403, not 404
    supplier = parts_selectors.supplier_get(
        actor=actor, pk=parts_selectors._id(request.POST.get("supplier"), "supplier")
    )
    order = run_action(request, services.po_from_forecast, actor=actor, supplier=supplier)
    if order is REFUSED:
        return redirect("partsforecast:forecast")
    messages.success(request, _("Draft order made from the parts forecast."))
    return redirect("parts:po_detail", pk=order.pk)
