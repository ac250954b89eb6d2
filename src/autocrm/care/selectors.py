"""Reads of the care app: the store's settings, the follow-up and complaint lists, what a person's
home shows, and the complaint reports. Every list starts from ``for_actor``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import inputs
from autocrm.core.actor import Actor
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model
from autocrm.core.roles import Role

from .choices import (
    COUNTED_STATUSES,
    DEFAULT_DEADLINES,
    DEFAULT_SCRIPTS,
    LEVEL_GM,
    LEVEL_MANAGER,
    ComplaintStatus,
    Department,
    FollowUpStatus,
    ResponseStatus,
    Severity,
    SurveyKind,
    WinBackReason,
)
from .models import CareSettings, Complaint, FollowUp, SurveyResponse, WinBack

# The manager of each owning department (level 1 of a complaint's escalation).
DEPARTMENT_MANAGER: dict[str, str] = {
    Department.AFTERSALES: Role.SERVICE_MANAGER,
    Department.SALES: Role.SALES_MANAGER,
    Department.CARE: Role.MANAGER,
}


def settings_for(store_id: int) -> CareSettings:
    """The store's care rules; an unsaved row with the defaults when never set."""
    found = CareSettings.objects.filter(store_id=store_id).first()  # scoped: the caller's store, rules not data
    return found if found is not None else CareSettings(store_id=store_id)


def deadline_hours(settings: CareSettings, severity: str, status: str) -> int | None:
    """Hours the complaint step ``status`` may take at ``severity`` (the store's, else the default)."""
    custom = (settings.deadlines or {}).get(severity) or {}
    hours = custom.get(status, DEFAULT_DEADLINES.get(severity, DEFAULT_DEADLINES[Severity.MEDIUM]).get(status))
    try:
        return int(hours) if hours is not None else None
    except (TypeError, ValueError):
        return None


def script_for(settings: CareSettings, kind: str) -> str:
    return str((settings.scripts or {}).get(kind) or DEFAULT_SCRIPTS.get(kind, ""))


# --------------------------------------------------------------------------- follow-ups

_FU_RELATED = ("customer", "vehicle", "agent", "staff")


def followup_queryset(*, actor: Actor) -> QuerySet[FollowUp]:
    require_model(actor, "view", FollowUp)
    return FollowUp.objects.for_actor(actor, "view").select_related(*_FU_RELATED)


def followup_get(*, actor: Actor, pk: int, action: str = "view") -> FollowUp:
    return get_in_scope(FollowUp.objects.select_related(*_FU_RELATED), actor, pk, action)


def followup_page(*, actor: Actor, filters: Mapping[str, Any], limit: Any = None, cursor: str | None = None) -> Page:
    """Follow-up calls in scope, soonest due first. ``status`` (default open), ``mine`` (the
    caller's own), ``overdue`` (past due only), ``kind``."""
    errors = inputs.Errors()
    status = inputs.choice(errors, filters, "status", FollowUpStatus, default=FollowUpStatus.OPEN)
    errors.raise_if_any()
    qs = followup_queryset(actor=actor).filter(status=status)
    if inputs.boolean(filters.get("mine")):
        qs = qs.filter(agent_id=actor.user_id)
    if inputs.boolean(filters.get("overdue")):
        qs = qs.filter(due_at__lt=timezone.now())
    kind = filters.get("kind")
    if kind:
        from .choices import FollowUpKind

        inputs.choice(errors, filters, "kind", FollowUpKind)
        errors.raise_if_any()
        qs = qs.filter(kind=kind)
    return paginate(qs, ordering=("due_at", "id"), limit=limit, cursor=cursor)


def followups_today(*, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any]:
    """The caller's open calls: due today (or whose next attempt is today) and overdue ones."""
    now = now or timezone.now()
    end = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    qs = followup_queryset(actor=actor).filter(status=FollowUpStatus.OPEN, agent_id=actor.user_id)
    rows = list(qs.filter(Q(due_at__lte=end) | Q(next_attempt_at__lte=end)).order_by("due_at", "id")[:30])
    settings = settings_for(actor.require_store_id())
    return {
        "today": [r for r in rows if r.due_at >= now],
        "overdue": [r for r in rows if r.due_at < now],
        "scripts": {k: script_for(settings, k) for k in DEFAULT_SCRIPTS},
        "now": now,
    }


# --------------------------------------------------------------------------- complaints

_C_RELATED = ("customer", "vehicle", "assignee", "staff")


