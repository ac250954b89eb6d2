"""Lead pages: the list (filters; cards on a phone), one lead with its activities and next
action, the new-lead form, and the workflow steps (log an activity, assign, request lost,
decide a lost request), each calling one service. Home panels: the consultant's to-do and the
sales manager's board."""

from __future__ import annotations

import html
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.accounts.models import Membership
from autocrm.core import uploads
from autocrm.core.actor import ActorRequest, actor_of
from autocrm.core.errors import DomainError, NotFound
from autocrm.core.extensions import panels_for
from autocrm.core.permissions import Access, can, field_access, present, require_model
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


class Choice(NamedTuple):
    """A consultant in a drop-down: ``{{ u.pk }}`` and ``{{ u }}`` as a User would render."""

    pk: int
    label: str

    def __str__(self) -> str:
        return self.label


def _consultants(store_id: int | None) -> list[Choice]:
    """The store's active consultants for a drop-down, by username (one query of three columns)."""
    if store_id is None:
        return []
    rows = (
        Membership.objects.filter(store_id=store_id, role__in=list(CONSULTANT_ROLES), is_active=True)
        .order_by("user__username", "user_id")
        .values_list("user_id", "user__display_name", "user__username")
    )
    seen: dict[int, Choice] = {}
    for uid, display, username in rows:
        if uid not in seen:
            seen[uid] = Choice(uid, display or username)
    return list(seen.values())


_ROW = (
    '<tr><td><a href="{url}">{name}</a></td><td>{mobile}{flag}</td><td>{status}</td><td>{grade}</td>'
    '<td><span class="badge {badge}" title="{reasons}">{score}</span></td><td>{source}</td><td>{who}</td>'
    "<td>{arrived}</td><td>{next}</td></tr>"
)
_CARD = (
    '<a class="card card-link mb-2" href="{url}" data-testid="lead-card"><div class="card-body py-2">'
    '<div class="d-flex"><strong>{name}</strong><span class="ms-2 badge bg-secondary-lt">{score_word} {score}</span>'
    '<span class="ms-auto badge">{status}</span></div><div class="text-secondary small">{mobile} · {source} · '
    '{grade}</div><div class="small">{who} · {arrived_short}</div></div></a>'
)


def _list_rows(actor: Any, items: list[dict[str, Any]]) -> tuple[SafeString, SafeString]:
    """The list's rows as HTML, the table's and the phone's cards, from the selector's plain
    values: the labels, the link, the masked mobile and the score's reasons are worked out once per
    page or per distinct value (``scoring.reasons_text``'s cache), every value escaped
    (``html.escape``, as the template's autoescape) into two fixed row strings — no template
    lookups per cell (docs/benchmarks.md, h/leadperf2)."""
    e = html.escape
    statuses, sources, flags = (
        {value: e(str(label)) for value, label in choices.choices} for choices in (LeadStatus, LeadSource, MobileFlag)
    )
    link = reverse("leads:lead_detail", args=[0]).removesuffix("0/")
    access = field_access(actor, Lead, "mobile")
    masker = getattr(Lead._meta.get_field("mobile"), "mask", None) if access is Access.MASKED else None
    unassigned = f'<span class="text-warning">{e(str(_("Not assigned")))}</span>'
    score_word = e(str(_("Score")))
    tz = timezone.get_current_timezone()
    language = get_language()
    table, cards = [], []
    for r in items:
        mobile = None if access is Access.HIDDEN else r["mobile"]
        if mobile and masker is not None:
            mobile = masker(mobile)
        code = r["mobile_flag"]
        arrived = r["arrived_at"].astimezone(tz)
        nxt = r["next_action_at"]
        consultant = (r["consultant__display_name"] or r["consultant__username"]) if r["consultant_id"] else ""
        score = int(r["score"])
        cells = {
            "url": f"{link}{r['id']}/",
            "name": e(r["name"]) if r["name"] else "—",
            "mobile": e(mobile) if mobile else "—",
            "flag": f' <span class="badge bg-warning-lt">{flags.get(code) or e(code)}</span>' if code else "",
            "status": statuses.get(r["status"]) or e(r["status"]),
            "grade": e(r["grade"]) if r["grade"] else "—",
            "score": score,
            "badge": "bg-red-lt" if score >= 80 else "bg-orange-lt" if score >= 50 else "bg-secondary-lt",
            "reasons": e(" · ".join(scoring.reasons_text(r, 3, language=language))),
            "source": sources.get(r["source_channel"]) or e(r["source_channel"]),
            "who": e(consultant) if consultant else unassigned,
            "arrived": arrived.strftime("%Y-%m-%d %H:%M"),
            "arrived_short": arrived.strftime("%m-%d %H:%M"),
            "next": nxt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if nxt is not None else "—",
            "score_word": score_word,
        }
        table.append(_ROW.format_map(cells))
        cards.append(_CARD.format_map(cells))
    return mark_safe("".join(table)), mark_safe("".join(cards))  # noqa: S308  (every value escaped above)


