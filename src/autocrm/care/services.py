"""Writes of the care app: follow-up calls planned from the moments that start them (a car
delivered, a repair order closed), their outcome and escalation, and the complaint loop with
its deadlines and escalation chain. Each service is one audited transaction."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing
from django.db import IntegrityError, models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, DomainError, NotFound
from autocrm.core.permissions import require, require_model
from autocrm.core.roles import ESCALATION_LADDER, Role
from autocrm.customers.models import Customer
from autocrm.tenancy.models import Store
from autocrm.vehicles.models import Vehicle

from . import voc_feed
from .choices import (
    DEFAULT_CSI_ITEMS,
    LEVEL_GM,
    LEVEL_MANAGER,
    LEVEL_NONE,
    NEXT_STATUS,
    WINBACK_WATCH_SOURCE,
    Category,
    Channel,
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
    SurveyMoment,
    WinBackReason,
)
from .models import (
    CareCustomer,
    CareSettings,
    Complaint,
    FollowUp,
    SurveyInvitation,
    SurveyResponse,
    SurveyTemplate,
    WinBack,
)
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
    visit_seen(store_id=event.store_id, customer_id=p.customer_id, vehicle_id=p.vehicle_id,
               at=getattr(p, "delivered_at", None))  # fmt: skip
    survey_invite(store_id=event.store_id, moment=SurveyMoment.DELIVERY, source_id=p.deal_id,
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
    visit_seen(store_id=event.store_id, customer_id=p.customer_id, vehicle_id=p.vehicle_id,
               at=getattr(p, "closed_at", None))  # fmt: skip
    survey_invite(store_id=event.store_id, moment=SurveyMoment.SERVICE, source_id=p.repair_order_id,
                  customer_id=p.customer_id, vehicle_id=p.vehicle_id, staff_id=staff_id)  # fmt: skip


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
        title = gettext("%(n)s follow-up call(s) are overdue") % {"n": len(pks)}
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
        gettext("Supervised by the general manager: complaint %(n)s (%(c)s)")
        if level == LEVEL_GM
        else gettext("Complaint escalated to you: %(n)s (%(c)s)")
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
              title=gettext("Complaint %(n)s assigned to you") % {"n": complaint.number},
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
              title=gettext("Complaint %(n)s assigned to you") % {"n": locked.number},
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


# --------------------------------------------------------------------------- surveys

SURVEY_SALT = "autocrm.care.survey"
SURVEY_TEMPLATE_CODE = "survey_invite"
SAME_DEVICE_LIMIT = 3  # answers from one device within 30 days before the next is flagged
NUMBER_CHANGED_DAYS = 14


def survey_template_for(store_id: int, moment: str, kind: str) -> SurveyTemplate:
    """The store's active template for ``moment`` and ``kind``; the shipped one made on first use."""
    found = (
        SurveyTemplate.objects.filter(store_id=store_id, moment=moment, kind=kind, is_active=True)  # scoped: system
        .order_by("-id")
        .first()
    )
    if found is not None:
        return found
    if kind == SurveyKind.CSI:
        name = gettext("Service satisfaction") if moment == SurveyMoment.SERVICE else gettext("Delivery satisfaction")
        return SurveyTemplate.objects.create(store_id=store_id, name=name, kind=kind, moment=moment,
                                             items=DEFAULT_CSI_ITEMS, scale=5)  # fmt: skip
    return SurveyTemplate.objects.create(store_id=store_id, name=gettext("Would you recommend us?"), kind=kind,
                                         moment=moment, items=[], scale=10)  # fmt: skip


def survey_token(invitation: SurveyInvitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=SURVEY_SALT, compress=True)


def survey_link(invitation: SurveyInvitation) -> str:
    return reverse("care_public:survey", args=[survey_token(invitation)])


