"""Pages of prepaid plans (保养套餐), extended warranty (延保), accessories (精品/改装), the offer
list and insurer direct billing (直赔) (ADR 0025). The repair order's page and the customer
360 page load their parts lazily (``ro_extras``, ``customer_plans``); each POST calls one
service through ``run_action``; 404/403 are the middleware's."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.errors import DomainError
from autocrm.core.forms import REFUSED, error_text, run_action
from autocrm.core.permissions import can, get_in_scope, require_model
from autocrm.core.sensitive import export_logged
from autocrm.customers.models import Customer
from autocrm.vehicles.models import Vehicle

from . import accessories, insurance, plans, selectors
from .choices_plans import AccessoryCategory, PlanKind, ShareKind, VehiclePlanStatus
from .models import Accessory, InsuranceClaim, PlanProduct, VehiclePlan


def _ro_url(pk: int) -> str:
    return reverse("service:repair_order_detail", args=[pk])


def _post(request: HttpRequest, *names: str) -> dict[str, Any]:
    return {k: request.POST.get(k) for k in names if k in request.POST}


# --- plans ---------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """The store's plan products and the latest plans sold or given."""
    actor = actor_of(request)
    require_model(actor, "view", VehiclePlan)
    products = list(plans.plan_product_list(actor=actor)[:200]) if can(actor, "view", PlanProduct) else []
    recent = list(plans.vehicle_plan_list(actor=actor)[:50])
    for plan in recent:
        plan.current_status = plans.effective_status(plan)  # type: ignore[attr-defined]
    return render(request, "service/plans/plan_list.html", {
        "products": products, "recent": recent, "kinds": PlanKind.choices,
        "statuses": dict(VehiclePlanStatus.choices), "can_add": can(actor, "add", PlanProduct),
    })  # fmt: skip


@login_required
@require_POST
def plan_product_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    data = _post(request, "code", "name", "kind", "services", "validity_months", "price", "covered_codes",
                 "warranty_km", "coverage", "give_with_delivery")  # fmt: skip
    data["cover_parts"] = request.POST.get("cover_parts") == "on"
    if run_action(request, plans.plan_product_create, actor=actor, data=data) is not REFUSED:
        messages.success(request, _("Plan saved."))
    return redirect("service:plan_list")


@login_required
@require_GET
def vehicle_plans(request: HttpRequest, pk: int) -> HttpResponse:
    """One vehicle's plans and balance, the sale of a plan, cancellation."""
    actor = actor_of(request)
    require_model(actor, "view", VehiclePlan)
    vehicle = get_in_scope(Vehicle.objects.select_related("customer"), actor, pk)
    return render(request, "service/plans/vehicle_plans.html", {
        "vehicle": vehicle, "plans": plans.plans_for_vehicle(actor=actor, vehicle_id=vehicle.pk),
        "products": list(plans.plan_product_list(actor=actor, active=True)[:100]),
        "statuses": dict(VehiclePlanStatus.choices), "can_sell": can(actor, "add", VehiclePlan),
        "can_cancel": can(actor, "cancel", VehiclePlan),
    })  # fmt: skip


@login_required
@require_POST
def vehicle_plan_sell(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    vehicle = get_in_scope(Vehicle.objects.all(), actor, pk)
    product = plans.plan_product_get(actor=actor, pk=request.POST.get("product") or 0)
    data = _post(request, "price", "source", "starts_on")
    if run_action(request, plans.vehicle_plan_sell, actor=actor, vehicle=vehicle, product=product,
                  data=data) is not REFUSED:  # fmt: skip
        messages.success(request, _("Plan sold."))
    return redirect("service:vehicle_plans", pk=vehicle.pk)


@login_required
@require_POST
def vehicle_plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    plan = plans.vehicle_plan_get(actor=actor, pk=pk, action="cancel")
    data = _post(request, "reason", "refund")
    if run_action(request, plans.vehicle_plan_cancel, actor=actor, plan=plan, data=data) is not REFUSED:
        messages.success(request, _("Plan cancelled."))
    return redirect("service:vehicle_plans", pk=plan.vehicle_id)


@login_required
@require_GET
def customer_plans(request: HttpRequest, pk: int) -> HttpResponse:
    """The plans of the customer's vehicles (a lazy part of the customer 360 page)."""
    actor = actor_of(request)
    customer = get_in_scope(Customer.objects.all(), actor, pk)
    rows = []
    if can(actor, "view", VehiclePlan):
        rows = list(plans.vehicle_plan_list(actor=actor).filter(vehicle__customer=customer)[:50])
        for plan in rows:
            plan.current_status = plans.effective_status(plan)  # type: ignore[attr-defined]
    return render(request, "service/plans/customer_plans.html", {
        "customer": customer, "plans": rows, "statuses": dict(VehiclePlanStatus.choices)})  # fmt: skip


# --- on the repair order -------------------------------------------------------------------------


@login_required
@require_GET
def ro_extras(request: HttpRequest, pk: int) -> HttpResponse:
    """The repair order's plans, accessories and insurer claim (a lazy part of its page)."""
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    uses = plans.uses_of(ro)
    used = {u.vehicle_plan_id for u in uses}
    usable: list[VehiclePlan] = []
    if can(actor, "view", VehiclePlan):
        for plan in plans.plans_for_vehicle(actor=actor, vehicle_id=ro.vehicle_id):
            if plan.pk not in used and plan.current_status == VehiclePlanStatus.ACTIVE:  # type: ignore[attr-defined]
                usable.append(plan)
    claim = insurance.claim_of(ro)
    return render(request, "service/plans/ro_extras.html", {
        "ro": ro, "uses": uses, "usable": usable, "claim": claim, "share_kinds": ShareKind.choices,
        "accessories": list(accessories.accessory_list(actor=actor)[:100]) if can(actor, "view", Accessory) else [],
        "sales": accessories.sales_of(ro), "margin": accessories.shows_margin(actor),
        "can_change": can(actor, "change", ro) and ro.status in plans.EDITABLE,
        "can_claim": can(actor, "change", ro) and ro.status != "delivered",
    })  # fmt: skip


def _ro_post(request: HttpRequest, pk: int, fn: Any, done: str, **kwargs: Any) -> HttpResponse:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk, action="change")
    try:
        extra = {name: loader() for name, loader in kwargs.items()}
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect(_ro_url(ro.pk))
    if run_action(request, fn, actor=actor, repair_order=ro, **extra) is not REFUSED:
        messages.success(request, done)
    return redirect(_ro_url(ro.pk))