def complaint_queryset(*, actor: Actor, action: str = "view") -> QuerySet[Complaint]:
    require_model(actor, action, Complaint)
    return Complaint.objects.for_actor(actor, action).select_related(*_C_RELATED)


def complaint_get(*, actor: Actor, pk: int, action: str = "view") -> Complaint:
    return get_in_scope(Complaint.objects.select_related(*_C_RELATED), actor, pk, action)


def complaint_page(*, actor: Actor, filters: Mapping[str, Any], limit: Any = None, cursor: str | None = None) -> Page:
    """Complaints in scope by deadline (open ones first by the step due, then the closed).
    ``status`` one status or ``open`` (default, every status but closed) or ``all``;
    ``escalated`` those escalated at all; ``severity``."""
    errors = inputs.Errors()
    status = str(filters.get("status") or "open")
    if status not in ("open", "all"):
        inputs.choice(errors, filters, "status", ComplaintStatus)
    severity = filters.get("severity")
    if severity:
        inputs.choice(errors, filters, "severity", Severity)
    errors.raise_if_any()
    qs = complaint_queryset(actor=actor)
    if status == "open":
        qs = qs.exclude(status=ComplaintStatus.CLOSED)
    elif status != "all":
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if inputs.boolean(filters.get("escalated")):
        qs = qs.filter(level__gte=LEVEL_MANAGER)
    if status == "open":
        return paginate(qs.exclude(step_due_at=None), ordering=("step_due_at", "id"), limit=limit, cursor=cursor)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def escalations_for(*, actor: Actor) -> QuerySet[Complaint]:
    """Open complaints whose escalation reached the caller: the general manager (店总) sees those
    at level 2 (总经理督办), a department's manager those of their department at level 1 or more."""
    if actor.store_id is None or actor.role not in (Role.MANAGER, Role.SALES_MANAGER, Role.SERVICE_MANAGER):
        return Complaint.objects.none()
    qs = Complaint.objects.for_actor(actor, "view").exclude(status=ComplaintStatus.CLOSED)
    if actor.role == Role.MANAGER:
        reach = Q(level__gte=LEVEL_GM) | Q(level__gte=LEVEL_MANAGER, department=Department.CARE)
    else:
        departments = [d for d, r in DEPARTMENT_MANAGER.items() if r == actor.role]
        reach = Q(level__gte=LEVEL_MANAGER, department__in=departments)
    return qs.filter(reach).select_related("customer").order_by("step_due_at", "id")


REPORT_DIMENSIONS = {
    "root_cause": _("Root cause"),
    "store": _("Store"),
    "staff": _("Staff concerned"),
}


