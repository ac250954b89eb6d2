"""Reads of leads, always from the actor's scope: lists, one lead, the to-do lists of the home
pages, sleeping leads, the lost-request queue and the lost-reason report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.fields import blind_lookup
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model, scope_for, store_ids_for

from .choices import OPEN_STATUSES, Grade, LeadSource, LeadStatus, LostRequestStatus
from .models import ConversationRecord, Lead, LeadActivity, LostRequest
from .services import _store_rules as store_rules

FILTERS = ("status", "grade", "source_channel", "consultant", "unassigned")
# How a list may be ordered (keyset pages; the score by the lead_consultant_score index).
SORTS = {"recent": ("-arrived_at", "-id"), "score": ("-score", "-id")}


def lead_list(*, actor: Actor, filters: dict[str, Any] | None = None, action: str = "view") -> QuerySet[Lead]:
    """Leads the actor may see (consultant: own; managers: the store; director: the group),
    narrowed by status, grade, source, consultant or ``unassigned``; a bad value is a 400 naming
    the filter. Order is left to the caller's paginator."""
    filters = filters or {}
    qs: QuerySet[Lead] = Lead.objects.for_actor(actor, action)
    errors: dict[str, list[Any]] = {}
    for name, allowed in (
        ("status", LeadStatus.values),
        ("grade", Grade.values),
        ("source_channel", LeadSource.values),
    ):
        value = filters.get(name)
        if value in (None, ""):
            continue
        if value == "open" and name == "status":
            qs = qs.filter(status__in=list(OPEN_STATUSES))
        elif value not in allowed:
            errors[name] = [_("Choose one of the listed values.")]
        else:
            qs = qs.filter(**{name: value})
    consultant = filters.get("consultant")
    if consultant not in (None, ""):
        try:
            cid = int(consultant)
            if not 0 < cid < 2**63:
                raise ValueError
            qs = qs.filter(consultant_id=cid)
        except (TypeError, ValueError, OverflowError):
            errors["consultant"] = [_("Enter a whole number.")]
    if filters.get("unassigned") in (True, "1", "true"):
        qs = qs.filter(consultant__isnull=True, status__in=list(OPEN_STATUSES))
    if errors:
        raise ValidationError(fields=errors)
    return qs


def lead_page(
    *, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: str | None = None,
    sort: str | None = None,
) -> Page:  # fmt: skip
    """A keyset page of :func:`lead_list`, newest first (``sort="score"``: highest score first);
    403 for a role without leads, 400 naming ``sort`` for an unknown order."""
    require_model(actor, "view", Lead)
    if sort not in (None, "") and sort not in SORTS:
        raise ValidationError(fields={"sort": [_("Choose one of: %(sorts)s.") % {"sorts": ", ".join(SORTS)}]})
    qs = lead_list(actor=actor, filters=filters).select_related("consultant")
    return paginate(qs, ordering=SORTS[sort or "recent"], limit=limit, cursor=cursor)


# The list page's columns, read as plain values: no model instance per row, the consultant's name
# from the same join select_related would make (conventions §10; docs/benchmarks.md, h/leadperf2).
ROW_FIELDS = ("id", "name", "mobile", "mobile_flag", "status", "grade", "score", "score_reasons", "source_channel",
              "consultant_id", "consultant__display_name", "consultant__username", "arrived_at",
              "next_action_at")  # fmt: skip


def lead_row_page(
    *, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: str | None = None,
    sort: str | None = None,
) -> Page:  # fmt: skip
    """:func:`lead_page` with each item a dict of :data:`ROW_FIELDS` (the list page's columns;
    ``mobile`` as stored — the caller presents it). The same scope, filters, errors and cursors."""
    require_model(actor, "view", Lead)
    if sort not in (None, "") and sort not in SORTS:
        raise ValidationError(fields={"sort": [_("Choose one of: %(sorts)s.") % {"sorts": ", ".join(SORTS)}]})
    qs = lead_list(actor=actor, filters=filters).values(*ROW_FIELDS)
    return paginate(qs, ordering=SORTS[sort or "recent"], limit=limit, cursor=cursor)


def lead_get(*, actor: Actor, pk: Any, action: str = "view") -> Lead:
    """One lead in scope (404 otherwise; 403 in scope but ``action`` not allowed)."""
    return get_in_scope(Lead.objects.select_related("consultant", "customer"), actor, pk, action)


