"""Writes of the care app: follow-up calls planned from the moments that start them (a car
delivered, a repair order closed), their outcome and escalation, and the complaint loop with
its deadlines and escalation chain. Each service is one audited transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict
from autocrm.core.permissions import require, require_model
from autocrm.core.roles import ESCALATION_LADDER, Role
from autocrm.customers.models import Customer
from autocrm.vehicles.models import Vehicle

from . import voc_feed
from .choices import (
    LEVEL_GM,
    LEVEL_MANAGER,
    LEVEL_NONE,
    NEXT_STATUS,
    Category,
    Channel,
    ComplaintStatus,
    Department,
    FollowUpKind,
    FollowUpStatus,
    Outcome,
    RootCause,
    Severity,
)
from .models import CareSettings, Complaint, FollowUp
from .selectors import DEPARTMENT_MANAGER, deadline_hours, settings_for

ASSIGNED_KIND = "care.assigned"
ESCALATED_KIND = "escalated"  # messaging's shared kind: everyone's preference for escalations covers care


def _tell(*, user_id: int, kind: str, title: Any, store_id: int, link: str, dedup_key: str) -> None:
    from autocrm.messaging.notifications import notify_staff

    notify_staff(user=user_id, kind=kind, title=str(title), link=link, store=store_id, dedup_key=dedup_key)


def _link(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=list(args))
    except NoReverseMatch:  # pragma: no cover - the URLconf always has them
        return ""


def _people(store_id: int, role: str) -> list[int]:
    return list(
        Membership.objects.filter(store_id=store_id, role=role, is_active=True, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def _managers(store_id: int, role: str) -> list[int]:
    """The store's holders of ``role``, else its general managers: an escalation always reaches someone."""
    return _people(store_id, role) or _people(store_id, Role.MANAGER)


# --------------------------------------------------------------------------- follow-ups


def _locked_settings(store_id: int) -> CareSettings:
    """The store's settings row, created with the defaults if missing, locked for this transaction."""
    try:
        with transaction.atomic():
            CareSettings.objects.get_or_create(store_id=store_id)  # scoped: the event's store
    except IntegrityError:  # created by a concurrent call: it is there now
        pass
    return CareSettings.objects.select_for_update().get(store_id=store_id)  # scoped: the event's store


def _next_agent(settings: CareSettings) -> int | None:
    """Round robin over the store's active customer service agents, from the last one given a call."""
    agents = _people(settings.store_id, Role.AGENT)
    if not agents:
        return None
    later = [a for a in agents if settings.last_agent_id is None or a > settings.last_agent_id]
    chosen = later[0] if later else agents[0]
    settings.last_agent_id = chosen
    settings.save(update_fields=["last_agent", "updated_at"])
    return chosen


@transaction.atomic
def followup_plan(
    *, store_id: int, kind: str, source_id: int, customer_id: int, vehicle_id: int | None = None,
    staff_id: int | None = None, at: dt.datetime | None = None,
) -> FollowUp | None:  # fmt: skip
    """Plan the follow-up call of ``kind`` for its source record (a deal, a repair order, a
    survey response): due the store's days after ``at``, given to the next agent in turn.
    Once per source: a second delivery of the event returns the call already planned. None
    when the customer is not the store's."""
    existing = FollowUp.objects.filter(store_id=store_id, kind=kind, source_id=source_id).first()  # scoped: system
    if existing is not None:
        return existing
    customer = Customer.objects.filter(pk=customer_id, store_id=store_id).first()  # scoped: the event's store
    if customer is None:
        return None
    vehicle = Vehicle.objects.filter(pk=vehicle_id, store_id=store_id).first() if vehicle_id else None  # scoped: idem
    settings = _locked_settings(store_id)
    at = at or timezone.now()
    agent_id = _next_agent(settings)
    follow_up = FollowUp.objects.create(
        store_id=store_id, kind=kind, source_id=source_id, customer=customer, vehicle=vehicle, agent_id=agent_id,
        staff_id=staff_id, due_at=at + dt.timedelta(days=settings.follow_up_days),
    )  # fmt: skip
    audit.record("care.followup_planned", obj=follow_up, extra={"kind": kind, "source": source_id})
    return follow_up