@transaction.atomic
def survey_invite(
    *, store_id: int, moment: str, source_id: int, customer_id: int, vehicle_id: int | None = None,
    staff_id: int | None = None, kinds: tuple[str, ...] = (SurveyKind.CSI, SurveyKind.NPS),
    now: dt.datetime | None = None,
) -> list[SurveyInvitation]:  # fmt: skip
    """Invite the customer to the store's surveys after a visit or a delivery: one invitation per
    template and source (a repeated event sends nothing new), each a signed one-time link sent
    through the outbox (purpose ``survey``: the customer's consent and channel decide, the worker
    checks them again before sending)."""
    from autocrm.messaging.services import message_queue

    customer = Customer.objects.filter(pk=customer_id, store_id=store_id).first()  # scoped: the event's store
    if customer is None:
        return []
    now = now or timezone.now()
    settings = settings_for(store_id)
    store_name = Store.objects.filter(pk=store_id).values_list("name", flat=True).first() or ""
    out = []
    for kind in kinds:
        template = survey_template_for(store_id, moment, kind)
        invitation, created = SurveyInvitation.objects.get_or_create(
            store_id=store_id, template=template, source_id=source_id,
            defaults={"moment": moment, "customer": customer, "vehicle_id": vehicle_id, "staff_id": staff_id,
                      "nonce": secrets.token_hex(16), "expires_at": now + dt.timedelta(days=settings.survey_link_days)},
        )  # fmt: skip
        out.append(invitation)
        if not created:
            continue
        link = survey_link(invitation)
        text = gettext("%(store)s invites you to rate your visit: %(link)s") % {"store": store_name, "link": link}
        try:
            with transaction.atomic():
                message_queue(actor=None, store=store_id, purpose="survey", channel=None,
                              template_code=SURVEY_TEMPLATE_CODE, customer=customer, values={"link": link},
                              idempotency_key=f"care-survey:{invitation.pk}", cause=invitation, text=text.strip())  # fmt: skip
        except DomainError:  # no channel for this customer: the invitation stays unsent, the link still works
            continue
        invitation.sent_at = now
        invitation.save(update_fields=["sent_at", "updated_at"])
    return out


