"""Lead pages: the list (filters; cards on a phone), one lead with its activities and next
action, the new-lead form, and the workflow steps (log an activity, assign, request lost,
decide a lost request), each calling one service. Home panels: the consultant's to-do and the
sales manager's board."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.accounts.models import Membership
from autocrm.core import uploads
from autocrm.core.actor import ActorRequest, actor_of
from autocrm.core.errors import DomainError, NotFound
from autocrm.core.extensions import panels_for
from autocrm.core.permissions import can, present, require_model
from autocrm.core.roles import CONSULTANT_ROLES, Role

from . import scoring, selectors, services
from .choices import (
    ActivityKind,
    ActivityOutcome,
    Grade,
    LeadSource,
    LeadStatus,
    MobileFlag,
    RecordKind,
    lost_reason_label,
)
from .models import Lead, LostRequest

PAGE_SIZE = 50


def _consultants(store_id: int | None) -> list[Any]:
    if store_id is None:
        return []
    rows = (
        Membership.objects.filter(store_id=store_id, role__in=list(CONSULTANT_ROLES), is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    seen: dict[int, Any] = {}
    for m in rows:
        seen.setdefault(m.user_id, m.user)
    return list(seen.values())


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    """Leads in scope, newest first, keyset pages; filters status, grade, source, consultant."""
    actor = actor_of(request)
    require_model(actor, "view", Lead)
    filters = {k: request.GET.get(k) or None for k in selectors.FILTERS}
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.SORTS else "recent"
    try:
        page = selectors.lead_page(
            actor=actor, filters=filters, limit=PAGE_SIZE, cursor=request.GET.get("cursor"), sort=sort
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        page = selectors.lead_page(actor=actor, filters={}, limit=PAGE_SIZE, sort=sort)
        filters = {}
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    # One label map per page and one reverse for the rows' links (conventions §10).
    statuses, sources, flags = (
        {value: str(label) for value, label in choices.choices} for choices in (LeadStatus, LeadSource, MobileFlag)
    )
    link = reverse("leads:lead_detail", args=[0]).removesuffix("0/")
    rows = [
        {"lead": lead, "mobile": present(actor, lead, "mobile"), "url": f"{link}{lead.pk}/",
         "status": statuses.get(lead.status, lead.status), "source": sources.get(lead.source_channel, ""),
         "flag": flags.get(lead.mobile_flag, lead.mobile_flag), "reasons": scoring.reasons_text(lead, 3)}
        for lead in page.items
    ]  # fmt: skip
    by_score = request.GET.copy()
    by_score.pop("cursor", None)
    by_score["sort"] = "recent" if sort == "score" else "score"
    context = {
        "rows": rows, "filters": filters, "next_query": query.urlencode() if page.next_cursor else "",
        "statuses": LeadStatus.choices, "grades": [g for g in Grade.choices if g[0]], "sources": LeadSource.choices,
        "consultants": _consultants(actor.store_id), "can_add": can(actor, "add", Lead),
        "sort": sort, "sort_query": by_score.urlencode(),
    }  # fmt: skip
    return render(request, "leads/lead_list.html", context)


@login_required
def lead_new(request: HttpRequest) -> HttpResponse:
    """The staff's new-lead form: the same intake as every channel (de-dup, assignment)."""
    actor = actor_of(request)
    require_model(actor, "add", Lead)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "mobile", "source_channel", "campaign",
                                                       "model_interest", "brand_interest", "message", "grade")}  # fmt: skip
        try:
            intake = services.lead_create(
                actor=actor,
                data=values,
                source=LeadSource.WALK_IN,
                consultant_id=request.POST.get("consultant") or None,
            )
        except DomainError as exc:
            errors = exc.fields or {"__all__": [exc.message]}
        else:
            if intake.linked:
                messages.info(request, str(_("This person already has an open lead: the enquiry was added to it.")))
            if can(actor, "view", intake.lead):
                return redirect("leads:lead_detail", pk=intake.lead.pk)
            return redirect("leads:lead_list")
    context = {"errors": errors, "values": values, "form_errors": errors.get("__all__", []), "sources": LeadSource.choices, "grades": Grade.choices,
               "consultants": _consultants(actor.store_id) if can(actor, "assign", Lead) else []}  # fmt: skip
    return render(request, "leads/lead_form.html", context, status=400 if errors else 200)