def on_deal_delivered(event: Any) -> None:
    """``sales.deal_delivered`` (payload ``sales.events.DealDelivered``): the delivery call, about the consultant."""
    p = event.payload
    if not isinstance(getattr(p, "deal_id", None), int) or event.store_id is None:
        return
    followup_plan(store_id=event.store_id, kind=FollowUpKind.DELIVERY, source_id=p.deal_id,
                  customer_id=p.customer_id, vehicle_id=p.vehicle_id, staff_id=p.consultant_id)  # fmt: skip


def on_repair_order_closed(event: Any) -> None:
    """``service.repair_order_closed`` (payload ``service.events.RepairOrderClosed``): the service
    call, about the customer's service advisor (the payload names no advisor)."""
    p = event.payload
    if not isinstance(getattr(p, "repair_order_id", None), int) or event.store_id is None:
        return
    staff_id = getattr(p, "advisor_id", None)
    if staff_id is None:
        staff_id = (
            Customer.objects.filter(pk=p.customer_id, store_id=event.store_id)  # scoped: the event's store
            .values_list("advisor_id", flat=True)
            .first()
        )
    followup_plan(store_id=event.store_id, kind=FollowUpKind.SERVICE, source_id=p.repair_order_id,
                  customer_id=p.customer_id, vehicle_id=p.vehicle_id, staff_id=staff_id,
                  at=getattr(p, "closed_at", None))  # fmt: skip


@transaction.atomic
def followup_record(
    *, actor: Actor, follow_up: FollowUp, data: Mapping[str, Any], now: dt.datetime | None = None
) -> FollowUp:
    """Record a call's outcome. Satisfied: done. Issue raised: done, and with ``raise_complaint``
    a complaint opens from the call in the same step (its ``category``, ``severity``,
    ``department``; the note is its text). Unreachable: called again after the store's retry
    hours, given up after its attempts. 409 when the call is no longer open."""
    require(actor, "change", follow_up)
    now = now or timezone.now()
    errors = inputs.Errors()
    outcome = inputs.choice(errors, data, "outcome", Outcome)
    note = inputs.text(errors, data, "note", 2000)
    raise_complaint = inputs.boolean(data.get("raise_complaint"))
    if outcome == Outcome.ISSUE and not note:
        errors.add("note", _("Write down what the customer said."))
    if raise_complaint and outcome != Outcome.ISSUE:
        errors.add("raise_complaint", _("A complaint is raised from a call with an issue."))
    errors.raise_if_any()
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)  # scoped: checked above
    if locked.status != FollowUpStatus.OPEN:
        raise Conflict(_("This call was already recorded."), fields={"outcome": [_("This call was already recorded.")]})
    settings = settings_for(locked.store_id)
    locked.attempts += 1
    locked.outcome = outcome
    if note:
        locked.note = f"{locked.note}\n{note}".strip() if locked.note else note
    if outcome == Outcome.UNREACHABLE:
        if locked.attempts >= settings.max_attempts:
            locked.status, locked.completed_at, locked.next_attempt_at = FollowUpStatus.GAVE_UP, now, None
        else:
            locked.next_attempt_at = now + dt.timedelta(hours=settings.retry_hours)
            locked.due_at = max(locked.due_at, locked.next_attempt_at)
    else:
        locked.status, locked.completed_at, locked.next_attempt_at = FollowUpStatus.DONE, now, None
    if raise_complaint:
        complaint = complaint_create(
            actor=actor, data={**data, "customer": locked.customer_id, "vehicle": locked.vehicle_id,
                               "channel": Channel.CALL, "description": note, "staff": locked.staff_id},
            now=now,
        )  # fmt: skip
        locked.complaint = complaint
    locked.save()
    if note:
        voc_feed.feed(locked.store_id, locked.customer_id, "call", locked.pk, note, locked.staff_id, now)
    audit.record("care.followup_recorded", obj=locked, actor=actor,
                 extra={"outcome": outcome, "attempt": locked.attempts, "complaint": locked.complaint_id})  # fmt: skip
    return locked