def survey_open(token: str, *, now: dt.datetime | None = None) -> SurveyInvitation:
    """The invitation behind a link (404 for a forged, foreign or expired one); the first opening is stamped."""
    try:
        data = signing.loads(token, salt=SURVEY_SALT)
        pk, nonce = int(data["i"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound() from None
    invitation = (
        SurveyInvitation.objects.select_related("template", "customer").filter(pk=pk, nonce=nonce).first()
    )  # scoped: the signed link names it
    now = now or timezone.now()
    if invitation is None or invitation.expires_at < now:
        raise NotFound()
    if invitation.opened_at is None and invitation.responded_at is None:
        SurveyInvitation.objects.filter(pk=invitation.pk, opened_at=None).update(opened_at=now)  # scoped: idem
        invitation.opened_at = now
    return invitation


def _in_networks(ip: str | None, networks: str) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for part in networks.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if address in ipaddress.ip_network(part, strict=False):
                return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True)
class Answering:
    """Who is answering, as the public page sees it (never trusted for anything but the flags)."""

    ip: str | None = None
    device: str = ""
    staff_session: bool = False


def honesty_flags(
    *, settings: CareSettings, customer_id: int, sent_at: dt.datetime, opened_at: dt.datetime | None,
    answering: Answering, now: dt.datetime,
) -> tuple[list[str], int | None]:  # fmt: skip
    """The ways a dealer fakes an answer (刷分) that this one shows, and the seconds it took: a
    staff device, the store's network, answered in seconds, a mobile changed shortly before the
    link was sent, many answers (surveys and win-back answers) from one device. Shared by the
    CSI/NPS surveys and the win-back survey."""
    flags: list[str] = []
    if answering.staff_session:
        flags.append(Flag.STAFF_DEVICE)
    if _in_networks(answering.ip, settings.store_networks):
        flags.append(Flag.STORE_NETWORK)
    seconds = max(0, int((now - opened_at).total_seconds())) if opened_at else None
    if seconds is not None and seconds < settings.min_answer_seconds:
        flags.append(Flag.FAST)
    from autocrm.audit.models import AuditEvent

    since = sent_at - dt.timedelta(days=NUMBER_CHANGED_DAYS)
    if AuditEvent.objects.filter(  # scoped: the answering customer
        action="update", object_type="customers.customer", object_id=str(customer_id), at__gte=since,
        changes__has_key="mobile",
    ).exists():  # fmt: skip
        flags.append(Flag.NUMBER_CHANGED)
    if answering.device:
        month = now - dt.timedelta(days=30)
        recent = (
            SurveyResponse.objects.filter(  # scoped: the answer's store
                store_id=settings.store_id, device=answering.device, answered_at__gte=month
            ).exclude(customer_id=customer_id).count()
            + WinBack.objects.filter(  # scoped: idem
                store_id=settings.store_id, device=answering.device, answered_at__gte=month
            ).exclude(customer_id=customer_id).count()
        )  # fmt: skip
        if recent >= SAME_DEVICE_LIMIT - 1:
            flags.append(Flag.SAME_DEVICE)
    return flags, seconds


@transaction.atomic
def survey_respond(
    *, token: str, data: Mapping[str, Any], answering: Answering, now: dt.datetime | None = None
) -> SurveyResponse:
    """Record the answer to a survey link: every CSI item 1–scale, or the NPS 0–10 and the
    comment (why). One answer per invitation: a second use is a 409 and changes nothing. The
    honesty checks flag it (a staff device, the store's network, answered in seconds, a mobile
    changed shortly before, many answers from one device) and a flagged answer waits for a
    manager's review before it counts. A low score opens a care call."""
    now = now or timezone.now()
    invitation = survey_open(token, now=now)
    locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)  # scoped: the signed link
    if locked.responded_at is not None:
        raise Conflict(_("This survey was already answered. Thank you!"),
                       fields={"survey": [_("This survey was already answered. Thank you!")]})  # fmt: skip
    template = invitation.template
    errors = inputs.Errors()
    scores: dict[str, int] = {}
    csi: Decimal | None = None
    nps: int | None = None
    if template.kind == SurveyKind.CSI:
        for item in template.items or []:
            code = str(item.get("code", ""))
            value = inputs.integer(errors, data.get(code), code, 1, template.scale)
            if value is None and code not in errors.fields:
                errors.add(code, _("Choose a score."))
            if value is not None:
                scores[code] = value
        if scores and len(scores) == len(template.items or []):
            mean = Decimal(sum(scores.values())) / len(scores)
            csi = ((mean - 1) * 100 / (template.scale - 1)).quantize(Decimal("0.1"))
    else:
        nps = inputs.integer(errors, data.get("nps"), "nps", 0, 10)
        if nps is None and "nps" not in errors.fields:
            errors.add("nps", _("Choose a score."))
    comment = inputs.text(errors, data, "comment", 2000)
    errors.raise_if_any()
    settings = settings_for(locked.store_id)
    flags, seconds = honesty_flags(
        settings=settings, customer_id=locked.customer_id, sent_at=locked.sent_at or locked.created_at,
        opened_at=locked.opened_at or invitation.opened_at, answering=answering, now=now,
    )  # fmt: skip
    response = SurveyResponse.objects.create(
        store_id=locked.store_id, invitation=locked, kind=template.kind, moment=locked.moment,
        customer_id=locked.customer_id, staff_id=locked.staff_id, scores=scores, csi=csi, nps=nps, comment=comment,
        answered_at=now, seconds=seconds, ip=answering.ip or None, device=answering.device[:64], flags=flags,
        status=ResponseStatus.FLAGGED if flags else ResponseStatus.COUNTED,
    )  # fmt: skip
    locked.responded_at = now
    locked.save(update_fields=["responded_at", "updated_at"])
    audit.record("care.survey_answered", obj=response, actor=None, extra={"flags": flags})
    if comment:
        voc_feed.feed(locked.store_id, locked.customer_id, "survey", response.pk, comment, locked.staff_id, now)
    low = (csi is not None and csi < settings.low_csi) or (nps is not None and nps <= settings.low_nps)
    if low:
        followup_plan(store_id=locked.store_id, kind=FollowUpKind.LOW_SCORE, source_id=response.pk,
                      customer_id=locked.customer_id, vehicle_id=locked.vehicle_id, staff_id=locked.staff_id, at=now)  # fmt: skip
    return response


