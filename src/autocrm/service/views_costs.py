"""The store's cost basis for the service KPIs (/service/kpis/costs/, ADR 0026): the store
manager (and the director for the store they are in) sets it, the service manager reads it.
One form over ``services_kpis.service_costs_set`` (audited; 400 naming a bad field)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from autocrm.core.actor import actor_of
from autocrm.core.errors import DomainError
from autocrm.core.permissions import can

from .models_kpis import CostBasis, ServiceCosts
from .services_kpis import service_costs_get, service_costs_set

FIELDS = ("basis", "monthly_fixed_costs", "labour_cost_per_hour")


@login_required
@require_http_methods(["GET", "POST"])
def cost_basis(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    row = service_costs_get(actor=actor)
    values: dict[str, Any] = {name: getattr(row, name) for name in FIELDS}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        sent = {name: request.POST.get(name, "") for name in FIELDS}
        values |= sent
        try:
            service_costs_set(actor=actor, data=sent)
        except DomainError as exc:
            if not exc.fields:
                raise
            errors = exc.fields
        else:
            messages.success(request, str(_("Cost basis saved.")))
            return redirect("service_kpis:costs")
    context = {"row": row, "values": values, "errors": errors, "bases": CostBasis.choices,
               "can_change": can(actor, "change", ServiceCosts)}  # fmt: skip
    return render(request, "service/kpi_costs.html", context, status=400 if errors else 200)
