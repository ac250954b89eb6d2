"""After-sales pages: the day's appointments with free slots and booking, the repair-order list
and page (jobs, parts, canned jobs, estimate link, progress, photos, the workflow button), the
print-ready e-bill, canned jobs, the service part of the customer 360 page and the home panels.
Thin: each POST calls one service through ``run_action``; 404/403 are the middleware's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core import uploads
from autocrm.core.actor import ActorRequest, actor_of
from autocrm.core.errors import NotFound
from autocrm.core.forms import REFUSED, run_action
from autocrm.core.permissions import can, get_in_scope, require_model
from autocrm.core.roles import Role
from autocrm.core.templatetags.autocrm_html import options
from autocrm.customers.models import Customer
from autocrm.vehicles.models import Vehicle

from . import selectors, services
from .choices import RO_ORDER, AppointmentStatus, PaymentMethod, PhotoKind, Progress, RoStatus, ServiceType
from .models import Appointment, Bill, CannedJob, JobPhoto, RepairOrder


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()


def _ro_url(ro: RepairOrder | int) -> str:
    return reverse("service:repair_order_detail", args=[ro if isinstance(ro, int) else ro.pk])


@login_required
@require_GET
def appointment_list(request: HttpRequest) -> HttpResponse:
    """The day's appointments and its free slots, with the booking form."""
    actor = actor_of(request)
    require_model(actor, "view", Appointment)
    day = _day(request.GET.get("date"))
    service_type = request.GET.get("service_type") or ServiceType.MAINTENANCE
    if service_type not in ServiceType.values:
        service_type = ServiceType.MAINTENANCE
    rows = list(selectors.appointment_list(actor=actor, filters={"date": day.isoformat()}).order_by("starts_at")[:200])
    store = selectors.current_store(actor)
    slots = selectors.slot_plan(store=store, day=day, service_type=service_type) if store is not None else []
    return render(request, "service/appointment_list.html", {
        "day": day, "appointments": rows, "slots": slots, "service_types": ServiceType.choices,
        "service_type": service_type, "can_add": can(actor, "add", Appointment),
        "can_receive": can(actor, "add", RepairOrder), "statuses": dict(AppointmentStatus.choices),
        "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
    })  # fmt: skip


@login_required
@require_POST
def appointment_book(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "add", Appointment)
    post = request.POST
    customer = get_in_scope(Customer.objects.all(), actor, post.get("customer") or 0)
    vehicle = get_in_scope(Vehicle.objects.all(), actor, post["vehicle"]) if post.get("vehicle") else None
    data = {k: post.get(k) for k in ("service_type", "starts_at", "advisor", "priority", "pickup", "pickup_address",
                                     "pickup_at", "note")}  # fmt: skip
    result = run_action(request, services.appointment_book, actor=actor, customer=customer, vehicle=vehicle, data=data)
    if result is not REFUSED:
        messages.success(request, _("Appointment booked."))
    day = (post.get("starts_at") or "")[:10]
    return redirect(reverse("service:appointment_list") + (f"?date={day}" if len(day) == 10 else ""))


@login_required
@require_POST
def appointment_mark(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    appointment = selectors.appointment_get(actor=actor, pk=pk, action="change")
    status = request.POST.get("status", "")
    if status == AppointmentStatus.CANCELLED:
        result = run_action(request, services.appointment_cancel, actor=actor, appointment=appointment)
    else:
        result = run_action(request, services.appointment_mark, actor=actor, appointment=appointment, status=status)
    if result is not REFUSED:
        messages.success(request, _("Appointment updated."))
    return redirect(reverse("service:appointment_list") + f"?date={appointment.day.isoformat()}")


@login_required
@require_GET
def repair_order_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "view", RepairOrder)
    status = request.GET.get("status") or None
    filters = {"status": status if status in RO_ORDER else None}
    page = selectors.repair_order_list_page(actor=actor, filters=filters, limit=50,
                                           cursor=request.GET.get("cursor") or None)  # fmt: skip
    labels = dict(RoStatus.choices)
    for ro in page.items:  # each shown twice (phone cards and the table): worked out once a row
        ro.status_label = labels.get(ro.status, ro.status)
        ro.vehicle_label = str(ro.vehicle)
    return render(request, "service/repair_order_list.html", {
        "repair_orders": page.items, "next_cursor": page.next_cursor, "statuses": RoStatus.choices, "status": status,
        "labels": labels, "can_add": can(actor, "add", RepairOrder),
    })  # fmt: skip