def _options(choices: Any, chosen: Any) -> SafeString:
    """``<option>`` elements of ``(value, label)`` pairs, the ``chosen`` value selected."""
    e = html.escape
    chosen = "" if chosen is None else str(chosen)
    return mark_safe("".join(  # noqa: S308  (every value escaped)
        f'<option value="{e(str(v))}"{" selected" if str(v) == chosen else ""}>{e(str(label))}</option>'
        for v, label in choices
    ))  # fmt: skip


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    """Leads in scope, newest first, keyset pages; filters status, grade, source, consultant."""
    actor = actor_of(request)
    require_model(actor, "view", Lead)
    filters = {k: request.GET.get(k) or None for k in selectors.FILTERS}
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.SORTS else "recent"
    try:
        page = selectors.lead_row_page(
            actor=actor, filters=filters, limit=PAGE_SIZE, cursor=request.GET.get("cursor"), sort=sort
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        page = selectors.lead_row_page(actor=actor, filters={}, limit=PAGE_SIZE, sort=sort)
        filters = {}
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    table_rows, card_rows = _list_rows(actor, page.items)
    by_score = request.GET.copy()
    by_score.pop("cursor", None)
    by_score["sort"] = "recent" if sort == "score" else "score"
    context = {
        "rows": bool(page.items), "table_rows": table_rows, "card_rows": card_rows, "filters": filters,
        "next_query": query.urlencode() if page.next_cursor else "",
        "options": {
            "status": _options(LeadStatus.choices, filters.get("status")),
            "grade": _options([g for g in Grade.choices if g[0]], filters.get("grade")),
            "source_channel": _options(LeadSource.choices, filters.get("source_channel")),
            "consultant": _options(((u.pk, u.label) for u in _consultants(actor.store_id)), filters.get("consultant")),
        },
        "can_add": can(actor, "add", Lead), "sort": sort, "sort_query": by_score.urlencode(),
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
                                                       "model_interest", "brand_interest", "message", "grade",
                                                       "referral_code")}  # fmt: skip
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


TODO_SORT_LABELS = {
    "due": pgettext_lazy("to-do sort", "Time left"),
    "score": pgettext_lazy("to-do sort", "Score"),
    "arrived": pgettext_lazy("to-do sort", "Arrived"),
}
_TODO_LINE = (
    '<a class="list-group-item list-group-item-action d-flex align-items-center gap-2" href="{url}">'
    '<span class="text-truncate">{name}</span><span class="badge {badge}" title="{score_word}">{score}</span>'
    '<span class="ms-auto text-nowrap {cls}">{arrived}{when}</span></a>'
)


def panel_todo(request: ActorRequest) -> dict[str, Any] | None:
    """The consultant's day: new leads with the time left, follow-ups due today, overdue — each
    section sorted by ``?todo=`` (time left, score, arrival: ``selectors.TODO_SORTS``, kept in the
    URL; the links swap the panel alone through ``core.views.home_panel``) and its lines built
    here (one reverse, local times, the minutes' text), not per line in the template."""
    actor = request.actor
    if actor.role != Role.SALES or not can(actor, "change", Lead):
        return None
    sort = request.GET.get("todo") or "due"
    sort = sort if sort in selectors.TODO_SORTS else "due"
    todo = selectors.lead_todo(actor=actor, sort=sort)
    link = reverse("leads:lead_detail", args=[0]).removesuffix("0/")
    tz = timezone.get_current_timezone()
    e = html.escape
    late, left = str(_("%(m)s min late")), str(_("%(m)s min left"))
    score_word = e(str(_("Score")))

    def when_new(lead: Any) -> tuple[str, str]:
        m = lead.minutes_left
        if m is None:
            return "text-secondary", "—"
        if m < 0:
            return "text-danger", e(late % {"m": -m})
        return "text-secondary", e(left % {"m": m})

    def lines(leads: list[Any], when: Any) -> SafeString:
        out = []
        for lead in leads:
            cls, text = when(lead)
            arrived = lead.arrived_at
            out.append(_TODO_LINE.format(
                url=f"{link}{lead.pk}/", name=e(lead.name) if lead.name else lead.pk, score=lead.score,
                badge="bg-red-lt" if lead.score >= 80 else "bg-orange-lt" if lead.score >= 50 else "bg-secondary-lt",
                score_word=score_word, cls=cls, when=text,
                arrived=f'<small class="text-secondary me-2">{arrived.astimezone(tz).strftime("%m-%d %H:%M")}</small>'
                if sort == "arrived" and arrived is not None else "",
            ))  # fmt: skip
        return mark_safe("".join(out))  # noqa: S308  (every value escaped)

    home, fragment = reverse("home"), reverse("home_panel", args=["leads_todo"])
    sorts = []
    for key, label in TODO_SORT_LABELS.items():
        query = request.GET.copy()
        query["todo"] = key
        sorts.append({"key": key, "label": label, "active": key == sort, "href": f"{home}?{query.urlencode()}",
                      "hx": f"{fragment}?{query.urlencode()}"})  # fmt: skip
    return {
        **todo,
        "sort": sort,
        "sorts": sorts,
        "new_lines": lines(todo["new"], when_new),
        "today_lines": lines(todo["today"], lambda lead: ("text-secondary", lead.next_action_at.astimezone(tz).strftime("%H:%M"))),
        "overdue_lines": lines(todo["overdue"], lambda lead: ("text-danger", lead.next_action_at.astimezone(tz).strftime("%m-%d %H:%M"))),
    }  # fmt: skip


def panel_board(request: ActorRequest) -> dict[str, Any] | None:
    """The sales manager's board: SLA breaches, unassigned leads, lost requests, sleeping leads."""
    actor = request.actor
    if not can(actor, "assign", Lead):
        return None
    return selectors.lead_manager_board(actor=actor)
