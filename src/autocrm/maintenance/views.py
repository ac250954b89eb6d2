"""Pages of the maintenance app: the due list (保养提醒), recalls (召回) and insurance renewals (续保)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.actor import Actor, actor_of
from autocrm.core.forms import REFUSED, run_action, run_service
from autocrm.core.permissions import can, present, require_model
from autocrm.core.views import scoped_object_or_404
from autocrm.customers.models import Customer
from autocrm.tenancy.selectors import store_names

from . import selectors, services
from .choices import Item, RateMethod, RecallStatus
from .forms import CompleteForm, RecallImportForm
from .models import RecallCampaign, VehicleDue

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _mobile(actor: Actor, customer: Any) -> Any:
    return present(actor, customer, "mobile") if customer is not None else ""


@login_required
@require_GET
def due_list(request: HttpRequest) -> HttpResponse:
    """The store's vehicles due for service in the next N weeks, for advisors to call."""
    actor = _actor(request)
    filters = {k: request.GET.get(k, "") for k in ("weeks", "item", "overdue")}
    page = selectors.due_page(actor=actor, filters=filters, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    labels = dict(Item.choices)
    methods = dict(RateMethod.choices)
    rows = [
        {"due": d, "vehicle": d.vehicle, "mobile": _mobile(actor, d.vehicle.customer),
         "labels": [labels.get(i, i) for i in d.items or []], "method": methods.get(d.rate_method, "")}
        for d in page.items
    ]  # fmt: skip
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "maintenance/due_list.html", {
        "rows": rows, "next_cursor": page.next_cursor, "filters": filters, "query": query,
        "items": Item.choices, "today": timezone.localdate(), "can_export": can(actor, "export", VehicleDue),
            })  # fmt: skip


def customer_part_context(actor: Actor, customer: Customer) -> dict[str, Any]:
    from autocrm.vehicles.selectors import vehicles_of_customer

    cars = []
    for vehicle in vehicles_of_customer(customer_id=customer.pk):
        if can(actor, "view", vehicle):
            cars.append({"vehicle": vehicle, "m": selectors.vehicle_maintenance(actor=actor, pk=vehicle.pk)})
    return {"customer": customer, "cars": cars}


