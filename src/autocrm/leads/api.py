"""/api/v1/leads and /api/v1/lost-requests: thin handlers over leads.services and leads.selectors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import NotFound
from autocrm.core.permissions import present

from . import browsing, scoring, selectors, services
from .choices import LeadSource
from .models import ConversationRecord, Lead, LeadActivity, LostRequest
from .schemas import (
    ActivityIn,
    ActivityOut,
    ConversationOut,
    DecisionIn,
    LeadAssignIn,
    LeadEventIn,
    LeadEventsOut,
    LeadIn,
    LeadOut,
    LeadPage,
    LostRequestIn,
    LostRequestOut,
)

router = Router(tags=["leads"])
PREFIX = ""

_PLAIN = ("status", "grade", "name", "mobile_flag", "source_channel", "campaign", "external_id", "model_interest",
          "brand_interest", "version", "enquiries", "arrived_at", "assigned_at", "first_contact_due",
          "first_contact_at", "next_action_at")  # fmt: skip


def lead_out(actor: Any, lead: Lead, *, linked: bool = False) -> dict[str, Any]:
    data = {name: getattr(lead, name) for name in _PLAIN}
    data.update(id=lead.pk, store=lead.store_id, consultant=lead.consultant_id, customer=lead.customer_id,
                mobile=present(actor, lead, "mobile"), linked=linked, score=lead.score,
                score_reasons=scoring.reasons_text(lead))  # fmt: skip
    return data


@router.post("/leads", response={200: LeadOut, 201: LeadOut})
def lead_create(request: ActorRequest, payload: LeadIn) -> Status[dict[str, Any]]:
    """Create a lead in the current store. The same ``external_id`` again → 200 with the same
    lead; a mobile matching an open lead → 200 with that lead (``linked``: the enquiry was added
    to it and its consultant told); otherwise 201. No mobile → 400 naming ``mobile``."""
    data = payload.dict(exclude={"consultant"})
    intake = services.lead_create(
        actor=request.actor, data=data, source=LeadSource.API, consultant_id=payload.consultant
    )
    return Status(201 if intake.created else 200, lead_out(request.actor, intake.lead, linked=intake.linked))


@router.get("/leads", response=LeadPage)
def lead_list(
    request: ActorRequest, status: str | None = None, grade: str | None = None, source_channel: str | None = None,
    consultant: str | None = None, unassigned: str | None = None, limit: str | None = None, cursor: str | None = None,
    sort: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Leads in scope (consultant: own; managers: the store; director: the group), newest first
    (``sort=score``: highest score first), keyset pages. ``status=open`` is every open status."""
    filters = {"status": status, "grade": grade, "source_channel": source_channel, "consultant": consultant,
               "unassigned": unassigned}  # fmt: skip
    page = selectors.lead_page(actor=request.actor, filters=filters, limit=limit, cursor=cursor, sort=sort)
    return {"items": [lead_out(request.actor, lead) for lead in page.items], "next_cursor": page.next_cursor}


@router.get("/leads/{int:lead_id}", response=LeadOut)
def lead_get(request: ActorRequest, lead_id: int) -> dict[str, Any]:
    return lead_out(request.actor, selectors.lead_get(actor=request.actor, pk=lead_id))


@router.post("/leads/{int:lead_id}/assign", response=LeadOut)
def lead_assign(request: ActorRequest, lead_id: int, payload: LeadAssignIn) -> dict[str, Any]:
    """Give the lead to a consultant; ``version`` (from the lead as read) makes a concurrent
    assignment a 409. Moving it from one consultant to another needs a ``reason``."""
    lead = selectors.lead_get(actor=request.actor, pk=lead_id)
    lead = services.lead_assign(
        actor=request.actor, lead=lead, consultant_id=payload.consultant, reason=payload.reason, version=payload.version
    )
    return lead_out(request.actor, lead)


def activity_out(activity: LeadActivity) -> dict[str, Any]:
    return {"id": activity.pk, "lead": activity.lead_id, "kind": activity.kind, "outcome": activity.outcome,
            "note": activity.note, "at": activity.at, "next_action_at": activity.next_action_at}  # fmt: skip


@router.post("/leads/{int:lead_id}/activities", response={201: ActivityOut})
def activity_log(request: ActorRequest, lead_id: int, payload: ActivityIn) -> Status[dict[str, Any]]:
    """Log a call, WeChat, SMS, visit or note with its outcome and next action date."""
    lead = selectors.lead_get(actor=request.actor, pk=lead_id)
    activity = services.lead_activity_log(
        actor=request.actor, lead=lead, kind=payload.kind, outcome=payload.outcome or "", note=payload.note or "",
        next_action_at=payload.next_action_at, grade=payload.grade,
    )  # fmt: skip
    return Status(201, activity_out(activity))


def lost_out(request_: LostRequest) -> dict[str, Any]:
    return {"id": request_.pk, "lead": request_.lead_id, "reason": request_.reason, "note": request_.note,
            "status": request_.status, "decision_note": request_.decision_note, "lead_status": request_.lead.status}  # fmt: skip


@router.post("/leads/{int:lead_id}/lost-request", response={201: LostRequestOut})
def lost_request(request: ActorRequest, lead_id: int, payload: LostRequestIn) -> Status[dict[str, Any]]:
    """Ask to close the lead as lost, with a reason from the store's list (战败申请)."""
    lead = selectors.lead_get(actor=request.actor, pk=lead_id)
    made = services.lost_request_create(actor=request.actor, lead=lead, reason=payload.reason, note=payload.note)
    return Status(201, lost_out(made))