@login_required
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    pending = (
        LostRequest.objects.for_actor(actor, "view").filter(lead=lead, status="pending").first()
        if can(actor, "view", LostRequest)
        else None
    )
    activities = selectors.lead_activities(lead=lead)
    records = selectors.lead_records(lead=lead)
    for activity in activities:
        setattr(activity, "conversation", records.get(activity.pk, []))  # noqa: B010  (shown under it)
    context = {
        "lead": lead, "mobile": present(actor, lead, "mobile"), "activities": activities,
        "kinds": [k for k in ActivityKind.choices if k[0] in {"call", "wechat", "sms", "visit", "note"}],
        "score_reasons": scoring.reasons_text(lead, 12),
        "outcomes": ActivityOutcome.choices, "grades": Grade.choices, "pending": pending,
        "reasons": [(r, lost_reason_label(r)) for r in services._store_rules(lead.store_id)[0].reasons()],
        "pending_reason": lost_reason_label(pending.reason) if pending is not None else "",
        "source_label": dict(LeadSource.choices).get(lead.source_channel, lead.source_channel),
        "can_change": can(actor, "change", lead), "can_assign": can(actor, "assign", lead),
        "can_lost": can(actor, "lost", lead), "can_approve": pending is not None and can(actor, "approve", pending),
        "consultants": _consultants(lead.store_id) if can(actor, "assign", lead) else [],
        "record_kinds": RecordKind.choices,
        "panels": [{"key": panel.key, "html": render_to_string(panel.template, {**ctx, "lead": lead}, request=request)}
                   for panel, ctx in panels_for("leads.lead", actor, lead)],
    }  # fmt: skip
    return render(request, "leads/lead_detail.html", context)


@login_required
@require_POST
def record_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a call recording or a chat excerpt to an activity of the lead (or a new one)."""
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    p = request.POST
    upload = request.FILES.get("file")

    def run() -> None:
        found = selectors.activity_of(lead=lead, pk=p["activity"]) if p.get("activity") else None
        services.conversation_record_add(
            actor=actor, lead=lead, kind=p.get("kind", ""), file=upload, name=getattr(upload, "name", ""),
            text=p.get("text", ""), activity=found, note=p.get("note", ""),
        )  # fmt: skip

    return _step(request, pk, run, _("Conversation record attached."))


@login_required
@require_GET
def record_file(request: HttpRequest, pk: int, record: int) -> FileResponse:
    """A recording's bytes, for whoever may see the lead (404 otherwise): never a public URL."""
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    found = selectors.record_get(lead=lead, pk=record)
    if not found.path:
        raise NotFound()
    return uploads.response(found.path, content_type=found.content_type, name=found.name)


def _step(request: HttpRequest, pk: int, run: Any, done: Any) -> HttpResponse:
    try:
        run()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        detail = "; ".join(str(m) for ms in exc.fields.values() for m in ms if str(m)) or str(exc.message)
        messages.error(request, detail)
    else:
        messages.success(request, str(done))
    return redirect("leads:lead_detail", pk=pk)


@login_required
@require_POST
def lead_activity(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    p = request.POST
    return _step(request, pk, lambda: services.lead_activity_log(
        actor=actor, lead=lead, kind=p.get("kind", ""), outcome=p.get("outcome", ""), note=p.get("note", ""),
        next_action_at=p.get("next_action_at") or None, grade=p.get("grade") if p.get("grade") is not None else None,
    ), _("Activity logged."))  # fmt: skip


@login_required
@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    version = request.POST.get("version", "")
    return _step(request, pk, lambda: services.lead_assign(
        actor=actor, lead=lead, consultant_id=request.POST.get("consultant"), reason=request.POST.get("reason", ""),
        version=int(version) if version.isdigit() and len(version) < 10 else None,
    ), _("Lead assigned."))  # fmt: skip


@login_required
@require_POST
def lead_lost(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = selectors.lead_get(actor=actor, pk=pk)
    return _step(request, pk, lambda: services.lost_request_create(
        actor=actor, lead=lead, reason=request.POST.get("reason", ""), note=request.POST.get("note", "")
    ), _("Lost request sent to the sales manager."))  # fmt: skip


@login_required
@require_POST
def lost_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    found = selectors.lost_request_get(actor=actor, pk=pk)
    approve = request.POST.get("decision") == "approve"
    fn = services.lost_request_approve if approve else services.lost_request_return
    return _step(request, found.lead_id, lambda: fn(actor=actor, request=found, note=request.POST.get("note", "")),
                 _("Lost request approved.") if approve else _("Lost request returned."))  # fmt: skip


# --- home panels --------------------------------------------------------------------------------


def panel_todo(request: ActorRequest) -> dict[str, Any] | None:
    """The consultant's day: new leads with the time left, follow-ups due today, overdue."""
    actor = request.actor
    if actor.role != Role.SALES or not can(actor, "change", Lead):
        return None
    return dict(selectors.lead_todo(actor=actor))


def panel_board(request: ActorRequest) -> dict[str, Any] | None:
    """The sales manager's board: SLA breaches, unassigned leads, lost requests, sleeping leads."""
    actor = request.actor
    if not can(actor, "assign", Lead):
        return None
    return selectors.lead_manager_board(actor=actor)