@login_required
@require_POST
def ro_plan_apply(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return _ro_post(request, pk, plans.plan_apply, _("Plan applied: one service used."),
                    plan=lambda: plans.vehicle_plan_get(actor=actor, pk=request.POST.get("plan") or 0))  # fmt: skip


@login_required
@require_POST
def ro_plan_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return _ro_post(request, pk, plans.plan_unapply, _("Plan taken off: the service is given back."),
                    plan=lambda: plans.vehicle_plan_get(actor=actor, pk=request.POST.get("plan") or 0))  # fmt: skip


@login_required
@require_POST
def ro_accessory_sell(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return _ro_post(request, pk, accessories.accessory_sell, _("Accessory added."),
                    accessory=lambda: accessories.accessory_get(actor=actor, pk=request.POST.get("accessory") or 0),
                    data=lambda: _post(request, "quantity", "unit_price"))  # fmt: skip


@login_required
@require_POST
def ro_claim_set(request: HttpRequest, pk: int) -> HttpResponse:
    return _ro_post(request, pk, insurance.claim_set, _("Insurer direct billing saved."),
                    data=lambda: _post(request, "insurer", "claim_number", "share_kind", "share_value"))  # fmt: skip


# --- insurer receivables -------------------------------------------------------------------------


@login_required
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """What insurers still owe the store (billed direct-billing claims, pending), with the sum."""
    actor = actor_of(request)
    require_model(actor, "view", InsuranceClaim)
    rows, total = insurance.open_claims(actor=actor)
    return render(request, "service/plans/claim_list.html", {"claims": rows, "total": total,
                                                             "can_pay": can(actor, "pay", InsuranceClaim)})  # fmt: skip


@login_required
@require_POST
def claim_paid(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    claim = insurance.claim_get(actor=actor, pk=pk, action="pay")
    if run_action(request, insurance.claim_mark_paid, actor=actor, claim=claim) is not REFUSED:
        messages.success(request, _("The insurer's payment is recorded."))
    return redirect("service:claim_list")


# --- accessories and the offer list --------------------------------------------------------------


@login_required
@require_GET
def accessory_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "view", Accessory)
    return render(request, "service/plans/accessory_list.html", {
        "items": list(accessories.accessory_list(actor=actor)[:300]), "margin": accessories.shows_margin(actor),
        "categories": AccessoryCategory.choices, "can_add": can(actor, "add", Accessory)})  # fmt: skip


@login_required
@require_POST
def accessory_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    data = _post(request, "code", "name", "category", "price", "cost", "part")
    if run_action(request, accessories.accessory_create, actor=actor, data=data) is not REFUSED:
        messages.success(request, _("Accessory saved."))
    return redirect("service:accessory_list")


@login_required
@require_GET
def offer_list(request: HttpRequest) -> HttpResponse:
    """Owners around six months after delivery with no accessory bought; CSV with ``?format=csv``."""
    actor = actor_of(request)
    require_model(actor, "view", Accessory)
    try:
        low, high = accessories.offer_window(request.GET.get("months_from"), request.GET.get("months_to"))
    except DomainError as exc:
        messages.error(request, error_text(exc))
        low, high = 5, 7
    rows = accessories.offer_list(actor=actor, months_from=low, months_to=high)
    if request.GET.get("format") == "csv":
        export_logged(actor=actor, model=Accessory, count=len(rows), filters={"months_from": low, "months_to": high,
                                                                              "list": "accessory_offers"})  # fmt: skip
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="accessory-offers.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 Chinese with the BOM
        writer = csv.writer(response)
        writer.writerow([_("Customer"), _("VIN"), _("Plate"), _("Delivery date"), _("Months since delivery"),
                         _("Marketing consent")])  # fmt: skip
        for r in rows:
            writer.writerow([r["customer"].name, r["vehicle"].vin, r["vehicle"].plate or "", r["delivery_date"],
                             r["months"], _("Yes") if r["consent"] else _("No")])  # fmt: skip
        return response
    return render(request, "service/plans/offer_list.html", {
        "rows": rows, "months_from": low, "months_to": high, "can_export": can(actor, "export", Accessory)})  # fmt: skip