def followup_sweep(*, store_id: int, now: dt.datetime | None = None) -> int:
    """Escalate the store's overdue open calls to its general manager (the care ladder's next
    step), each call once, one notification per sweep. Returns how many were escalated."""
    now = now or timezone.now()
    with transaction.atomic():
        pks = list(
            FollowUp.objects.select_for_update()  # scoped: system sweep of one store
            .filter(store_id=store_id, status=FollowUpStatus.OPEN, due_at__lt=now, escalated_at=None)
            .values_list("pk", flat=True)
        )
        if not pks:
            return 0
        FollowUp.objects.filter(pk__in=pks).update(escalated_at=now)  # scoped: rows chosen above
        title = _g("%(n)s follow-up call(s) are overdue") % {"n": len(pks)}
        for uid in _managers(store_id, ESCALATION_LADDER["care"][1]):
            _tell(user_id=uid, kind=ESCALATED_KIND, title=title, store_id=store_id,
                  link=_link("care:followup_list") + "?overdue=1", dedup_key=f"care-fu-overdue:{store_id}:{now.isoformat()}")  # fmt: skip
        audit.record("care.followups_escalated", store_id=store_id, object_type="care.followup",
                     extra={"count": len(pks)})  # fmt: skip
    return len(pks)


# --------------------------------------------------------------------------- complaints


def _step_due(store_id: int, severity: str, status: str, now: dt.datetime) -> dt.datetime | None:
    if status == ComplaintStatus.CLOSED:
        return None
    hours = deadline_hours(settings_for(store_id), severity, status)
    return now + dt.timedelta(hours=hours) if hours is not None else None


def _store_user(errors: inputs.Errors, data: Mapping[str, Any], name: str, store_id: int) -> int | None:
    """A user id of someone working in the store (active membership), or an error on ``name``."""
    raw = data.get(name)
    if raw in (None, ""):
        return None
    uid = inputs.integer(errors, raw, name, 1, inputs.ID_MAX)
    if uid is None:
        return None
    if not Membership.objects.filter(store_id=store_id, user_id=uid, is_active=True).exists():
        errors.add(name, _("Choose someone who works in this store."))
        return None
    return uid


def _store_row(errors: inputs.Errors, model: Any, data: Mapping[str, Any], name: str, store_id: int,
               *, required: bool = False) -> Any:  # fmt: skip
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            errors.add(name, _("This field is required."))
        return None
    pk = inputs.integer(errors, raw, name, 1, inputs.ID_MAX)
    if pk is None:
        return None
    row = model.objects.filter(pk=pk, store_id=store_id).first()  # scoped: the actor's store, checked here
    if row is None:
        errors.add(name, _("Choose one of this store's records."))
    return row


def _escalate_to(complaint: Complaint, level: int, *, now: dt.datetime, reason: str) -> None:
    """Raise ``complaint`` to ``level`` and tell the people there (inside the caller's transaction)."""
    complaint.level, complaint.escalated_at = level, now
    role = DEPARTMENT_MANAGER.get(complaint.department, Role.MANAGER) if level == LEVEL_MANAGER else Role.MANAGER
    title = (
        _g("Supervised by the general manager: complaint %(n)s (%(c)s)")
        if level == LEVEL_GM
        else _g("Complaint escalated to you: %(n)s (%(c)s)")
    ) % {"n": complaint.number, "c": complaint.customer.name}
    for uid in _managers(complaint.store_id, role):
        _tell(user_id=uid, kind=ESCALATED_KIND, title=title, store_id=complaint.store_id,
              link=_link("care:complaint_detail", complaint.pk), dedup_key=f"care-complaint:{complaint.pk}:{level}")  # fmt: skip
    audit.record("care.complaint_escalated", obj=complaint, extra={"level": level, "reason": reason})