@login_required
@require_POST
def repair_order_receive(request: HttpRequest) -> HttpResponse:
    """Receive a car: from an appointment (``appointment``) or walk-in (``customer``, ``vehicle``)."""
    actor = actor_of(request)
    require_model(actor, "add", RepairOrder)
    post = request.POST
    appointment = None
    if post.get("appointment"):
        appointment = selectors.appointment_get(actor=actor, pk=post["appointment"], action="change")
        customer = appointment.customer
        vehicle = appointment.vehicle or (
            get_in_scope(Vehicle.objects.all(), actor, post["vehicle"]) if post.get("vehicle") else None
        )
    else:
        customer = get_in_scope(Customer.objects.all(), actor, post.get("customer") or 0)
        vehicle = get_in_scope(Vehicle.objects.all(), actor, post.get("vehicle") or 0)
    if vehicle is None:
        raise NotFound()
    data = {k: post.get(k) for k in ("odometer_km", "correction_reason", "complaint", "priority", "senior_technician")}
    ro = run_action(request, services.repair_order_receive, actor=actor, customer=customer, vehicle=vehicle,
                    appointment=appointment, data=data)  # fmt: skip
    if ro is REFUSED:
        back = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("service:repair_order_list")  # never off the site (an open redirect)
        return redirect(back)
    messages.success(request, _("Car received."))
    return redirect(_ro_url(ro))


def _detail_context(actor: Any, ro: RepairOrder) -> dict[str, Any]:
    jobs = list(ro.jobs.all())
    parts = list(ro.part_lines.all())
    approval_labels = {"pending": _("Waiting for the owner"), "approved": _("Approved"), "declined": _("Declined")}
    lines: list[Any] = [*jobs, *parts]
    for line in lines:  # the owner's answer as text, once a line (not a loop in the template)
        line.approval_label = approval_labels.get(line.approval, "")
    index = RO_ORDER.index(ro.status)
    following = RO_ORDER[index + 1] if index + 1 < len(RO_ORDER) else None
    labels = dict(RoStatus.choices)
    return {
        "ro": ro, "jobs": jobs, "parts": parts, "labels": labels,
        "steps": [{"code": s, "label": labels[s], "done": i < index, "current": i == index}
                  for i, s in enumerate(RO_ORDER)],
        "next_status": following, "next_label": labels.get(following or "", ""),
        "bill": selectors.bill_of(ro) if index >= RO_ORDER.index(RoStatus.AWAITING_PAYMENT) else None,
        "can_change": can(actor, "change", ro), "can_advance": can(actor, "advance", ro),
        "can_progress": can(actor, "progress", ro), "can_pay": can(actor, "pay", Bill),
        "canned_jobs": list(CannedJob.objects.for_actor(actor, "view").filter(is_active=True).order_by("code")[:50])
        if can(actor, "view", CannedJob) else [],
        "progress_choices": Progress.choices, "photo_kinds": PhotoKind.choices, "methods": PaymentMethod.choices,
        "photo_kind_options": options(PhotoKind.choices), "approval_labels": approval_labels,
    }  # fmt: skip