def complaint_report(*, actor: Actor, by: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Complaints received in [start, end) grouped by root cause, store or the staff concerned:
    how many, how many closed, escalated, reopened and past a deadline now."""
    if by not in REPORT_DIMENSIONS:
        errors = inputs.Errors()
        errors.add("by", _("Choose root cause, store or staff."))
        errors.raise_if_any()
    field = {"root_cause": "root_cause", "store": "store_id", "staff": "staff_id"}[by]
    now = timezone.now()
    rows = (
        complaint_queryset(actor=actor)
        .filter(received_at__gte=start, received_at__lt=end)
        .order_by()
        .values(field)
        .annotate(
            total=Count("id"),
            closed=Count("id", filter=Q(status=ComplaintStatus.CLOSED)),
            escalated=Count("id", filter=Q(level__gte=LEVEL_MANAGER)),
            reopened=Count("id", filter=Q(reopened__gt=0)),
            overdue=Count("id", filter=Q(step_due_at__lt=now) & ~Q(status=ComplaintStatus.CLOSED)),
        )
        .order_by("-total")
    )
    return [{"key": r[field], **{k: r[k] for k in ("total", "closed", "escalated", "reopened", "overdue")}}
            for r in rows]  # fmt: skip


def store_staff(*, actor: Actor) -> list[tuple[int, str]]:
    """The people working in the caller's store (a complaint's handler is one of them)."""
    from autocrm.accounts.models import Membership

    rows = (
        Membership.objects.filter(store_id=actor.require_store_id(), is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("role", "user_id")
    )
    return [(m.user_id, m.user.display_name or m.user.username) for m in rows]


# --------------------------------------------------------------------------- surveys


def survey_queryset(*, actor: Actor) -> QuerySet[SurveyResponse]:
    require_model(actor, "view", SurveyResponse)
    return SurveyResponse.objects.for_actor(actor, "view").select_related("customer", "staff")


def survey_get(*, actor: Actor, pk: int, action: str = "view") -> SurveyResponse:
    return get_in_scope(SurveyResponse.objects.select_related("customer", "staff"), actor, pk, action)


def survey_page(*, actor: Actor, filters: Mapping[str, Any], limit: Any = None, cursor: str | None = None) -> Page:
    """Answers in scope, newest first: ``status`` (one status, or ``flagged`` alone), ``kind``."""
    errors = inputs.Errors()
    if filters.get("status"):
        inputs.choice(errors, filters, "status", ResponseStatus)
    if filters.get("kind"):
        inputs.choice(errors, filters, "kind", SurveyKind)
    errors.raise_if_any()
    qs = survey_queryset(actor=actor)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    return paginate(qs, ordering=("-answered_at", "-id"), limit=limit, cursor=cursor)


def nps_of(answers: list[int]) -> float | None:
    """Net promoter score: the share of 9–10 less the share of 0–6, in points (−100 … 100)."""
    if not answers:
        return None
    promoters = sum(1 for a in answers if a >= 9)
    detractors = sum(1 for a in answers if a <= 6)
    return round((promoters - detractors) * 100 / len(answers), 1)


def survey_scores(*, actor: Actor, start: dt.datetime, end: dt.datetime, by: str = "store") -> list[dict[str, Any]]:
    """CSI (mean 0–100) and NPS per store, staff member (advisor or consultant) or month over
    the counted answers in [start, end): flagged answers wait outside until reviewed."""
    if by not in ("store", "staff", "month"):
        errors = inputs.Errors()
        errors.add("by", _("Choose store, staff or month."))
        errors.raise_if_any()
    qs = survey_queryset(actor=actor).filter(answered_at__gte=start, answered_at__lt=end, status__in=COUNTED_STATUSES)
    groups: dict[Any, dict[str, Any]] = {}
    for store_id, staff_id, at, csi, nps in qs.values_list("store_id", "staff_id", "answered_at", "csi", "nps"):
        key = store_id if by == "store" else staff_id if by == "staff" else timezone.localtime(at).strftime("%Y-%m")
        g = groups.setdefault(key, {"key": key, "csi": [], "nps": []})
        if csi is not None:
            g["csi"].append(float(csi))
        if nps is not None:
            g["nps"].append(int(nps))
    out = []
    for g in groups.values():
        out.append({"key": g["key"], "csi": round(sum(g["csi"]) / len(g["csi"]), 1) if g["csi"] else None,
                    "csi_count": len(g["csi"]), "nps": nps_of(g["nps"]), "nps_count": len(g["nps"])})  # fmt: skip
    return sorted(out, key=lambda r: str(r["key"]))


def survey_month(*, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any]:
    """This month's CSI and NPS in scope, the flagged answers waiting, and the lowest-scored
    visits: two queries (one aggregate, the five lowest)."""
    from django.db.models import Avg

    now = timezone.localtime(now or timezone.now())
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    qs = survey_queryset(actor=actor).filter(answered_at__gte=start)
    counted = Q(status__in=COUNTED_STATUSES)
    agg = qs.aggregate(
        csi_avg=Avg("csi", filter=counted), csi_count=Count("csi", filter=counted),
        nps_count=Count("nps", filter=counted), promoters=Count("nps", filter=counted & Q(nps__gte=9)),
        detractors=Count("nps", filter=counted & Q(nps__lte=6)), flagged=Count("id", filter=Q(status=ResponseStatus.FLAGGED)),
    )  # fmt: skip
    n = agg["nps_count"] or 0
    nps = round((agg["promoters"] - agg["detractors"]) * 100 / n, 1) if n else None
    lowest = list(qs.filter(counted).exclude(csi=None).order_by("csi", "id")[:5])
    return {"csi": round(float(agg["csi_avg"]), 1) if agg["csi_avg"] is not None else None, "csi_count": agg["csi_count"],
            "nps": nps, "nps_count": n, "lowest": lowest, "flagged": agg["flagged"]}  # fmt: skip


# --------------------------------------------------------------------------- win-back


def winback_queryset(*, actor: Actor) -> QuerySet[WinBack]:
    require_model(actor, "view", WinBack)
    return WinBack.objects.for_actor(actor, "view").select_related("customer")


def winback_get(*, actor: Actor, pk: int, action: str = "view") -> WinBack:
    return get_in_scope(WinBack.objects.select_related("customer"), actor, pk, action)


def winback_page(*, actor: Actor, filters: Mapping[str, Any], limit: Any = None, cursor: str | None = None) -> Page:
    """Win-backs in scope, newest flagged first: ``state`` (``open``: not back yet, ``returned``,
    ``answered``, ``flagged``: an answer waiting for review), ``reason``."""
    errors = inputs.Errors()
    state = str(filters.get("state") or "")
    if state not in ("", "open", "returned", "answered", "flagged"):
        errors.add("state", _("Choose one of the listed values."))
    if filters.get("reason"):
        inputs.choice(errors, filters, "reason", WinBackReason)
    errors.raise_if_any()
    qs = winback_queryset(actor=actor)
    if state == "open":
        qs = qs.filter(returned_at=None)
    elif state == "returned":
        qs = qs.exclude(returned_at=None)
    elif state == "answered":
        qs = qs.exclude(answered_at=None)
    elif state == "flagged":
        qs = qs.filter(status=ResponseStatus.FLAGGED)
    if filters.get("reason"):
        qs = qs.filter(reason=filters["reason"])
    return paginate(qs, ordering=("-flagged_at", "-id"), limit=limit, cursor=cursor)


WINBACK_DIMENSIONS = ("store", "reason", "month")


def winback_report(*, actor: Actor, by: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Win-backs flagged in [start, end) grouped by store, reason or month flagged: how many
    were flagged, contacted, answered (counted answers: a flagged one waits for review),
    returned, and the win-back rate (returned / flagged, %). One grouped query."""
    if by not in WINBACK_DIMENSIONS:
        errors = inputs.Errors()
        errors.add("by", _("Choose store, reason or month."))
        errors.raise_if_any()
    from django.db.models.functions import TruncMonth

    qs = winback_queryset(actor=actor).filter(flagged_at__gte=start, flagged_at__lt=end).order_by()
    if by == "month":
        qs = qs.annotate(key=TruncMonth("flagged_at", tzinfo=timezone.get_current_timezone()))
    else:
        qs = qs.annotate(key=models.F("store_id" if by == "store" else "reason"))
    rows = qs.values("key").annotate(
        flagged=Count("id"),
        contacted=Count("id", filter=Q(contacted_at__isnull=False)),
        answered=Count("id", filter=Q(answered_at__isnull=False, status__in=COUNTED_STATUSES)),
        returned=Count("id", filter=Q(returned_at__isnull=False)),
    )
    out = []
    for r in rows:
        key = r["key"]
        if by == "month" and key is not None:
            key = timezone.localtime(key).strftime("%Y-%m") if timezone.is_aware(key) else key.strftime("%Y-%m")
        rate = round(r["returned"] * 100 / r["flagged"], 1) if r["flagged"] else None
        out.append({"key": key, "flagged": r["flagged"], "contacted": r["contacted"], "answered": r["answered"],
                    "returned": r["returned"], "rate": rate})  # fmt: skip
    return sorted(out, key=lambda r: str(r["key"]))