@transaction.atomic
def complaint_create(*, actor: Actor, data: Mapping[str, Any], now: dt.datetime | None = None) -> Complaint:
    """Receive a complaint from any channel: ``customer`` (the store's), ``vehicle``, ``channel``,
    ``category``, ``severity``, ``department``, ``description``, ``staff`` (whom it concerns),
    ``assignee`` (then it starts assigned). Its first step is due by the store's hours for its
    severity; a high-severity complaint goes to the general manager at once (总经理督办)."""
    require_model(actor, "add", Complaint)
    store_id = actor.require_store_id()
    now = now or timezone.now()
    errors = inputs.Errors()
    customer = _store_row(errors, Customer, data, "customer", store_id, required=True)
    vehicle = _store_row(errors, Vehicle, data, "vehicle", store_id)
    channel = inputs.choice(errors, data, "channel", Channel, default=Channel.PHONE)
    category = inputs.choice(errors, data, "category", Category, default=Category.OTHER)
    severity = inputs.choice(errors, data, "severity", Severity, default=Severity.MEDIUM)
    department = inputs.choice(errors, data, "department", Department, default=Department.AFTERSALES)
    description = inputs.text(errors, data, "description", 4000, required=True)
    staff_id = _store_user(errors, data, "staff", store_id)
    assignee_id = _store_user(errors, data, "assignee", store_id)
    if vehicle is not None and customer is not None and vehicle.customer_id not in (None, customer.pk):
        errors.add("vehicle", _("This vehicle belongs to another customer."))
    errors.raise_if_any()
    status = ComplaintStatus.ASSIGNED if assignee_id else ComplaintStatus.RECEIVED
    if assignee_id is None and actor.role in (Role.SALES, Role.ADVISOR):
        assignee_id, status = actor.user_id, ComplaintStatus.ASSIGNED  # theirs to handle: they may see it after
    complaint = Complaint.objects.create(
        store_id=store_id, customer=customer, vehicle=vehicle, channel=channel, category=category, severity=severity,
        department=department, description=description, staff_id=staff_id, assignee_id=assignee_id, status=status,
        received_by_id=actor.user_id, received_at=now, step_due_at=_step_due(store_id, severity, status, now),
    )  # fmt: skip
    complaint.number = f"TS{timezone.localtime(now):%Y%m%d}{complaint.pk:05d}"
    complaint.save(update_fields=["number"])
    audit.record("care.complaint_received", obj=complaint, actor=actor,
                 extra={"channel": channel, "severity": severity, "category": category})  # fmt: skip
    if assignee_id and assignee_id != actor.user_id:
        _tell(user_id=assignee_id, kind=ASSIGNED_KIND, store_id=store_id,
              title=_g("Complaint %(n)s assigned to you") % {"n": complaint.number},
              link=_link("care:complaint_detail", complaint.pk), dedup_key=f"care-assigned:{complaint.pk}:{assignee_id}")  # fmt: skip
    if severity == Severity.HIGH:
        _escalate_to(complaint, LEVEL_GM, now=now, reason="severity")
        complaint.save(update_fields=["level", "escalated_at"])
    voc_feed.feed(store_id, customer.pk, "complaint", complaint.pk, description, staff_id, now)
    return complaint


@dataclass(frozen=True)
class _Move:
    to: str
    reopen: bool = False


def _move(complaint: Complaint, to: str | None) -> _Move:
    current = ComplaintStatus(complaint.status)
    if current == ComplaintStatus.CLOSED:
        raise Conflict(_("The complaint is closed."), fields={"to": [_("The complaint is closed.")]})
    if to in (None, ""):
        return _Move(NEXT_STATUS[current])
    if to == "reopen" or (to == ComplaintStatus.HANDLING and current == ComplaintStatus.CONFIRMING):
        if current != ComplaintStatus.CONFIRMING:
            raise Conflict(_("Only a complaint awaiting the customer's confirmation is reopened."),
                           fields={"to": [_("Only a complaint awaiting the customer's confirmation is reopened.")]})  # fmt: skip
        return _Move(ComplaintStatus.HANDLING, reopen=True)
    if to not in ComplaintStatus.values:
        raise Conflict(_("Choose a later step."), fields={"to": [_("Choose a later step.")]})
    order = list(ComplaintStatus.values)
    if order.index(to) <= order.index(current):
        raise Conflict(_("Choose a later step."), fields={"to": [_("Choose a later step.")]})
    if to == ComplaintStatus.CLOSED and current != ComplaintStatus.CONFIRMING:
        raise Conflict(
            _("The customer has not been asked to confirm the resolution."),
            fields={"to": [_("The customer has not been asked to confirm the resolution.")]},
        )
    return _Move(ComplaintStatus(to))