def lead_activities(*, lead: Lead, limit: int = 50) -> list[LeadActivity]:
    return list(
        LeadActivity.objects.filter(lead=lead, store_id=lead.store_id)
        .select_related("user")
        .order_by("-at", "-id")[:limit]
    )


@dataclass(slots=True)
class TodoLead:
    """One line of the to-do list: what it shows of a lead (read as values, no model instance)."""

    pk: int
    name: str
    status: str
    first_contact_due: dt.datetime | None
    next_action_at: dt.datetime | None
    minutes_left: int | None = None
    score: int = 0
    arrived_at: dt.datetime | None = None

    @property
    def id(self) -> int:
        return self.pk

    def __str__(self) -> str:
        return self.name or str(self.pk)


# How the to-do lists may be sorted (item 10: "lists sortable"): the time left (the deadline of a
# new lead's first contact, the next action's time of a follow-up: the most urgent first), the
# score (hottest first) or the arrival (newest first). Each section is sorted and cut in the
# database, so "the 20 best scored" are the section's best, not the best of an arbitrary 60.
TODO_SORTS: dict[str, dict[str, str]] = {
    "due": {
        "new": "first_contact_due IS NULL, first_contact_due, id",
        "today": "next_action_at, id",
        "overdue": "next_action_at, id",
    },
    "score": dict.fromkeys(("new", "today", "overdue"), "score DESC, id DESC"),
    "arrived": dict.fromkeys(("new", "today", "overdue"), "arrived_at DESC, id DESC"),
}
_TODO_COLUMNS = ("id", "name", "status", "first_contact_due", "next_action_at", "score", "arrived_at")
_TODO_SQL: dict[tuple[str, str, int], str] = {}


def _todo_sql(sort: str, stores: int) -> str:
    """The to-do's one statement for this sort and number of stores: three LIMITed selects (new
    leads not yet answered; follow-ups due from now to the end of the day; overdue ones) joined by
    UNION ALL, each on the ``lead_consultant_list`` index (store, consultant, status). Written once
    per database and shape: built by the ORM it was most of the panel's CPU."""
    key = (connection.vendor, sort, stores)
    sql = _TODO_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        table = q(Lead._meta.db_table)
        columns = ", ".join(q(c) for c in _TODO_COLUMNS)
        mine = f"store_id IN ({', '.join(['%s'] * stores)}) AND consultant_id = %s"
        working = "status IN (%s, %s, %s)"
        where = {
            "new": f"{mine} AND status = %s AND first_contact_at IS NULL",
            "today": f"{mine} AND {working} AND next_action_at >= %s AND next_action_at <= %s",
            "overdue": f"{mine} AND {working} AND next_action_at < %s",
        }
        parts = [
            f"SELECT * FROM (SELECT {n} AS section, {columns} FROM {table} WHERE {where[name]} "
            f"ORDER BY {TODO_SORTS[sort][name]} LIMIT %s) AS {q('todo_' + name)}"
            for n, name in enumerate(("new", "today", "overdue"))
        ]
        sql = _TODO_SQL[key] = " UNION ALL ".join(parts)
    return sql