@transaction.atomic
def survey_review(*, actor: Actor, response: SurveyResponse, accept: Any) -> SurveyResponse:
    """A manager decides on a flagged answer: counted (``accept``) or left out for good. 409 when
    it was not flagged or already reviewed."""
    require(actor, "review", response)
    locked = SurveyResponse.objects.select_for_update().get(pk=response.pk)  # scoped: checked above
    if locked.status != ResponseStatus.FLAGGED:
        raise Conflict(_("Only a flagged answer waits for a review."),
                       fields={"accept": [_("Only a flagged answer waits for a review.")]})  # fmt: skip
    locked.status = ResponseStatus.ACCEPTED if inputs.boolean(accept) or accept is True else ResponseStatus.EXCLUDED
    locked.reviewed_by_id, locked.reviewed_at = actor.user_id, timezone.now()
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    audit.record("care.survey_reviewed", obj=locked, actor=actor, extra={"status": locked.status})
    return locked


# --------------------------------------------------------------------------- win-back (issue 15 item 3b)

WINBACK_SALT = "autocrm.care.winback"
WINBACK_BATCH = 500  # flagged customers contacted per store and sweep (the rest the next night)


def _months_before(at: dt.datetime, months: int) -> dt.datetime:
    """``at`` moved back ``months`` calendar months on the local clock (the 31st → the month's last day)."""
    local = timezone.localtime(at)
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    import calendar

    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def visit_seen(
    *, store_id: int, customer_id: int, vehicle_id: int | None = None, at: dt.datetime | None = None
) -> None:
    """A visit of the customer (a closed repair order, a delivery): kept as the last visit the
    churn rule reads, and the end of an open lapse — the customer is won back, and each of the
    store's next watch visits (this one first) is followed by a call of its own (赢回客户)."""
    at = at or timezone.now()
    with transaction.atomic():
        if not Customer.objects.filter(pk=customer_id, store_id=store_id).exists():  # scoped: the event's store
            return
        updated = CareCustomer.objects.filter(  # scoped: the event's store
            store_id=store_id, customer_id=customer_id, last_visit_at__lt=at
        ).update(last_visit_at=at, updated_at=timezone.now())
        if not updated:
            try:
                with transaction.atomic():
                    _row, created = CareCustomer.objects.get_or_create(store_id=store_id, customer_id=customer_id,
                                                                       defaults={"last_visit_at": at})  # fmt: skip
            except IntegrityError:  # a concurrent visit made the row
                created = False
            if not created:  # an event delivered again, or older than the last visit known: nothing new
                return
        open_lapse = (
            WinBack.objects.select_for_update()  # scoped: the event's store
            .filter(store_id=store_id, customer_id=customer_id, returned_at=None, last_visit_at__lt=at)
            .order_by("-flagged_at")
            .first()
        )
        if open_lapse is not None:
            open_lapse.returned_at = at
            open_lapse.watch_left = settings_for(store_id).watch_visits
            open_lapse.save(update_fields=["returned_at", "watch_left", "updated_at"])
            audit.record("care.winback_returned", obj=open_lapse, actor=None)
        watched = (
            WinBack.objects.select_for_update()  # scoped: idem
            .filter(store_id=store_id, customer_id=customer_id, returned_at__lte=at, watch_left__gt=0)
            .order_by("-returned_at")
            .first()
        )
        if watched is None:
            return
        number = settings_for(store_id).watch_visits - watched.watch_left + 1
        watched.watch_left -= 1
        watched.save(update_fields=["watch_left", "updated_at"])
        followup_plan(store_id=store_id, kind=FollowUpKind.WATCH,
                      source_id=watched.pk * WINBACK_WATCH_SOURCE + max(1, number), customer_id=customer_id,
                      vehicle_id=vehicle_id, at=at)  # fmt: skip