@transaction.atomic
def complaint_advance(
    *, actor: Actor, complaint: Complaint, data: Mapping[str, Any], now: dt.datetime | None = None
) -> Complaint:
    """Move a complaint on (``to``: a later status, default the next; ``reopen`` sends one
    awaiting confirmation back to handling when the customer is not satisfied). Assigning needs
    ``assignee``; asking the customer to confirm needs the ``resolution``; closing needs the
    ``root_cause`` and ``customer_confirmed`` (409 naming each otherwise). The next step is due
    by the store's hours for the severity. Nothing changes on a refusal."""
    require(actor, "change", complaint)
    now = now or timezone.now()
    locked = Complaint.objects.select_for_update().select_related("customer").get(pk=complaint.pk)  # scoped: checked
    move = _move(locked, data.get("to"))
    errors = inputs.Errors()
    assignee_id = _store_user(errors, data, "assignee", locked.store_id)
    resolution = inputs.text(errors, data, "resolution", 4000)
    root_cause = inputs.choice(errors, data, "root_cause", RootCause) if data.get("root_cause") else ""
    note = inputs.text(errors, data, "note", 2000)
    if move.to == ComplaintStatus.ASSIGNED and not (assignee_id or locked.assignee_id):
        errors.add("assignee", _("Choose who handles the complaint."))
    if move.to == ComplaintStatus.CONFIRMING and not (resolution or locked.resolution):
        errors.add("resolution", _("Describe what was done for the customer."))
    errors.raise_if_any()
    if move.to == ComplaintStatus.CLOSED:
        missing: dict[str, list[Any]] = {}
        if not (root_cause or locked.root_cause):
            missing["root_cause"] = [_("Name the root cause before closing.")]
        if not inputs.boolean(data.get("customer_confirmed")):
            missing["customer_confirmed"] = [_("The customer has not confirmed the resolution.")]
        if missing:
            raise Conflict(_("The complaint cannot be closed yet."), fields=missing)
        locked.confirmed_at = now
        locked.closed_at = now
    before = locked.status
    if assignee_id and assignee_id != locked.assignee_id:
        locked.assignee_id = assignee_id
        _tell(user_id=assignee_id, kind=ASSIGNED_KIND, store_id=locked.store_id,
              title=_g("Complaint %(n)s assigned to you") % {"n": locked.number},
              link=_link("care:complaint_detail", locked.pk), dedup_key=f"care-assigned:{locked.pk}:{assignee_id}")  # fmt: skip
    if resolution:
        locked.resolution = resolution
    if root_cause:
        locked.root_cause = root_cause
    if move.reopen:
        locked.reopened += 1
    locked.status = move.to
    locked.step_due_at = _step_due(locked.store_id, locked.severity, move.to, now)
    locked.save()
    audit.record("care.complaint_reopened" if move.reopen else "care.complaint_advanced", obj=locked, actor=actor,
                 changes={"status": [before, move.to]}, extra={"note": note[:200]} if note else None)  # fmt: skip
    return locked


@transaction.atomic
def complaint_escalate(
    *, actor: Actor, complaint: Complaint, data: Mapping[str, Any] | None = None, now: dt.datetime | None = None
) -> Complaint:
    """Escalate by hand one step up the chain (the department's manager, then the general
    manager: 总经理督办). 409 when it is closed or already with the general manager."""
    require(actor, "escalate", complaint)
    now = now or timezone.now()
    locked = Complaint.objects.select_for_update().select_related("customer").get(pk=complaint.pk)  # scoped: checked
    if locked.status == ComplaintStatus.CLOSED:
        raise Conflict(_("The complaint is closed."), fields={"level": [_("The complaint is closed.")]})
    if locked.level >= LEVEL_GM:
        raise Conflict(_("The general manager already supervises it."),
                       fields={"level": [_("The general manager already supervises it.")]})  # fmt: skip
    errors = inputs.Errors()
    inputs.text(errors, data or {}, "note", 2000)
    errors.raise_if_any()
    _escalate_to(locked, locked.level + 1, now=now, reason="manual")
    locked.save(update_fields=["level", "escalated_at", "updated_at"])
    return locked


def complaint_sweep(*, store_id: int, now: dt.datetime | None = None) -> int:
    """Escalate the store's open complaints past their step's deadline: to the department's
    manager at the breach, to the general manager when a further step's length passes without
    the step done. Each level once (the level on the row). Returns how many rose."""
    now = now or timezone.now()
    raised = 0
    with transaction.atomic():
        rows = list(
            Complaint.objects.select_for_update()  # scoped: system sweep of one store
            .select_related("customer")
            .filter(store_id=store_id, step_due_at__lt=now, level__lt=LEVEL_GM)
            .exclude(status=ComplaintStatus.CLOSED)
        )
        settings = settings_for(store_id)
        for c in rows:
            hours = deadline_hours(settings, c.severity, c.status) or 24
            assert c.step_due_at is not None  # filtered above
            target = LEVEL_GM if now >= c.step_due_at + dt.timedelta(hours=hours) else LEVEL_MANAGER
            if c.level == LEVEL_NONE or target > c.level:
                _escalate_to(c, max(target, c.level + 1) if c.level else target, now=now, reason="breach")
                c.save(update_fields=["level", "escalated_at", "updated_at"])
                raised += 1
    return raised