def _aware(value: Any) -> dt.datetime | None:
    """A datetime column read through a raw UNION (SQLite hands its text back)."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


def lead_todo(
    *, actor: Actor, now: dt.datetime | None = None, limit: int = 20, sort: str = "due"
) -> dict[str, list[TodoLead]]:
    """A consultant's day: new leads to answer (with the minutes left), follow-ups due today and
    overdue ones — their own leads in the stores their role sees them, in one query, each section
    sorted by ``sort`` (``TODO_SORTS``; an unknown one is the time left) and cut at ``limit``."""
    now = now or timezone.now()
    sort = sort if sort in TODO_SORTS else "due"
    empty: dict[str, list[TodoLead]] = {"new": [], "today": [], "overdue": []}
    scope = scope_for(actor, Lead, "view")
    if scope is None:
        return empty
    stores = store_ids_for(actor, scope)
    if not stores or actor.user_id is None:
        return empty
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=999999)
    ops = connection.ops
    at, until = ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(end_of_day)
    mine = [*stores, actor.user_id]
    working = [LeadStatus.CONTACTED.value, LeadStatus.VISITED.value, LeadStatus.NEGOTIATING.value]
    params = [
        *mine, LeadStatus.NEW.value, limit,
        *mine, *working, at, until, limit,
        *mine, *working, at, limit,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_todo_sql(sort, len(stores)), params)
        rows = cursor.fetchall()
    out = empty
    sections = ("new", "today", "overdue")
    for section, pk, name, status, due, nxt, score, arrived in rows:
        out[sections[int(section)]].append(
            TodoLead(pk, name, status, _aware(due), _aware(nxt), None, int(score or 0), _aware(arrived))
        )
    for lead in out["new"]:
        due = lead.first_contact_due
        lead.minutes_left = int((due - now).total_seconds() // 60) if due else None
    return out


def lead_manager_board(*, actor: Actor, now: dt.datetime | None = None, limit: int = 20) -> dict[str, Any]:
    """The sales manager's view of the store: SLA breaches (first contact missed, follow-ups
    overdue), unassigned leads, lost requests to decide, sleeping leads."""
    now = now or timezone.now()
    store = Lead.objects.for_actor(actor, "assign")
    breaches = list(
        store.filter(
            Q(status=LeadStatus.NEW, first_contact_at__isnull=True, first_contact_due__lt=now)
            | Q(status__in=[LeadStatus.CONTACTED, LeadStatus.VISITED, LeadStatus.NEGOTIATING], next_action_at__lt=now)
        )
        .select_related("consultant")
        .order_by("first_contact_due", "id")[:limit]
    )
    unassigned = list(
        store.filter(consultant__isnull=True, status__in=list(OPEN_STATUSES)).order_by("arrived_at", "id")[:limit]
    )
    lost = list(
        LostRequest.objects.for_actor(actor, "approve")
        .filter(status=LostRequestStatus.PENDING)
        .select_related("lead", "requested_by")
        .order_by("created_at", "id")[:limit]
    )
    return {"breaches": breaches, "unassigned": unassigned, "lost_requests": lost,
            "sleeping": lead_sleeping(actor=actor, now=now, limit=limit)}  # fmt: skip


def lead_sleeping(*, actor: Actor, now: dt.datetime | None = None, limit: int = 50) -> list[Lead]:
    """Open, contacted leads nobody touched for the store's ``sleeping_days``: to wake up or
    reassign."""
    now = now or timezone.now()
    if actor.store_id is None:
        return []
    days = store_rules(actor.store_id)[0].sleeping_days
    cutoff = now - dt.timedelta(days=days)
    return list(
        Lead.objects.for_actor(actor, "view")
        .filter(status__in=[LeadStatus.CONTACTED, LeadStatus.VISITED, LeadStatus.NEGOTIATING], last_touch_at__lt=cutoff)
        .select_related("consultant")
        .order_by("last_touch_at", "id")[:limit]
    )


def lost_request_get(*, actor: Actor, pk: Any, action: str = "view") -> LostRequest:
    return get_in_scope(LostRequest.objects.select_related("lead"), actor, pk, action)


def lost_reason_report(*, actor: Actor, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Approved lost requests counted by reason (most frequent first), in the actor's scope."""
    require_model(actor, "view", LostRequest)
    qs = LostRequest.objects.for_actor(actor, "view").filter(status=LostRequestStatus.APPROVED)
    if since is not None:
        qs = qs.filter(decided_at__gte=since)
    return list(qs.values("reason").annotate(count=Count("id")).order_by("-count", "reason"))


def open_lead_by_mobile(*, actor: Actor, mobile: Any) -> Lead | None:
    """The most recent open lead with this mobile (blind index) that the actor may work on."""
    text = str(mobile or "").strip()[:40]
    if not text:
        return None
    return (
        Lead.objects.for_actor(actor, "change")
        .filter(**blind_lookup(Lead, "mobile_index", text), status__in=list(OPEN_STATUSES))
        .order_by("-arrived_at", "-id")
        .first()
    )


def activity_of(*, lead: Lead, pk: Any) -> LeadActivity:
    """One activity of the lead (400-free: a foreign or bad id is a 404, like a missing one)."""
    try:
        return LeadActivity.objects.get(lead=lead, store_id=lead.store_id, pk=int(str(pk)))
    except (LeadActivity.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound() from None


def lead_records(*, lead: Lead) -> dict[int, list[ConversationRecord]]:
    """The conversation records of the lead, by activity id, in one query."""
    out: dict[int, list[ConversationRecord]] = {}
    for record in ConversationRecord.objects.filter(lead=lead, store_id=lead.store_id).order_by("id"):
        out.setdefault(record.activity_id, []).append(record)
    return out


def record_get(*, lead: Lead, pk: Any) -> ConversationRecord:
    try:
        return ConversationRecord.objects.get(lead=lead, store_id=lead.store_id, pk=int(str(pk)))
    except (ConversationRecord.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound() from None