@login_required
@require_GET
def customer_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The 360 page's maintenance part (next visit, due items, open recalls of each car), loaded
    after the first paint; the customer is read as the page reads it."""
    actor = _actor(request)
    customer = scoped_object_or_404(Customer, actor, pk)
    require_model(actor, "view", VehicleDue)
    context = customer_part_context(actor, customer)
    template = "maintenance/partials/customer_part.html"
    if getattr(request, "htmx", False):
        response = HttpResponse(render_to_string(template, {**context, "csrf_token": get_token(request)}))
    else:
        response = render(request, "customers/customer_part.html", {**context, "part_template": template})
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def recall_list(request: HttpRequest) -> HttpResponse:
    """Recall campaigns with their completion rate; the import form (dry run first)."""
    actor = _actor(request)
    campaigns = selectors.recall_list(actor=actor)
    may_import = can(actor, "import", RecallCampaign)
    form = RecallImportForm(request.POST or None, request.FILES or None) if may_import else None
    preview = None
    status = 200
    if request.method == "POST":
        if form is None:
            services.recall_import(actor=actor, vins=[], code="", title="")  # refuses (403), audited
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            read = run_service(form, services.recall_file_read, handle=upload, name=upload.name, size=upload.size)
            if read is not None:
                vins, file_code = read
                preview = run_service(
                    form, services.recall_import, actor=actor, vins=vins, code=form.cleaned_data["code"] or file_code,
                    title=form.cleaned_data["title"], description=form.cleaned_data["description"],
                    dry_run=form.cleaned_data["dry_run"],
                )  # fmt: skip
                if preview is not None and not form.cleaned_data["dry_run"] and preview.campaign is not None:
                    messages.success(request, _("Recall imported."))
                    return redirect("maintenance:recall_detail", pk=preview.campaign.pk)
        if preview is None:
            status = 400
    names = store_names(actor=actor, ids={c["store"] for c in campaigns})
    for c in campaigns:
        c["store_name"] = names.get(c["store"], "")
    return render(request, "maintenance/recall_list.html",
                  {"campaigns": campaigns, "form": form, "preview": preview}, status=status)  # fmt: skip


@login_required
@require_GET
def recall_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    campaign = selectors.recall_get(actor=actor, pk=pk)
    status = request.GET.get("status", "")
    rows = [
        {"rv": rv, "mobile": _mobile(actor, rv.vehicle.customer)}
        for rv in selectors.recall_vehicles(actor=actor, campaign=campaign, status=status)[:500]
    ]
    stats = next((c for c in selectors.recall_list(actor=actor) if c["id"] == campaign.pk), None)
    return render(request, "maintenance/recall_detail.html", {
        "campaign": campaign, "rows": rows, "stats": stats, "status": status, "statuses": RecallStatus.choices,
        "can_notify": can(actor, "notify", campaign), "can_complete": can(actor, "change", campaign),
        "complete_form": CompleteForm(),
    })  # fmt: skip


@login_required
@require_POST
def recall_notify(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    campaign = selectors.recall_get(actor=actor, pk=pk)
    queued = run_action(request, services.recall_notify, actor=actor, campaign=campaign)
    if queued is not REFUSED:
        messages.success(request, _("%(n)d notices queued.") % {"n": queued})
    return redirect("maintenance:recall_detail", pk=campaign.pk)


@login_required
@require_POST
def recall_complete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    rv = selectors.recalled_get(actor=actor, pk=pk)
    form = CompleteForm(request.POST)
    reference = form.data.get("reference", "") if isinstance(form.data.get("reference", ""), str) else ""
    if run_action(request, services.recall_complete, actor=actor, recalled=rv, reference=reference) is not REFUSED:
        messages.success(request, _("Recall marked as completed."))
    return redirect(reverse("maintenance:recall_detail", args=[rv.campaign_id]))


@login_required
@require_GET
def renewal_list(request: HttpRequest) -> HttpResponse:
    """Vehicles whose insurance expires in the next N days (续保), soonest first."""
    actor = _actor(request)
    page, days = selectors.insurance_renewals(
        actor=actor, days=request.GET.get("days") or None, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None
    )
    today = timezone.localdate()
    rows = [
        {"vehicle": v, "mobile": _mobile(actor, v.customer), "days": (v.insurance_expiry - today).days}
        for v in page.items
    ]
    return render(request, "maintenance/renewal_list.html",
                  {"rows": rows, "days": days, "next_cursor": page.next_cursor})  # fmt: skip


# --- the plan editor ---------------------------------------------------------------------------


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """The plans that apply in the store and, for the service manager, a store plan per series."""
    from autocrm.vehicles.models import Series

    from .models import ServicePlan

    actor = _actor(request)
    plans = selectors.plan_list(actor=actor)
    can_edit = can(actor, "add", ServicePlan)
    series = list(Series.objects.select_related("brand").order_by("brand__name", "name")[:500]) if can_edit else []
    return render(request, "maintenance/plan_list.html", {"plans": plans, "can_edit": can_edit, "series": series})


@login_required
@require_POST
def plan_override(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    plan = run_action(request, services.plan_override, actor=actor, series_id=request.POST.get("series") or None)
    if plan is REFUSED:
        return redirect("maintenance:plan_list")
    return redirect("maintenance:plan_detail", pk=plan.pk)


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan's items; the store's own plan is edited item by item (POST: one item's cycle, or
    ``delete``), each save recomputing the store's due list in the background."""
    from .models import ServicePlan

    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, pk=pk)
    if request.method == "POST":
        data: dict[str, Any] = {k: request.POST.get(k) for k in ("item", *services.PLAN_FIELDS)}
        data["fuel_types"] = request.POST.getlist("fuel_types")
        if request.POST.get("delete"):
            done = run_action(request, services.plan_item_delete, actor=actor, plan=plan, item=data["item"])
        else:
            done = run_action(request, services.plan_item_save, actor=actor, plan=plan, data=data)
        if done is not REFUSED:
            messages.success(request, _("The plan was saved; the due list is being recomputed."))
        return redirect("maintenance:plan_detail", pk=plan.pk)
    from autocrm.vehicles.choices import FuelType

    labels = dict(Item.choices)
    items = [{"row": i, "label": labels.get(i.item, i.item), "fuels": [f for f in i.fuel_types.split(",") if f]}
             for i in sorted(plan.items.all(), key=lambda i: i.item)]  # fmt: skip
    editable = plan.store_id is not None and plan.store_id == actor.store_id and can(actor, "change", ServicePlan)
    return render(request, "maintenance/plan_detail.html", {
        "plan": plan, "items": items, "editable": editable, "item_choices": Item.choices,
        "fuel_choices": FuelType.choices, "months": range(1, 13),
    })  # fmt: skip
