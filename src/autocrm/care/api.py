"""/api/v1/follow-ups and /api/v1/complaints: thin handlers over care.selectors and care.services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.modules import module_require
from autocrm.core.permissions import present

from . import selectors, services
from .models import Complaint, FollowUp, SurveyResponse, WinBack
from .schemas import (
    ComplaintAdvanceIn,
    ComplaintEscalateIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    FollowUpOut,
    FollowUpOutcomeIn,
    FollowUpPage,
    SurveyAnswerOut,
    SurveyAnswerPage,
    SurveyPublicIn,
    SurveyPublicOut,
    SurveyReviewIn,
    SurveyScoreOut,
    SurveyThanksOut,
    WinBackOut,
    WinBackPage,
    WinBackReportOut,
    WinBackReviewIn,
)

router = Router(tags=["care"])
PREFIX = ""


def followup_out(actor: Actor, f: FollowUp, scripts: dict[str, str]) -> dict[str, Any]:
    return {"id": f.pk, "store": f.store_id, "kind": f.kind, "status": f.status, "outcome": f.outcome,
            "source_id": f.source_id, "customer": f.customer_id, "customer_name": f.customer.name,
            "customer_mobile": present(actor, f.customer, "mobile"), "vehicle": f.vehicle_id,
            "plate": f.vehicle.plate if f.vehicle else "", "agent": f.agent_id, "staff": f.staff_id,
            "due_at": f.due_at, "next_attempt_at": f.next_attempt_at, "attempts": f.attempts, "note": f.note,
            "completed_at": f.completed_at, "escalated_at": f.escalated_at, "complaint": f.complaint_id,
            "script": scripts.get(f.kind, "")}  # fmt: skip


def _scripts(store_id: int) -> dict[str, str]:
    settings = selectors.settings_for(store_id)
    return {k: selectors.script_for(settings, k) for k in ("delivery", "service", "low_score", "winback", "watch")}


@router.get("/follow-ups", response=FollowUpPage)
def followup_list(
    request: ActorRequest, status: str | None = None, mine: str | None = None, overdue: str | None = None,
    kind: str | None = None, limit: str | None = None, cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Follow-up calls in scope, soonest due first: ``status`` (default ``open``), ``mine``,
    ``overdue``, ``kind``. Keyset pages."""
    actor = request.actor
    page = selectors.followup_page(actor=actor, filters={"status": status, "mine": mine, "overdue": overdue,
                                                         "kind": kind}, limit=limit, cursor=cursor)  # fmt: skip
    scripts: dict[int, dict[str, str]] = {}
    items = []
    for f in page.items:
        if f.store_id not in scripts:
            scripts[f.store_id] = _scripts(f.store_id)
        items.append(followup_out(actor, f, scripts[f.store_id]))
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/follow-ups/{int:follow_up_id}", response=FollowUpOut)
def followup_get(request: ActorRequest, follow_up_id: int) -> dict[str, Any]:
    f = selectors.followup_get(actor=request.actor, pk=follow_up_id)
    return followup_out(request.actor, f, _scripts(f.store_id))


@router.post("/follow-ups/{int:follow_up_id}/outcome", response=FollowUpOut)
def followup_outcome(request: ActorRequest, follow_up_id: int, payload: FollowUpOutcomeIn) -> dict[str, Any]:
    """Record the call: satisfied (done), issue (done; ``raise_complaint`` opens a complaint from
    it), unreachable (called again after the store's retry hours). 409 when already recorded."""
    f = selectors.followup_get(actor=request.actor, pk=follow_up_id)
    services.followup_record(actor=request.actor, follow_up=f, data=payload.dict())
    f = selectors.followup_get(actor=request.actor, pk=follow_up_id)
    return followup_out(request.actor, f, _scripts(f.store_id))


def complaint_out(c: Complaint) -> dict[str, Any]:
    return {"id": c.pk, "number": c.number, "store": c.store_id, "customer": c.customer_id,
            "customer_name": c.customer.name, "vehicle": c.vehicle_id, "channel": c.channel,
            "category": c.category, "severity": c.severity, "department": c.department,
            "description": c.description, "status": c.status, "assignee": c.assignee_id, "staff": c.staff_id,
            "received_at": c.received_at, "step_due_at": c.step_due_at, "level": c.level,
            "escalated_at": c.escalated_at, "root_cause": c.root_cause, "resolution": c.resolution,
            "confirmed_at": c.confirmed_at, "closed_at": c.closed_at, "reopened": c.reopened}  # fmt: skip