def won_back_customers(store_id: int, customer_ids: list[int]) -> set[int]:
    """Which of these customers came back from a lapse (赢回客户 on their calls): one query."""
    if not customer_ids:
        return set()
    return set(
        WinBack.objects.filter(store_id=store_id, customer_id__in=customer_ids)  # scoped: the caller's store
        .exclude(returned_at=None)
        .values_list("customer_id", flat=True)
    )


def customer_care(*, actor: Actor, customer: Any, limit: int = 5) -> dict[str, Any]:
    """One customer's care in the actor's scope, at most three queries (each only with the right
    to read it): open complaints by their step's deadline, the latest calls, the latest answers."""
    from autocrm.core.permissions import can

    out: dict[str, Any] = {"complaints": None, "followups": None, "surveys": None}
    if can(actor, "view", Complaint):
        out["complaints"] = list(complaint_queryset(actor=actor).filter(customer=customer)
                                 .exclude(status=ComplaintStatus.CLOSED).order_by("step_due_at", "id")[:limit])  # fmt: skip
    if can(actor, "view", FollowUp):
        out["followups"] = list(followup_queryset(actor=actor).filter(customer=customer)
                                .order_by("-due_at", "-id")[:limit])  # fmt: skip
    if can(actor, "view", SurveyResponse):
        out["surveys"] = list(survey_queryset(actor=actor).filter(customer=customer)
                              .order_by("-answered_at", "-id")[:limit])  # fmt: skip
    return out