@login_required
@require_GET
def repair_order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The repair order, with the panels other apps register on ``service.repair_order`` (loyalty:
    the coupon and points its bill is to use)."""
    from autocrm.core.extensions import panels_for

    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    context = _detail_context(actor, ro)
    shared = {"ro": ro, "csrf_token": get_token(request), "request": request}
    context["panels"] = [{"key": panel.key, "html": render_to_string(panel.template, {**ctx, **shared})}
                         for panel, ctx in panels_for("service.repair_order", actor, ro)]  # fmt: skip
    return render(request, "service/repair_order_detail.html", context)


def _ro_action(request: HttpRequest, pk: int, action: str, fn: Any, done: str, **kwargs: Any) -> HttpResponse:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk, action=action)
    result = run_action(request, fn, actor=actor, repair_order=ro, **kwargs)
    if result is not REFUSED:
        messages.success(request, done)
    return redirect(_ro_url(ro))


@login_required
@require_POST
def repair_order_advance(request: HttpRequest, pk: int) -> HttpResponse:
    return _ro_action(request, pk, "advance", services.repair_order_advance, _("Repair order moved on."),
                      to_status=request.POST.get("to_status") or None)  # fmt: skip


@login_required
@require_POST
def job_add(request: HttpRequest, pk: int) -> HttpResponse:
    data = {k: request.POST.get(k) for k in ("code", "name", "hours", "rate", "technician")}
    return _ro_action(request, pk, "change", services.job_add, _("Job added."), data=data)


@login_required
@require_POST
def part_add(request: HttpRequest, pk: int) -> HttpResponse:
    data = {k: request.POST.get(k) for k in ("part_number", "name", "quantity", "unit_price", "job")}
    return _ro_action(request, pk, "change", services.part_add, _("Part added."), data=data)


@login_required
@require_POST
def canned_apply(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    canned = selectors.canned_job_get(actor=actor, pk=request.POST.get("canned_job") or 0)
    return _ro_action(request, pk, "change", services.canned_job_apply, _("Canned job added."), canned_job=canned)


@login_required
@require_POST
def estimate_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _ro_action(request, pk, "change", services.estimate_send, _("Estimate link sent to the owner."))


@login_required
@require_POST
def job_progress(request: HttpRequest, pk: int, job: int) -> HttpResponse:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk, action="progress")
    row = services.job_for(actor=actor, repair_order=ro, job_id=job)
    data = {k: request.POST[k] for k in ("progress", "findings") if k in request.POST}
    if request.FILES.get("photo"):
        run_action(request, services.job_photo_add, actor=actor, job=row, file=request.FILES["photo"],
                   kind=request.POST.get("kind") or PhotoKind.FINDING)  # fmt: skip
    if run_action(request, services.job_progress, actor=actor, job=row, data=data) is not REFUSED:
        messages.success(request, _("Job updated."))
    return redirect(_ro_url(ro))


@login_required
@require_GET
def job_photo(request: HttpRequest, pk: int, photo: int) -> HttpResponseBase:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    row = get_in_scope(JobPhoto.objects.filter(job__repair_order=ro), actor, photo)
    return uploads.response(row.path, content_type=row.content_type, name=row.name)


@login_required
@require_GET
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The print-ready e-bill (结算单): itemised labour and parts, discounts, VAT, payment."""
    actor = actor_of(request)
    bill = selectors.bill_get(actor=actor, pk=pk)
    ro = selectors.repair_order_of_bill(bill)
    return render(request, "service/bill.html", {
        "bill": bill, "ro": ro, "jobs": [j for j in ro.jobs.all() if j.approval == "approved"],
        "parts": [p for p in ro.part_lines.all() if p.approval == "approved"], "store": ro.store,
        "methods": dict(PaymentMethod.choices), "can_pay": can(actor, "pay", bill),
    })  # fmt: skip


@login_required
@require_POST
def bill_pay(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    bill = selectors.bill_get(actor=actor, pk=pk, action="pay")
    if run_action(request, services.bill_pay, actor=actor, bill=bill, method=request.POST.get("method")) is not REFUSED:
        messages.success(request, _("Payment recorded."))
    return redirect(_ro_url(bill.repair_order_id))


@login_required
@require_GET
def canned_job_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    rows = list(selectors.canned_job_list(actor=actor).order_by("code")[:200])
    return render(request, "service/canned_job_list.html", {"canned_jobs": rows})


@login_required
@require_GET
def customer_service_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The service part of the customer 360 page (lazy): repair orders and declined work."""
    actor = actor_of(request)
    customer = get_in_scope(Customer.objects.all(), actor, pk)
    ros = list(RepairOrder.objects.for_actor(actor, "view").filter(customer=customer).select_related("vehicle")
               .order_by("-received_at")[:10]) if can(actor, "view", RepairOrder) else []  # fmt: skip
    context = {"customer": customer, "repair_orders": ros, "labels": dict(RoStatus.choices),
               "declined": selectors.declined_for_customer(actor=actor, customer_id=customer.pk)}  # fmt: skip
    template = "service/panels/customer_service_part.html"
    if getattr(request, "htmx", False):
        response = HttpResponse(render_to_string(template, {**context, "csrf_token": get_token(request)}))
    else:
        response = render(request, "customers/customer_part.html", {**context, "part_template": template})
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- home panels ----------------------------------------------------------------------------------


def panel_advisor(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor is None or actor.role not in (Role.ADVISOR, Role.SERVICE_MANAGER) or not can(actor, "view", RepairOrder):
        return None
    return selectors.advisor_board(actor=actor)


def panel_technician(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor is None or actor.role != Role.TECHNICIAN:
        return None
    return {"jobs": selectors.technician_jobs(actor=actor)}


def panel_throughput(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor is None or actor.role not in (Role.MANAGER, Role.SERVICE_MANAGER) or not can(actor, "view", RepairOrder):
        return None
    return dict(selectors.throughput(actor=actor))