@router.get("/complaints", response=ComplaintPage)
def complaint_list(
    request: ActorRequest, status: str | None = None, severity: str | None = None, escalated: str | None = None,
    limit: str | None = None, cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Complaints in scope: ``status`` (``open``, the default: by the step's deadline; ``all``; or
    one status), ``severity``, ``escalated``. Keyset pages."""
    page = selectors.complaint_page(actor=request.actor, filters={"status": status, "severity": severity,
                                                                  "escalated": escalated},
                                    limit=limit, cursor=cursor)  # fmt: skip
    return {"items": [complaint_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/complaints", response={201: ComplaintOut})
def complaint_create(request: ActorRequest, payload: ComplaintIn) -> Status[dict[str, Any]]:
    """Receive a complaint (any channel): ``customer`` of the store, ``description`` required; a
    high severity goes to the general manager at once."""
    c = services.complaint_create(actor=request.actor, data=payload.dict())
    return Status(201, complaint_out(selectors.complaint_get(actor=request.actor, pk=c.pk)))


@router.get("/complaints/{int:complaint_id}", response=ComplaintOut)
def complaint_get(request: ActorRequest, complaint_id: int) -> dict[str, Any]:
    return complaint_out(selectors.complaint_get(actor=request.actor, pk=complaint_id))


@router.post("/complaints/{int:complaint_id}/advance", response=ComplaintOut)
def complaint_advance(request: ActorRequest, complaint_id: int, payload: ComplaintAdvanceIn) -> dict[str, Any]:
    """Move on (``to``, default the next step; ``reopen`` when the customer does not confirm).
    Closing without ``root_cause`` or ``customer_confirmed`` → 409 naming them."""
    c = selectors.complaint_get(actor=request.actor, pk=complaint_id)
    services.complaint_advance(actor=request.actor, complaint=c, data=payload.dict())
    return complaint_out(selectors.complaint_get(actor=request.actor, pk=complaint_id))


@router.post("/complaints/{int:complaint_id}/escalate", response=ComplaintOut)
def complaint_escalate(request: ActorRequest, complaint_id: int, payload: ComplaintEscalateIn) -> dict[str, Any]:
    """One step up: the department's manager, then the general manager (总经理督办). 409 at the top or closed."""
    c = selectors.complaint_get(actor=request.actor, pk=complaint_id)
    services.complaint_escalate(actor=request.actor, complaint=c, data=payload.dict())
    return complaint_out(selectors.complaint_get(actor=request.actor, pk=complaint_id))


# --------------------------------------------------------------------------- surveys


def answer_out(r: SurveyResponse) -> dict[str, Any]:
    return {"id": r.pk, "store": r.store_id, "kind": r.kind, "moment": r.moment, "customer": r.customer_id,
            "customer_name": r.customer.name, "staff": r.staff_id, "scores": r.scores or {},
            "csi": float(r.csi) if r.csi is not None else None, "nps": r.nps, "comment": r.comment,
            "answered_at": r.answered_at, "seconds": r.seconds, "flags": list(r.flags or []), "status": r.status}  # fmt: skip


@router.get("/surveys", response=SurveyAnswerPage)
def survey_list(
    request: ActorRequest, status: str | None = None, kind: str | None = None, limit: str | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Survey answers in scope, newest first (``status``: counted, flagged, accepted, excluded; ``kind``: csi, nps)."""
    page = selectors.survey_page(actor=request.actor, filters={"status": status, "kind": kind}, limit=limit,
                                 cursor=cursor)  # fmt: skip
    return {"items": [answer_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/surveys/scores", response=list[SurveyScoreOut])
def survey_scores(request: ActorRequest, by: str = "store", days: int = 30) -> list[dict[str, Any]]:
    """CSI (0–100) and NPS (−100…100) of the counted answers of the last ``days`` (1–730) per
    ``store``, ``staff`` or ``month``; flagged answers are left out until reviewed."""
    from django.utils import timezone

    days = min(max(days, 1), 730)
    end = timezone.now()
    return selectors.survey_scores(actor=request.actor, start=end - dt.timedelta(days=days),
                                   end=end + dt.timedelta(seconds=1), by=by)  # fmt: skip


@router.post("/surveys/{int:response_id}/review", response=SurveyAnswerOut)
def survey_review(request: ActorRequest, response_id: int, payload: SurveyReviewIn) -> dict[str, Any]:
    """A manager counts (``accept``) or leaves out a flagged answer. 409 when not flagged."""
    r = selectors.survey_get(actor=request.actor, pk=response_id)
    services.survey_review(actor=request.actor, response=r, accept=payload.accept)
    return answer_out(selectors.survey_get(actor=request.actor, pk=response_id))


@router.get("/surveys/public/{token}", auth=None, response=SurveyPublicOut)
def survey_public(request: HttpRequest, token: str) -> dict[str, Any]:
    """No login: the survey behind a signed link (404 forged or expired)."""
    inv = services.survey_open(token)
    module_require(inv.store_id, "care")
    t = inv.template
    items = [{"code": str(i.get("code", "")), "label": str(i.get("label", ""))} for i in t.items or []]
    return {"name": t.name, "kind": t.kind, "scale": t.scale, "items": items, "answered": inv.responded_at is not None}


@router.post("/surveys/public/{token}", auth=None, response=SurveyThanksOut)
def survey_public_answer(request: HttpRequest, token: str, payload: SurveyPublicIn) -> dict[str, Any]:
    """No login: answer once (a second answer is a 409 and changes nothing)."""
    inv = services.survey_open(token)
    module_require(inv.store_id, "care")
    data: dict[str, Any] = {**payload.scores, "nps": payload.nps, "comment": payload.comment}
    services.survey_respond(token=token, data=data, answering=services.Answering(
        ip=request.META.get("REMOTE_ADDR"), device=request.headers.get("X-Device-Id", "")[:64]))  # fmt: skip
    return {"ok": True}


# --------------------------------------------------------------------------- win-back


def winback_out(w: WinBack) -> dict[str, Any]:
    return {"id": w.pk, "store": w.store_id, "customer": w.customer_id, "customer_name": w.customer.name,
            "last_visit_at": w.last_visit_at, "flagged_at": w.flagged_at, "sent_at": w.sent_at,
            "contacted_at": w.contacted_at, "answered_at": w.answered_at, "reason": w.reason, "comment": w.comment,
            "flags": list(w.flags or []), "status": w.status, "offer": w.offer, "offer_given": w.offer_given,
            "follow_up": w.follow_up_id, "returned_at": w.returned_at, "won_back": w.returned_at is not None,
            "watch_left": w.watch_left}  # fmt: skip


@router.get("/win-backs", response=WinBackPage)
def winback_list(
    request: ActorRequest, state: str | None = None, reason: str | None = None, limit: str | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Lapsed customers flagged by the churn rule, newest first: ``state`` (``open``, ``returned``,
    ``answered``, ``flagged``), ``reason``. Keyset pages."""
    page = selectors.winback_page(actor=request.actor, filters={"state": state, "reason": reason}, limit=limit,
                                  cursor=cursor)  # fmt: skip
    return {"items": [winback_out(w) for w in page.items], "next_cursor": page.next_cursor}


@router.get("/win-backs/report", response=WinBackReportOut)
def winback_report(request: ActorRequest, by: str = "store", days: int = 365) -> dict[str, Any]:
    """Flagged, contacted, answered, returned and the win-back rate (%) of the lapses flagged in the
    last ``days`` (1–730), per ``store``, ``reason`` or ``month``."""
    from django.utils import timezone

    days = min(max(days, 1), 730)
    end = timezone.now() + dt.timedelta(seconds=1)
    start = end - dt.timedelta(days=days)
    return {"by": by, "start": start, "end": end,
            "rows": selectors.winback_report(actor=request.actor, by=by, start=start, end=end)}  # fmt: skip


@router.post("/win-backs/{int:winback_id}/review", response=WinBackOut)
def winback_review(request: ActorRequest, winback_id: int, payload: WinBackReviewIn) -> dict[str, Any]:
    """The store manager counts (``accept``: the offer is given then) or leaves out a flagged answer."""
    w = selectors.winback_get(actor=request.actor, pk=winback_id)
    services.winback_review(actor=request.actor, winback=w, accept=payload.accept)
    return winback_out(selectors.winback_get(actor=request.actor, pk=winback_id))