def winback_flag(*, store_id: int, now: dt.datetime | None = None) -> int:
    """The churn rule, set-based: every customer of the store whose last visit is older than the
    store's lapse months, and who is not merged away, opted out of personalised marketing, or
    marked not to contact, and not flagged for this lapse yet, is flagged — one read of the
    candidates and one bulk insert (the unique lapse key makes a rerun or a race insert
    nothing). Returns how many were flagged."""
    now = now or timezone.now()
    settings = settings_for(store_id)
    if not settings.winback_months:
        return 0
    cutoff = _months_before(now, settings.winback_months)
    already = WinBack.objects.filter(  # scoped: the sweep's store
        store_id=store_id, customer_id=models.OuterRef("customer_id"), last_visit_at=models.OuterRef("last_visit_at")
    )
    candidates = (
        CareCustomer.objects.filter(  # scoped: the sweep's store
            store_id=store_id, last_visit_at__lt=cutoff, no_contact=False, customer__merged_into=None,
            customer__personalised_marketing_opt_out=False,
        )
        .exclude(models.Exists(already))
        .values_list("customer_id", "last_visit_at")
    )  # fmt: skip
    expires = now + dt.timedelta(days=settings.survey_link_days)
    rows = [
        WinBack(store_id=store_id, customer_id=cid, last_visit_at=last, flagged_at=now, nonce=secrets.token_hex(16),
                expires_at=expires)
        for cid, last in candidates.iterator(chunk_size=2000)
    ]  # fmt: skip
    with transaction.atomic():
        WinBack.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        if rows:
            audit.record("care.winbacks_flagged", store_id=store_id, object_type="care.winback",
                         extra={"count": len(rows), "before": cutoff.isoformat()})  # fmt: skip
    return len(rows)


def winback_token(winback: WinBack) -> str:
    return signing.dumps({"w": winback.pk, "n": winback.nonce}, salt=WINBACK_SALT, compress=True)


def winback_link(winback: WinBack) -> str:
    return reverse("care_public:winback", args=[winback_token(winback)])