@router.post("/lost-requests/{int:request_id}/approve", response=LostRequestOut)
def lost_request_approve(request: ActorRequest, request_id: int, payload: DecisionIn) -> dict[str, Any]:
    found = selectors.lost_request_get(actor=request.actor, pk=request_id)
    return lost_out(services.lost_request_approve(actor=request.actor, request=found, note=payload.note))


@router.post("/lost-requests/{int:request_id}/return", response=LostRequestOut)
def lost_request_return(request: ActorRequest, request_id: int, payload: DecisionIn) -> dict[str, Any]:
    found = selectors.lost_request_get(actor=request.actor, pk=request_id)
    return lost_out(services.lost_request_return(actor=request.actor, request=found, note=payload.note))


@router.get("/lost-requests/report", response=list[dict[str, Any]])
def lost_reason_report(request: ActorRequest) -> list[dict[str, Any]]:
    """Approved lost requests counted by reason."""
    return selectors.lost_reason_report(actor=request.actor)


_EVENT = LeadEventIn.model_json_schema()
_EVENTS_BODY = {"anyOf": [
    {"type": "object", "properties": {"events": {"type": "array", "maxItems": browsing.MAX_EVENTS, "items": _EVENT}}},
    {"type": "array", "maxItems": browsing.MAX_EVENTS, "items": _EVENT},
    _EVENT,
]}  # fmt: skip


@router.post(
    "/lead-events",
    response={200: LeadEventsOut},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _EVENTS_BODY}}}},
)  # fmt: skip
def lead_events(request: ActorRequest) -> dict[str, Any]:
    """Browsing events from the website or mini-program (token scope ``leads:write``): one event,
    a list, or ``{"events": [...]}`` of up to 500. Each is linked to the store's open lead with
    the same mobile or visitor ID (or kept until that lead arrives) and feeds its score; posting
    the same ``event_id`` again changes nothing. Any invalid event → 400 naming
    ``events.<i>.<field>``, nothing stored."""
    items = _json_body(request)
    if isinstance(items, dict) and "events" in items:
        items = items["events"]
    result = browsing.lead_events_record(actor=request.actor, items=items)
    return {"created": result.created, "duplicates": result.duplicates, "linked": result.linked,
            "pending": result.pending, "invited": len(result.invited)}  # fmt: skip


def _json_body(request: ActorRequest) -> Any:
    import json

    from autocrm.core.errors import ValidationError

    try:
        return json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        raise ValidationError(fields={"events": [_("Send a JSON body.")]}) from None


def record_out(record: ConversationRecord) -> dict[str, Any]:
    names = ("id", "kind", "content_type", "size", "sha256", "name", "duration_seconds", "text", "external_id",
             "created_at")  # fmt: skip
    return {**{n: getattr(record, n) for n in names}, "lead": record.lead_id, "activity": record.activity_id}


@router.post("/lead-activities/recordings", response={201: ConversationOut})
def recording_post(
    request: ActorRequest,
    file: File[UploadedFile],
    mobile: Form[str],
    at: Form[str] = "",
    duration_seconds: Form[str] = "",
    external_id: Form[str] = "",
    outcome: Form[str] = "",
    note: Form[str] = "",
) -> Status[dict[str, Any]]:
    """A call centre posts a call's recording (multipart ``file``: MP3, WAV, M4A, AMR or Ogg, 40 MB
    at most) with the customer's ``mobile``: it is attached, as a logged call, to the most recent
    open lead with that mobile that the caller may work on (404 naming ``mobile`` when none).
    ``external_id`` (the call's id) makes a repeated post the same record; ``at``: when the call
    was (ISO 8601 with offset; default now)."""
    lead = selectors.open_lead_by_mobile(actor=request.actor, mobile=mobile)
    if lead is None:
        raise NotFound(_("No open lead with this mobile."), fields={"mobile": [_("No open lead with this mobile.")]})
    record = services.conversation_record_add(
        actor=request.actor, lead=lead, kind="recording", file=file, name=file.name, at=at or None,
        duration_seconds=duration_seconds, external_id=external_id, outcome=outcome, note=note,
    )  # fmt: skip
    return Status(201, record_out(record))


@router.post("/leads/{int:lead_id}/conversation-records", response={201: ConversationOut})
def record_add(
    request: ActorRequest,
    lead_id: int,
    kind: Form[str],
    file: File[UploadedFile | None] = None,
    text: Form[str] = "",
    activity: Form[str] = "",
    duration_seconds: Form[str] = "",
) -> Status[dict[str, Any]]:
    """Attach a call recording (``kind=recording``, multipart ``file``) or a chat excerpt
    (``kind=chat``, ``text``) to one of the lead's activities (``activity``), or to a new call /
    WeChat logged with it."""
    lead = selectors.lead_get(actor=request.actor, pk=lead_id)
    found = selectors.activity_of(lead=lead, pk=activity) if activity else None
    record = services.conversation_record_add(
        actor=request.actor, lead=lead, kind=kind, file=file, name=getattr(file, "name", ""), text=text,
        activity=found, duration_seconds=duration_seconds,
    )  # fmt: skip
    return Status(201, record_out(record))
