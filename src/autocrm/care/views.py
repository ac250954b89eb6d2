"""Pages of care: the follow-up calls (回访) with their script and outcome, complaints (投诉) with
their loop, escalation and reports. Each button calls one service."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.forms import REFUSED, run_action, run_service
from autocrm.core.permissions import can, present, require, require_model
from autocrm.tenancy.selectors import store_names

from . import selectors, services
from .choices import (
    Category,
    ComplaintStatus,
    Department,
    Flag,
    FollowUpKind,
    FollowUpStatus,
    Outcome,
    ResponseStatus,
    RootCause,
    Severity,
    SurveyKind,
    WinBackReason,
)
from .forms import AdvanceForm, CareSettingsForm, ComplaintForm, OutcomeForm
from .models import Complaint, SurveyResponse, WinBack

PAGE_SIZE = 50


def _labels() -> dict[str, Any]:
    return {"kinds": dict(FollowUpKind.choices), "fu_statuses": dict(FollowUpStatus.choices),
            "outcomes": dict(Outcome.choices), "statuses": dict(ComplaintStatus.choices),
            "severities": dict(Severity.choices), "categories": dict(Category.choices),
            "departments": dict(Department.choices), "root_causes": dict(RootCause.choices)}  # fmt: skip


@login_required
@require_GET
def followup_list(request: HttpRequest) -> HttpResponse:
    """The store's follow-up calls to make, soonest due first (``mine``, ``overdue``, ``status``)."""
    actor = actor_of(request)
    filters = {k: request.GET.get(k, "") for k in ("status", "mine", "overdue", "kind")}
    page = selectors.followup_page(
        actor=actor, filters=filters, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None
    )
    won = (
        selectors.won_back_customers(actor.require_store_id(), [f.customer_id for f in page.items])
        if actor.store_id
        else set()
    )
    rows = [
        {"f": f, "mobile": present(actor, f.customer, "mobile"), "won_back": f.customer_id in won} for f in page.items
    ]
    return render(request, "care/followup_list.html", {
        "rows": rows, "next_cursor": page.next_cursor, "filters": filters, "now": timezone.now(),
        "query": urlencode({k: v for k, v in filters.items() if v}), **_labels(),
        "statuses_fu": FollowUpStatus.choices,
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One call: the customer, the car, the script of its kind, and the outcome to record."""
    actor = actor_of(request)
    follow_up = selectors.followup_get(actor=actor, pk=pk)
    form = OutcomeForm(request.POST or None, prefix="")
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("outcome", "note", "raise_complaint", "category", "severity",
                                                     "department")}  # fmt: skip
        done = run_service(form, services.followup_record, actor=actor, follow_up=follow_up, data=data)
        if done is not None:
            messages.success(request, _("Call recorded."))
            if done.complaint_id:
                return redirect("care:complaint_detail", pk=done.complaint_id)
            return redirect("care:followup_list")
    settings = selectors.settings_for(follow_up.store_id)
    script = selectors.script_for(settings, follow_up.kind).format_map(_ScriptValues(
        store=store_names(actor=actor, ids=[follow_up.store_id]).get(follow_up.store_id, ""),
        agent=(actor.user.display_name or actor.user.username) if actor.user else "",
        plate=follow_up.vehicle.plate if follow_up.vehicle else "",
        days=max(0, (timezone.now() - follow_up.created_at).days) if follow_up.created_at else 0,
    ))  # fmt: skip
    return render(request, "care/followup_detail.html", {
        "f": follow_up, "form": form, "script": script, "now": timezone.now(), "mobile": present(actor, follow_up.customer, "mobile"),
        "can_record": follow_up.status == FollowUpStatus.OPEN and can(actor, "change", follow_up), **_labels(),
        "won_back": bool(selectors.won_back_customers(follow_up.store_id, [follow_up.customer_id])),
    })  # fmt: skip


class _ScriptValues(dict[str, Any]):
    """A store's own script may name a value we do not have: it stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@login_required
@require_GET
def complaint_list(request: HttpRequest) -> HttpResponse:
    """Complaints in scope by their step's deadline (``status``, ``severity``, ``escalated``)."""
    actor = actor_of(request)
    filters = {k: request.GET.get(k, "") for k in ("status", "severity", "escalated")}
    page = selectors.complaint_page(actor=actor, filters=filters, limit=PAGE_SIZE,
                                    cursor=request.GET.get("cursor") or None)  # fmt: skip
    return render(request, "care/complaint_list.html", {
        "rows": page.items, "next_cursor": page.next_cursor, "filters": filters, "now": timezone.now(),
        "query": urlencode({k: v for k, v in filters.items() if v}), "banner": list(selectors.escalations_for(actor=actor)[:5]),
        "can_add": can(actor, "add", Complaint), "can_report": can(actor, "escalate", Complaint),
        "status_choices": ComplaintStatus.choices, "severity_choices": Severity.choices, **_labels(),
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def complaint_create(request: HttpRequest) -> HttpResponse:
    """Receive a complaint at the desk or on the phone."""
    actor = actor_of(request)
    require_model(actor, "add", Complaint)
    form = ComplaintForm(request.POST or None, initial={"customer": request.GET.get("customer") or None})
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in form.fields}
        complaint = run_service(form, services.complaint_create, actor=actor, data=data)
        if complaint is not None:
            messages.success(request, _("Complaint %(n)s received.") % {"n": complaint.number})
            return redirect("care:complaint_detail", pk=complaint.pk)
    return render(request, "care/complaint_form.html", {"form": form})


@login_required
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    complaint = selectors.complaint_get(actor=actor, pk=pk)
    form = AdvanceForm(initial={"assignee": complaint.assignee_id, "root_cause": complaint.root_cause,
                                "resolution": complaint.resolution})  # fmt: skip
    can_change = can(actor, "change", complaint)
    if can_change:
        form.fields["assignee"].choices = [("", "—"), *selectors.store_staff(actor=actor)]  # type: ignore[attr-defined]  # a TypedChoiceField
    return render(request, "care/complaint_detail.html", {
        "c": complaint, "form": form, "mobile": present(actor, complaint.customer, "mobile"), "now": timezone.now(),
        "can_change": can_change and complaint.status != ComplaintStatus.CLOSED,
        "can_escalate": can(actor, "escalate", complaint) and complaint.status != ComplaintStatus.CLOSED
        and complaint.level < 2, **_labels(),
    })  # fmt: skip


@login_required
@require_POST
def complaint_advance(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    complaint = selectors.complaint_get(actor=actor, pk=pk)
    data = {k: request.POST.get(k, "") for k in ("to", "assignee", "resolution", "root_cause", "customer_confirmed",
                                                 "note")}  # fmt: skip
    done = run_action(request, services.complaint_advance, actor=actor, complaint=complaint, data=data)
    if done is not REFUSED:
        messages.success(request, _("Complaint moved on."))
    return redirect("care:complaint_detail", pk=complaint.pk)


@login_required
@require_POST
def complaint_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    complaint = selectors.complaint_get(actor=actor, pk=pk)
    done = run_action(request, services.complaint_escalate, actor=actor, complaint=complaint,
                      data={"note": request.POST.get("note", "")})  # fmt: skip
    if done is not REFUSED:
        messages.success(request, _("Complaint escalated."))
    return redirect("care:complaint_detail", pk=complaint.pk)


@login_required
@require_GET
def complaint_report(request: HttpRequest) -> HttpResponse:
    """Complaints of the last 90 days (or ``days``) by root cause, store and staff concerned."""
    actor = actor_of(request)
    require_model(actor, "escalate", Complaint)
    try:
        days = min(max(int(request.GET.get("days") or 90), 1), 730)
    except ValueError:
        days = 90
    end = timezone.now()
    start = end - dt.timedelta(days=days)
    by_cause = selectors.complaint_report(actor=actor, by="root_cause", start=start, end=end)
    by_store = selectors.complaint_report(actor=actor, by="store", start=start, end=end)
    by_staff = selectors.complaint_report(actor=actor, by="staff", start=start, end=end)
    causes = {**dict(RootCause.choices), "": _("Not yet known")}
    names = store_names(actor=actor, ids=[r["key"] for r in by_store])
    staff = dict(selectors.store_staff(actor=actor))
    for r in by_cause:
        r["label"] = causes.get(r["key"] or "", r["key"])
    for r in by_store:
        r["label"] = names.get(r["key"], r["key"])
    for r in by_staff:
        r["label"] = staff.get(r["key"], _("Nobody named")) if r["key"] else _("Nobody named")
    return render(request, "care/complaint_report.html", {
        "days": days, "tables": [(_("By root cause"), by_cause), (_("By store"), by_store),
                                 (_("By staff concerned"), by_staff)],
    })  # fmt: skip


@login_required
@require_GET
def customer_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The care part of the customer 360 page (lazy): open complaints with their step's deadline
    and escalation level, the latest follow-up calls and survey scores; "raise a complaint"."""
    from django.middleware.csrf import get_token
    from django.template.loader import render_to_string
    from django.utils.cache import patch_vary_headers

    from autocrm.core.permissions import get_in_scope
    from autocrm.customers.models import Customer

    actor = actor_of(request)
    customer = get_in_scope(Customer.objects.all(), actor, pk)
    context = {"customer": customer, "now": timezone.now(), **selectors.customer_care(actor=actor, customer=customer),
               "can_add": can(actor, "add", Complaint), **_labels()}  # fmt: skip
    template = "care/panels/customer_care_part.html"
    if getattr(request, "htmx", False):
        response = HttpResponse(render_to_string(template, {**context, "csrf_token": get_token(request)}))
    else:
        response = render(request, "customers/customer_part.html", {**context, "part_template": template})
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    """Survey answers in scope, newest first, with this month's CSI/NPS and the flagged ones to review."""
    actor = actor_of(request)
    filters = {k: request.GET.get(k, "") for k in ("status", "kind")}
    page = selectors.survey_page(
        actor=actor, filters=filters, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None
    )
    now = timezone.now()
    start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    by_staff = selectors.survey_scores(actor=actor, start=start, end=now + dt.timedelta(seconds=1), by="staff")
    names = dict(selectors.store_staff(actor=actor)) if actor.store_id else {}
    for r in by_staff:
        r["label"] = names.get(r["key"], _("Nobody named")) if r["key"] else _("Nobody named")
    return render(request, "care/survey_list.html", {
        "rows": page.items, "next_cursor": page.next_cursor, "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if v}), "month": selectors.survey_month(actor=actor),
        "by_staff": by_staff, "can_review": can(actor, "review", SurveyResponse),
        "status_choices": ResponseStatus.choices, "kind_choices": SurveyKind.choices, "flag_labels": dict(Flag.choices),
    })  # fmt: skip


@login_required
@require_POST
def survey_review(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    response = selectors.survey_get(actor=actor, pk=pk)
    done = run_action(request, services.survey_review, actor=actor, response=response,
                      accept=request.POST.get("accept", ""))  # fmt: skip
    if done is not REFUSED:
        messages.success(request, _("Review saved."))
    return redirect("care:survey_list")


def _settings_initial(settings: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {name: getattr(settings, name) for name in services.SETTINGS_NUMBERS}
    initial["store_networks"] = settings.store_networks
    for severity in Severity.values:
        for step in services.DEADLINE_STEPS:
            initial[f"deadline_{severity}_{step}"] = selectors.deadline_hours(settings, severity, step)
    for kind in services.SCRIPT_KINDS:
        initial[f"script_{kind}"] = (settings.scripts or {}).get(kind, "")
    for reason in WinBackReason.values:
        initial[f"gift_{reason}"] = (settings.winback_gifts or {}).get(reason, "")
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def care_settings(request: HttpRequest) -> HttpResponse:
    """The store's care settings (the store manager; a director for the store they work in)."""
    from autocrm.core import gifts

    actor = actor_of(request)
    store_id = actor.require_store_id()
    settings = selectors.settings_for(store_id)
    require(actor, "change", settings)
    choices = gifts.options(store_id)
    known = {spec for spec, _label in choices}
    choices += [(spec, spec) for spec in (settings.winback_gifts or {}).values() if spec not in known]
    form = CareSettingsForm(request.POST or None, initial=_settings_initial(settings), gift_choices=choices)
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in form.fields}
        if run_service(form, services.settings_save, actor=actor, data=data) is not None:
            messages.success(request, _("Care settings saved."))
            return redirect("care:settings")
    sections = [
        (_("Follow-up calls and surveys"), [form[n] for n in ("follow_up_days", "retry_hours", "max_attempts",
                                                               "survey_link_days", "low_csi", "low_nps")]),
        (_("Honest answers"), [form["min_answer_seconds"], form["store_networks"]]),
        (_("Win-back"), [form["winback_months"], form["watch_visits"],
                         *[form[f"gift_{r}"] for r in WinBackReason.values]]),
        (_("Complaint deadlines"), [f for f in form if f.name.startswith("deadline_")]),
        (_("Call scripts"), [f for f in form if f.name.startswith("script_")]),
    ]  # fmt: skip
    return render(request, "care/settings.html", {"form": form, "sections": sections,
                                                  "status": 400 if form.errors else 200},
                  status=400 if request.method == "POST" and form.errors else 200)  # fmt: skip


@login_required
@require_GET
def winback_list(request: HttpRequest) -> HttpResponse:
    """Win-back: the rate (flagged, contacted, answered, returned) by store, reason and month of
    the last year, and the flagged customers newest first."""
    actor = actor_of(request)
    filters = {k: request.GET.get(k, "") for k in ("state", "reason")}
    page = selectors.winback_page(actor=actor, filters=filters, limit=PAGE_SIZE,
                                  cursor=request.GET.get("cursor") or None)  # fmt: skip
    end = timezone.now() + dt.timedelta(seconds=1)
    start = end - dt.timedelta(days=365)
    by_store = selectors.winback_report(actor=actor, by="store", start=start, end=end)
    by_reason = selectors.winback_report(actor=actor, by="reason", start=start, end=end)
    by_month = selectors.winback_report(actor=actor, by="month", start=start, end=end)
    names = store_names(actor=actor, ids=[r["key"] for r in by_store])
    reasons = {**dict(WinBackReason.choices), "": _("Not answered")}
    for r in by_store:
        r["label"] = names.get(r["key"], r["key"])
    for r in by_reason:
        r["label"] = reasons.get(r["key"] or "", r["key"])
    for r in by_month:
        r["label"] = r["key"]
    total = {k: sum(r[k] for r in by_store) for k in ("flagged", "contacted", "answered", "returned")}
    total["rate"] = round(total["returned"] * 100 / total["flagged"], 1) if total["flagged"] else None
    return render(request, "care/winback_list.html", {
        "rows": page.items, "next_cursor": page.next_cursor, "filters": filters, "total": total,
        "query": urlencode({k: v for k, v in filters.items() if v}), "reasons": dict(WinBackReason.choices),
        "reason_choices": WinBackReason.choices, "flag_labels": dict(Flag.choices),
        "tables": [(_("By store"), by_store), (_("By reason"), by_reason), (_("By month"), by_month)],
        "can_review": can(actor, "review", WinBack),
    })  # fmt: skip


@login_required
@require_POST
def winback_review(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    wb = selectors.winback_get(actor=actor, pk=pk)
    done = run_action(request, services.winback_review, actor=actor, winback=wb, accept=request.POST.get("accept", ""))
    if done is not REFUSED:
        messages.success(request, _("Review saved."))
    return redirect("care:winback_list")