def winback_contact(*, store_id: int, now: dt.datetime | None = None, limit: int = WINBACK_BATCH) -> int:
    """Contact the store's flagged customers not yet contacted (up to ``limit``), each in its own
    transaction: the "why did you stop coming" link through the outbox (purpose ``survey``, so
    consent decides the channel, or nothing is sent) and a win-back call for the next agent in
    turn (its own script). Returns how many were contacted."""
    from autocrm.messaging.services import message_queue

    now = now or timezone.now()
    store_name = Store.objects.filter(pk=store_id).values_list("name", flat=True).first() or ""
    pks = list(
        WinBack.objects.filter(store_id=store_id, contacted_at=None, returned_at=None)  # scoped: the sweep's store
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in pks:
        with transaction.atomic():
            wb = (
                WinBack.objects.select_for_update().select_related("customer").filter(pk=pk, contacted_at=None).first()
            )  # scoped: chosen above
            if wb is None:
                continue
            link = winback_link(wb)
            text = gettext("%(store)s misses you: tell us in one tap why you stopped coming, an offer waits: %(link)s") % {
                "store": store_name, "link": link}  # fmt: skip
            try:
                with transaction.atomic():
                    message_queue(actor=None, store=store_id, purpose="survey", channel=None,
                                  template_code="winback_invite", customer=wb.customer, values={"link": link},
                                  idempotency_key=f"care-winback:{wb.pk}", cause=wb, text=text)  # fmt: skip
                wb.sent_at = now
            except DomainError:  # no channel the customer agreed to: the call still goes ahead
                pass
            wb.follow_up = followup_plan(store_id=store_id, kind=FollowUpKind.WINBACK, source_id=wb.pk,
                                         customer_id=wb.customer_id, at=now)  # fmt: skip
            wb.contacted_at = now
            wb.save(update_fields=["sent_at", "follow_up", "contacted_at", "updated_at"])
            done += 1
    return done


def winback_sweep(*, store_id: int, now: dt.datetime | None = None) -> dict[str, int]:
    """The nightly win-back: flag the lapsed customers (set-based), then contact them."""
    flagged = winback_flag(store_id=store_id, now=now)
    return {"flagged": flagged, "contacted": winback_contact(store_id=store_id, now=now)}


def winback_open(token: str, *, now: dt.datetime | None = None) -> WinBack:
    """The win-back behind a link (404 forged or expired); the first opening is stamped."""
    try:
        data = signing.loads(token, salt=WINBACK_SALT)
        pk, nonce = int(data["w"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound() from None
    wb = WinBack.objects.select_related("customer").filter(pk=pk, nonce=nonce).first()  # scoped: the signed link
    now = now or timezone.now()
    if wb is None or wb.expires_at < now:
        raise NotFound()
    if wb.opened_at is None and wb.answered_at is None:
        WinBack.objects.filter(pk=wb.pk, opened_at=None).update(opened_at=now)  # scoped: idem
        wb.opened_at = now
    return wb


def _give_offer(wb: WinBack, now: dt.datetime) -> None:
    """The store's gift for the answer's reason, once (``offer_at``), through ``care.gifts``."""
    from autocrm.core import gifts

    if wb.offer_at is not None or not wb.reason:
        return
    spec = str((settings_for(wb.store_id).winback_gifts or {}).get(wb.reason) or "")
    if not spec:
        return
    given = gifts.give(spec, customer_id=wb.customer_id, store_id=wb.store_id)
    wb.offer, wb.offer_given, wb.offer_at = spec, given, now
    audit.record("care.winback_offer", obj=wb, actor=None, extra={"offer": spec, "given": given})


@transaction.atomic
def winback_respond(
    *, token: str, data: Mapping[str, Any], answering: Answering, now: dt.datetime | None = None
) -> WinBack:
    """Record why the customer stopped coming (``reason``; ``comment``, required for "other").
    Once per link: a second answer is a 409 and changes nothing. The CSI/NPS honesty checks
    flag it; an unflagged answer gets the store's offer for the reason at once, a flagged one
    when a manager accepts it."""
    now = now or timezone.now()
    wb = winback_open(token, now=now)
    locked = WinBack.objects.select_for_update().get(pk=wb.pk)  # scoped: the signed link
    if locked.answered_at is not None:
        raise Conflict(_("This survey was already answered. Thank you!"),
                       fields={"survey": [_("This survey was already answered. Thank you!")]})  # fmt: skip
    errors = inputs.Errors()
    reason = inputs.choice(errors, data, "reason", WinBackReason)
    comment = inputs.text(errors, data, "comment", 2000)
    if reason == WinBackReason.OTHER and not comment:
        errors.add("comment", _("Tell us in a few words, please."))
    errors.raise_if_any()
    settings = settings_for(locked.store_id)
    flags, seconds = honesty_flags(settings=settings, customer_id=locked.customer_id,
                                   sent_at=locked.sent_at or locked.flagged_at, opened_at=locked.opened_at or wb.opened_at,
                                   answering=answering, now=now)  # fmt: skip
    locked.reason, locked.comment, locked.answered_at, locked.seconds = reason, comment, now, seconds
    locked.ip, locked.device, locked.flags = answering.ip or None, answering.device[:64], flags
    locked.status = ResponseStatus.FLAGGED if flags else ResponseStatus.COUNTED
    if not flags:
        _give_offer(locked, now)
    locked.save()
    audit.record("care.winback_answered", obj=locked, actor=None, extra={"reason": reason, "flags": flags})
    if comment:
        voc_feed.feed(locked.store_id, locked.customer_id, "survey", locked.pk, comment, None, now)
    return locked


@transaction.atomic
def winback_review(*, actor: Actor, winback: WinBack, accept: Any) -> WinBack:
    """A manager decides on a flagged win-back answer: counted (and the offer given) or left out."""
    require(actor, "review", winback)
    locked = WinBack.objects.select_for_update().get(pk=winback.pk)  # scoped: checked above
    if locked.status != ResponseStatus.FLAGGED:
        raise Conflict(_("Only a flagged answer waits for a review."),
                       fields={"accept": [_("Only a flagged answer waits for a review.")]})  # fmt: skip
    accepted = accept is True or inputs.boolean(accept)
    locked.status = ResponseStatus.ACCEPTED if accepted else ResponseStatus.EXCLUDED
    if accepted:
        _give_offer(locked, timezone.now())
    locked.save()
    audit.record("care.winback_reviewed", obj=locked, actor=actor, extra={"status": locked.status})
    return locked


@transaction.atomic
def care_customer_no_contact(*, actor: Actor, customer_id: int, no_contact: Any = True) -> CareCustomer:
    """Mark a customer of the store not to be approached by win-back (deceased, asked not to)."""
    require_model(actor, "change", CareSettings)
    store_id = actor.require_store_id()
    if not Customer.objects.filter(pk=customer_id, store_id=store_id).exists():  # scoped: the actor's store
        raise NotFound()
    row, _created = CareCustomer.objects.get_or_create(store_id=store_id, customer_id=customer_id,
                                                       defaults={"last_visit_at": timezone.now()})  # fmt: skip
    row.no_contact = no_contact is True or inputs.boolean(no_contact)
    row.save(update_fields=["no_contact", "updated_at"])
    audit.record("care.customer_no_contact", obj=row, actor=actor, extra={"no_contact": row.no_contact})
    return row


# --------------------------------------------------------------------------- the store's care settings

SETTINGS_NUMBERS: dict[str, tuple[int, int]] = {
    "follow_up_days": (0, 60), "retry_hours": (1, 168), "max_attempts": (1, 10), "survey_link_days": (1, 90),
    "low_csi": (0, 100), "low_nps": (0, 10), "min_answer_seconds": (0, 600), "winback_months": (0, 36),
    "watch_visits": (0, 10),
}  # fmt: skip
DEADLINE_STEPS = ("received", "assigned", "handling", "confirming")
SCRIPT_KINDS = tuple(FollowUpKind.values)


def _check_networks(errors: inputs.Errors, value: str) -> str:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            errors.add("store_networks", _("%(part)s is not an address or a network (CIDR).") % {"part": part})
    return ", ".join(parts)


@transaction.atomic
def settings_save(*, actor: Actor, data: Mapping[str, Any]) -> CareSettings:
    """Save the store's care settings from a form: the numbers (each within its range), the
    store networks (addresses or CIDR), the complaint deadlines per severity and step
    (``deadline_<severity>_<step>``, hours 1–720), the scripts per kind (``script_<kind>``, empty:
    the shipped one) and the win-back offer per reason (``gift_<reason>``, one of the store's
    gifts on offer or none). Bad input names each field and saves nothing; the change is audited."""
    from autocrm.core import gifts

    store_id = actor.require_store_id()
    current = _locked_settings(store_id)
    require(actor, "change", current)
    errors = inputs.Errors()
    values: dict[str, Any] = {}
    for name, (low, high) in SETTINGS_NUMBERS.items():
        number = inputs.integer(errors, data.get(name), name, low, high)
        if number is None and name not in errors.fields:
            errors.add(name, _("This field is required."))
        values[name] = number
    values["store_networks"] = _check_networks(errors, inputs.text(errors, data, "store_networks", 300))
    deadlines: dict[str, dict[str, int]] = {}
    for severity in Severity.values:
        for step in DEADLINE_STEPS:
            name = f"deadline_{severity}_{step}"
            hours = inputs.integer(errors, data.get(name), name, 1, 720)
            if hours is None and name not in errors.fields:
                errors.add(name, _("This field is required."))
            if hours is not None:
                deadlines.setdefault(severity, {})[step] = hours
    values["deadlines"] = deadlines
    scripts = {}
    for kind in SCRIPT_KINDS:
        script = inputs.text(errors, data, f"script_{kind}", 2000)
        if script:
            scripts[kind] = script
    values["scripts"] = scripts
    offered = {spec for spec, _label in gifts.options(store_id)}
    winback_gifts = {}
    for reason in WinBackReason.values:
        name = f"gift_{reason}"
        spec = inputs.text(errors, data, name, 60)
        if spec and spec not in offered and spec != current.winback_gifts.get(reason):
            errors.add(name, _("Choose one of the gifts on offer in this store."))
        elif spec:
            winback_gifts[reason] = spec
    values["winback_gifts"] = winback_gifts
    errors.raise_if_any()
    changes = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
    for k, v in values.items():
        setattr(current, k, v)
    current.save()
    audit.record("care.settings_saved", obj=current, actor=actor, changes=changes)
    return current
