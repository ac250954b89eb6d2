"""Writes of after-sales: appointments (capacity, race-free), repair orders through their
workflow, jobs and part lines, canned jobs, the owner's estimate link, bills.

Each service is keyword-only with the actor first (the estimate link's answer has no actor: the
signed link is the permission), atomic, checks permission and emits its ``service.*`` event
after commit; saved rows are in the audit trail. Bad input is a ``ValidationError`` naming the
field with nothing written; a move the state does not allow (out of order, the last place taken,
lines still waiting for the owner, an unpaid bill) is a ``Conflict``."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, bill_hooks, inputs, uploads
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, ValidationError
from autocrm.core.events import emit
from autocrm.core.permissions import require, require_model, scope_for
from autocrm.core.roles import Role
from autocrm.customers.models import Customer
from autocrm.customers.services import timeline_record
from autocrm.vehicles.models import Vehicle
from autocrm.vehicles.services import odometer_record

from . import billing, events
from .choices import (
    RO_ORDER,
    AppointmentStatus,
    Approval,
    BillStatus,
    PaymentMethod,
    PhotoKind,
    Progress,
    RoStatus,
    ServiceType,
)
from .models import (
    Appointment,
    Bill,
    CannedJob,
    DeclinedWork,
    EstimateLink,
    Job,
    JobPhoto,
    PartLine,
    RepairOrder,
    RepairOrderStatusChange,
    ServiceDay,
)
from .selectors import duration_of, settings_for, slot_plan

log = logging.getLogger(__name__)
NOT_VALID = _("Some fields are not valid.")
MAX_MONEY = Decimal("9999999.99")
ESTIMATE_SALT = "autocrm.service.estimate"
# Statuses in which lines may still be added or changed.
EDITABLE = (RoStatus.RECEIVED, RoStatus.DIAGNOSIS, RoStatus.AWAITING_APPROVAL, RoStatus.IN_REPAIR)


def _staff(errors: inputs.Errors, store_id: int, value: Any, name: str, roles: tuple[str, ...]) -> int | None:
    from autocrm.accounts.models import Membership

    user_id = inputs.integer(errors, value, name, 1, 2**62)
    if user_id is None:
        return None
    if not Membership.objects.filter(user_id=user_id, store_id=store_id, role__in=roles).exists():
        errors.add(name, _("Choose a colleague of this store with the right role."))
    return user_id


ADVISORS = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.MANAGER)
TECHNICIANS = (Role.TECHNICIAN, Role.SERVICE_MANAGER)


def _conflict(field: str, message: Any) -> Conflict:
    return Conflict(message, fields={field: [message]})


# --- appointments ----------------------------------------------------------------------------------


def _lock_day(store_id: int, day: dt.date) -> None:
    """Serialise the bookings of one store and day: an UPDATE of the day's row comes first, so
    PostgreSQL holds its row lock and SQLite its write lock until the booking commits; the check
    that follows sees every booking committed before."""
    if ServiceDay.objects.filter(store_id=store_id, day=day).update(bookings=F("bookings") + 1):
        return
    try:
        with transaction.atomic():
            ServiceDay.objects.create(store_id=store_id, day=day, bookings=1)
    except IntegrityError:
        ServiceDay.objects.filter(store_id=store_id, day=day).update(bookings=F("bookings") + 1)


def priority_of(customer: Customer) -> bool:
    """Whether the customer has the priority flag (绿色通道): any registered resolver says so
    (loyalty registers its tiers in ``service.priority``)."""
    from autocrm.core.extensions import registry

    for resolver in registry("service.priority").entries():
        try:
            if resolver(customer):
                return True
        except Exception:  # a plug-in's failure never blocks a booking
            log.exception("service priority resolver failed")
    return False


@transaction.atomic
def appointment_book(
    *, actor: Actor, customer: Customer, vehicle: Vehicle | None = None, data: Mapping[str, Any]
) -> Appointment:
    """Book a slot: ``service_type``, ``starts_at`` (a slot start of the store's day), optional
    ``advisor``, ``priority`` (a priority customer may use the places kept for priority; the
    flag is also taken from ``service.priority``), ``pickup`` with ``pickup_address`` and
    ``pickup_at`` (上门取送车), ``note``. Race-free: the store's day is locked while checking, so
    two clients taking the last place get one booking and one 409."""
    require_model(actor, "add", Appointment)
    store_id = actor.require_store_id()
    require(actor, "view", customer)
    errors = inputs.Errors()
    if customer.store_id != store_id:
        errors.add("customer", _("Choose one of this store's records."))
    if vehicle is not None and vehicle.store_id != store_id:
        errors.add("vehicle", _("Choose one of this store's records."))
    service_type = str(data.get("service_type") or ServiceType.MAINTENANCE)
    if service_type not in ServiceType.values:
        errors.add("service_type", _("Choose one of the listed values."))
    starts_at = inputs.aware(errors, data.get("starts_at"), "starts_at")
    advisor_id = _staff(errors, store_id, data.get("advisor"), "advisor", ADVISORS) if data.get("advisor") else None
    pickup = inputs.boolean(data.get("pickup"))
    pickup_address = inputs.text(errors, data, "pickup_address", 200, required=pickup)
    pickup_at = inputs.aware(errors, data.get("pickup_at"), "pickup_at", required=False)
    note = inputs.text(errors, data, "note", 500)
    if starts_at is not None and starts_at < timezone.now() - dt.timedelta(minutes=1):
        errors.add("starts_at", _("Choose a time that has not passed."))
    errors.raise_if_any()
    assert starts_at is not None
    priority = inputs.boolean(data.get("priority")) or priority_of(customer)
    store = customer.store
    day = timezone.localtime(starts_at).date()
    _lock_day(store_id, day)
    plan = {s.starts_at: s for s in slot_plan(store=store, day=day, service_type=service_type,
                                              advisor_id=advisor_id, priority=priority)}  # fmt: skip
    slot = plan.get(starts_at)
    if slot is None:
        raise ValidationError(NOT_VALID, fields={"starts_at": [_("Choose one of the day's slots.")]})
    if not slot.available:
        raise _conflict("starts_at", _("This slot is fully booked; choose another."))
    rules = settings_for(store_id)
    slots = -(-duration_of(rules, service_type) // rules.slot_minutes)
    appointment = Appointment.objects.create(
        store_id=store_id, customer=customer, vehicle=vehicle, advisor_id=advisor_id or (
            actor.user_id if scope_for(actor, RepairOrder, "add") else None),
        service_type=service_type, day=day, starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=duration_of(rules, service_type)), slots=slots,
        priority=priority, pickup=pickup, pickup_address=pickup_address, pickup_at=pickup_at, note=note,
    )  # fmt: skip
    timeline_record(customer=customer, kind="service.appointment", store_id=store_id, obj=appointment,
                    summary=f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M} {ServiceType(service_type).label}")  # fmt: skip
    emit(events.APPOINTMENT_BOOKED, store_id=store_id, payload=events.AppointmentBooked(
        appointment_id=appointment.pk, customer_id=customer.pk, vehicle_id=appointment.vehicle_id,
        starts_at=starts_at, priority=priority))  # fmt: skip
    return appointment


@transaction.atomic
def appointment_cancel(*, actor: Actor, appointment: Appointment) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    require(actor, "change", appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise _conflict("status", _("Only a booked appointment can be cancelled."))
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status", "updated_at"])
    audit.record("appointment.cancel", obj=appointment, actor=actor)
    return appointment


@transaction.atomic
def appointment_mark(*, actor: Actor, appointment: Appointment, status: str) -> Appointment:
    """Mark arrival (``arrived``) or a no-show (``no_show``: only once the slot has begun)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    require(actor, "change", appointment)
    if status not in (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW):
        raise ValidationError(NOT_VALID, fields={"status": [_("Choose one of the listed values.")]})
    if appointment.status != AppointmentStatus.BOOKED:
        raise _conflict("status", _("Only a booked appointment can be marked."))
    now = timezone.now()
    if status == AppointmentStatus.NO_SHOW and appointment.starts_at > now:
        raise _conflict("status", _("A no-show can be marked only after the appointment's time."))
    appointment.status = status
    fields = ["status", "updated_at"]
    if status == AppointmentStatus.ARRIVED:
        appointment.arrived_at = now
        fields.append("arrived_at")
    appointment.save(update_fields=fields)
    audit.record(f"appointment.{status}", obj=appointment, actor=actor)
    return appointment


def appointment_reminders_send(*, store_id: int, day: dt.date | None = None) -> int:
    """Queue the day-before reminder of every booked appointment of ``day`` (tomorrow by default)
    through the outbox (the customer's consent and preference choose SMS or WeChat; one message
    per appointment however often this runs). Returns how many were queued now."""
    from autocrm.messaging.services import message_queue

    day = day or timezone.localdate() + dt.timedelta(days=1)
    queued = 0
    rows = Appointment.objects.filter(store_id=store_id, day=day, status=AppointmentStatus.BOOKED,  # scoped: store sweep
                                      reminded_at__isnull=True).select_related("customer", "vehicle", "store")  # fmt: skip
    for appointment in rows:
        when = timezone.localtime(appointment.starts_at)
        values = {
            "customer_name": appointment.customer.name, "customer_title": appointment.customer.name,
            "appointment_time": f"{when:%m-%d %H:%M}", "store_name": appointment.store.name,
            "store_phone": appointment.store.phone, "plate": appointment.vehicle.plate if appointment.vehicle else "",
        }  # fmt: skip
        with transaction.atomic():
            try:
                message_queue(actor=None, store=store_id, purpose="service", channel=None,
                              template_code="appointment_reminder", customer=appointment.customer, values=values,
                              idempotency_key=f"appointment-reminder:{appointment.pk}", cause=appointment,
                              text=str(_("%(customer_title)s, your service appointment at %(store_name)s is %(appointment_time)s.")
                                       % values))  # fmt: skip
            except ValidationError:
                continue
            Appointment.objects.filter(pk=appointment.pk).update(reminded_at=timezone.now())
            queued += 1
    return queued


# --- repair orders ---------------------------------------------------------------------------------


@transaction.atomic
def repair_order_receive(
    *,
    actor: Actor,
    customer: Customer,
    vehicle: Vehicle,
    appointment: Appointment | None = None,
    data: Mapping[str, Any],
) -> RepairOrder:
    """Receive a car (接车), from an appointment or walk-in: the odometer reading (``odometer_km``;
    lower than the last needs ``correction_reason``, else 400) goes into the vehicle's history,
    the complaint, the priority flag and a senior technician when the owner asks."""
    require_model(actor, "add", RepairOrder)
    store_id = actor.require_store_id()
    require(actor, "view", customer)
    errors = inputs.Errors()
    if customer.store_id != store_id:
        errors.add("customer", _("Choose one of this store's records."))
    if vehicle.store_id != store_id:
        errors.add("vehicle", _("Choose one of this store's records."))
    if appointment is not None and appointment.store_id != store_id:
        errors.add("appointment", _("Choose one of this store's records."))
    km = inputs.integer(errors, data.get("odometer_km"), "odometer_km", 0, 2_000_000)
    if km is None and "odometer_km" not in errors.fields:
        errors.add("odometer_km", _("This field is required."))
    complaint = inputs.text(errors, data, "complaint", 2000)
    reason = inputs.text(errors, data, "correction_reason", 200)
    promised_at = inputs.aware(errors, data.get("promised_at"), "promised_at", required=False)
    recall_codes = data.get("recall_codes") or []
    if not isinstance(recall_codes, list | tuple) or not all(isinstance(c, str) and 0 < len(c) <= 40 and "\x00" not in c
                                                            for c in recall_codes):  # fmt: skip
        errors.add("recall_codes", _("Give a list of campaign codes."))
    errors.raise_if_any()
    odometer_record(actor=actor, vehicle=vehicle, km=km, correction_reason=reason)
    priority = (
        inputs.boolean(data.get("priority"))
        or (appointment.priority if appointment else False)
        or priority_of(customer)
    )
    ro = RepairOrder.objects.create(
        store_id=store_id, appointment=appointment, customer=customer, vehicle=vehicle, advisor_id=actor.user_id,
        status=RoStatus.RECEIVED, odometer_km=km, complaint=complaint, priority=priority,
        senior_technician=inputs.boolean(data.get("senior_technician")), promised_at=promised_at,
        recall_codes=list(recall_codes),
    )  # fmt: skip
    ro.number = f"RO{timezone.localdate():%y%m%d}{ro.pk:05d}"
    ro.save(update_fields=["number"])
    RepairOrderStatusChange.objects.create(store_id=store_id, repair_order=ro, from_status=RoStatus.APPOINTMENT,
                                           to_status=RoStatus.RECEIVED, by_id=actor.user_id)  # fmt: skip
    if appointment is not None and appointment.status == AppointmentStatus.BOOKED:
        Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.ARRIVED,
                                                             arrived_at=timezone.now())  # fmt: skip
    timeline_record(customer=customer, kind="service.received", summary=f"{ro.number} {vehicle}", obj=ro,
                    store_id=store_id)  # fmt: skip
    return ro


def _locked(repair_order: RepairOrder) -> RepairOrder:
    return RepairOrder.objects.select_for_update(of=("self",)).get(pk=repair_order.pk)


def _editable(ro: RepairOrder) -> None:
    if ro.status not in EDITABLE:
        raise _conflict("status", _("Lines can no longer be changed at this status."))


def _comeback(ro: RepairOrder, code: str) -> bool:
    days = settings_for(ro.store_id).comeback_days
    since = ro.received_at - dt.timedelta(days=days)
    return (
        Job.objects.filter(store_id=ro.store_id, repair_order__vehicle_id=ro.vehicle_id, code=code,  # scoped: same store
                           repair_order__status=RoStatus.DELIVERED, repair_order__closed_at__gte=since)
        .exclude(repair_order=ro).exists()
    )  # fmt: skip


def _job_create(ro: RepairOrder, *, code: str, name: str, hours: Decimal, rate: Decimal, technician_id: int | None,
                canned: CannedJob | None = None) -> Job:  # fmt: skip
    comeback = _comeback(ro, code)
    job = Job.objects.create(store_id=ro.store_id, repair_order=ro, code=code, name=name, hours=hours, rate=rate,
                             technician_id=technician_id, is_comeback=comeback, canned_job=canned)  # fmt: skip
    if comeback and not ro.is_comeback:
        ro.is_comeback = True
        RepairOrder.objects.filter(pk=ro.pk).update(is_comeback=True)
    return job


@transaction.atomic
def job_add(*, actor: Actor, repair_order: RepairOrder, data: Mapping[str, Any]) -> Job:
    """Add a labour line: ``code``, ``name``, ``hours`` × ``rate`` (default the store's labour
    rate), ``technician``. The same code on the same vehicle within the comeback window flags
    the job and the repair order as a comeback (返修)."""
    ro = _locked(repair_order)
    require(actor, "change", ro)
    _editable(ro)
    errors = inputs.Errors()
    code = inputs.text(errors, data, "code", 30, required=True)
    name = inputs.text(errors, data, "name", 100, required=True)
    hours = inputs.decimal(errors, data, "hours", high=Decimal("999.99"), positive=True)
    rate = inputs.decimal(errors, data, "rate", high=Decimal("99999.99"), required=False)
    technician = _staff(errors, ro.store_id, data.get("technician"), "technician", TECHNICIANS) \
        if data.get("technician") else None  # fmt: skip
    errors.raise_if_any()
    assert hours is not None
    return _job_create(ro, code=code, name=name, hours=hours, rate=rate if rate is not None else
                       settings_for(ro.store_id).labour_rate, technician_id=technician)  # fmt: skip


REFERENCE = "service.repairorder"


def _reference(ro: RepairOrder) -> tuple[str, int]:
    return (REFERENCE, ro.pk)


@transaction.atomic
def part_add(*, actor: Actor, repair_order: RepairOrder, data: Mapping[str, Any]) -> PartLine:
    """Add a part line: ``part`` (a part of the store's stock: its number, name and price are the
    defaults, and the quantity is reserved for this repair order — not enough in stock is a 409
    naming ``quantity``) or a free ``part_number`` and ``name``; ``quantity`` × ``unit_price``;
    optional ``job``."""
    from autocrm.parts import services as parts
    from autocrm.parts.selectors import part_get

    ro = _locked(repair_order)
    require(actor, "change", ro)
    _editable(ro)
    errors = inputs.Errors()
    part_id = inputs.integer(errors, data.get("part"), "part", 1, 2**62)
    errors.raise_if_any()
    stock = part_get(actor=actor, pk=part_id) if part_id is not None else None
    if stock is not None and stock.store_id != ro.store_id:
        raise ValidationError(NOT_VALID, fields={"part": [_("Choose one of this store's parts.")]})
    defaults = {"part_number": stock.part_number, "name": stock.name, "unit_price": stock.price} if stock else {}
    data = {**defaults, **{k: v for k, v in data.items() if v not in (None, "")}}
    part_number = inputs.text(errors, data, "part_number", 40)
    name = inputs.text(errors, data, "name", 100, required=True)
    quantity = inputs.decimal(errors, data, "quantity", high=Decimal("9999.99"), positive=True)
    unit_price = inputs.decimal(errors, data, "unit_price", high=MAX_MONEY)
    job_id = inputs.integer(errors, data.get("job"), "job", 1, 2**62)
    if job_id is not None and not Job.objects.filter(pk=job_id, repair_order=ro).exists():
        errors.add("job", _("Choose a job of this repair order."))
    errors.raise_if_any()
    assert quantity is not None and unit_price is not None
    if stock is not None:
        parts.stock_reserve(actor=actor, part=stock, qty=quantity, reference=_reference(ro))
    return PartLine.objects.create(store_id=ro.store_id, repair_order=ro, job_id=job_id, part=stock,
                                   part_number=part_number, name=name, quantity=quantity,
                                   unit_price=unit_price)  # fmt: skip


def _stock_release(actor: Actor | None, ro: RepairOrder, lines: list[PartLine]) -> None:
    """Give back what the repair order holds of these lines' parts."""
    from autocrm.parts import services as parts

    for line in lines:
        if line.part_id is None or line.issued:
            continue
        if actor is None:  # the owner's link: the advisor of the order acts for the release
            actor = _system_actor(ro)
        if actor is None:
            continue
        assert line.part is not None
        parts.stock_release(actor=actor, part=line.part, reference=_reference(ro), qty=line.quantity)


def _system_actor(ro: RepairOrder) -> Actor | None:
    """The repair order's advisor as the actor of stock moves the owner's answer causes."""
    from autocrm.accounts.selectors import actor_build

    if ro.advisor_id is None:
        return None
    try:
        assert ro.advisor is not None
        built: Actor = actor_build(user=ro.advisor, store_id=ro.store_id)
    except Exception:
        log.exception("no actor for the advisor of repair order %s", ro.pk)
        return None
    return built


def _stock_issue(actor: Actor, ro: RepairOrder) -> None:
    """Issue the approved stock parts to the repair order (409 naming ``quantity`` when short)."""
    from autocrm.parts import services as parts

    for line in PartLine.objects.filter(repair_order=ro, approval=Approval.APPROVED, part__isnull=False,
                                        issued=False).select_related("part"):  # fmt: skip
        assert line.part is not None
        parts.stock_issue(actor=actor, part=line.part, qty=line.quantity, reference=_reference(ro))
        PartLine.objects.filter(pk=line.pk).update(issued=True)


def _stock_release_all(actor: Actor, ro: RepairOrder) -> None:
    from autocrm.parts import services as parts

    seen: set[int] = set()
    for line in PartLine.objects.filter(repair_order=ro, part__isnull=False).select_related("part"):
        if line.part_id in seen:
            continue
        seen.add(line.part_id)  # type: ignore[arg-type]
        assert line.part is not None
        parts.stock_release(actor=actor, part=line.part, reference=_reference(ro))


def canned_lines_clean(lines: Any) -> list[dict[str, Any]]:
    """The lines of a canned job, checked like the lines of a repair order (400 naming
    ``lines.<n>.<field>``)."""
    errors = inputs.Errors()
    out: list[dict[str, Any]] = []
    if not isinstance(lines, list) or not lines or len(lines) > 50:
        raise ValidationError(NOT_VALID, fields={"lines": [_("Give between 1 and 50 lines.")]})
    for n, line in enumerate(lines):
        inner = inputs.Errors()
        if not isinstance(line, dict):
            errors.add(f"lines.{n}", _("Each line is an object."))
            continue
        kind = line.get("kind")
        if kind == "labour":
            clean = {"kind": "labour", "code": inputs.text(inner, line, "code", 30, required=True),
                     "name": inputs.text(inner, line, "name", 100, required=True),
                     "hours": inputs.decimal(inner, line, "hours", high=Decimal("999.99"), positive=True)}  # fmt: skip
        elif kind == "part":
            clean = {"kind": "part", "part_number": inputs.text(inner, line, "part_number", 40),
                     "name": inputs.text(inner, line, "name", 100, required=True),
                     "quantity": inputs.decimal(inner, line, "quantity", high=Decimal("9999.99"), positive=True),
                     "unit_price": inputs.decimal(inner, line, "unit_price", high=MAX_MONEY)}  # fmt: skip
        else:
            inner.add("kind", _("Choose one of the listed values."))
            clean = {}
        for name, messages in inner.fields.items():
            for message in messages:
                errors.add(f"lines.{n}.{name}", message)
        out.append({k: (str(v) if isinstance(v, Decimal) else v) for k, v in clean.items()})
    errors.raise_if_any()
    return out


@transaction.atomic
def canned_job_create(*, actor: Actor, data: Mapping[str, Any]) -> CannedJob:
    require_model(actor, "add", CannedJob)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    code = inputs.text(errors, data, "code", 30, required=True)
    name = inputs.text(errors, data, "name", 100, required=True)
    description = inputs.text(errors, data, "description", 300)
    errors.raise_if_any()
    lines = canned_lines_clean(data.get("lines"))
    if CannedJob.objects.filter(store_id=store_id, code=code).exists():  # scoped: the unique key of the store
        raise _conflict("code", _("Another canned job of this store has this code."))
    return CannedJob.objects.create(store_id=store_id, code=code, name=name, description=description, lines=lines)


@transaction.atomic
def canned_job_apply(*, actor: Actor, repair_order: RepairOrder, canned_job: CannedJob,
                     technician: Any = None) -> list[Job | PartLine]:  # fmt: skip
    """Fill the repair order from a canned job: its labour lines (at the store's rate) and parts,
    in one click."""
    ro = _locked(repair_order)
    require(actor, "change", ro)
    _editable(ro)
    if canned_job.store_id != ro.store_id or not canned_job.is_active:
        raise ValidationError(NOT_VALID, fields={"canned_job": [_("Choose one of this store's canned jobs.")]})
    errors = inputs.Errors()
    technician_id = _staff(errors, ro.store_id, technician, "technician", TECHNICIANS) if technician else None
    errors.raise_if_any()
    rate = settings_for(ro.store_id).labour_rate
    made: list[Job | PartLine] = []
    first_job: Job | None = None
    for line in canned_job.lines:
        if line.get("kind") == "labour":
            job = _job_create(ro, code=line["code"], name=line["name"], hours=Decimal(line["hours"]), rate=rate,
                              technician_id=technician_id, canned=canned_job)  # fmt: skip
            first_job = first_job or job
            made.append(job)
    from autocrm.parts import services as parts
    from autocrm.parts.models import Part

    numbers = [line.get("part_number") for line in canned_job.lines if line.get("kind") == "part"]
    stock = {
        p.part_number: p for p in Part.objects.filter(store_id=ro.store_id, part_number__in=[n for n in numbers if n])
    }
    for line in canned_job.lines:
        if line.get("kind") == "part":
            part = stock.get(line.get("part_number") or "")
            if part is not None:  # from the store's stock: reserved now (409 when short)
                parts.stock_reserve(actor=actor, part=part, qty=Decimal(line["quantity"]), reference=_reference(ro))
            made.append(PartLine.objects.create(
                store_id=ro.store_id, repair_order=ro, job=first_job, part=part,
                part_number=line.get("part_number", ""), name=line["name"], quantity=Decimal(line["quantity"]),
                unit_price=Decimal(line["unit_price"]), canned_job=canned_job))  # fmt: skip
    audit.record("repair_order.canned_job", obj=ro, actor=actor, extra={"canned_job": canned_job.code})
    return made


def job_for(*, actor: Actor, repair_order: RepairOrder, job_id: Any) -> Job:
    from autocrm.core.permissions import get_in_scope

    return get_in_scope(Job.objects.filter(repair_order=repair_order), actor, job_id)


@transaction.atomic
def job_progress(*, actor: Actor, job: Job, data: Mapping[str, Any]) -> Job:
    """A technician records ``progress`` (not started → in progress → done) and ``findings``."""
    ro = _locked(job.repair_order)
    require(actor, "progress", ro)
    job = Job.objects.select_for_update().get(pk=job.pk)
    errors = inputs.Errors()
    progress = data.get("progress")
    if progress is not None and progress not in Progress.values:
        errors.add("progress", _("Choose one of the listed values."))
    findings = inputs.text(errors, data, "findings", 2000) if "findings" in data else None
    errors.raise_if_any()
    if progress is not None and progress != job.progress:
        if ro.status != RoStatus.IN_REPAIR and progress != Progress.WAITING:
            raise _conflict("progress", _("Work starts once the repair order is in repair."))
        if job.approval != Approval.APPROVED:
            raise _conflict("progress", _("The owner has not approved this job."))
        job.progress = progress
        job.done_at = timezone.now() if progress == Progress.DONE else None
    if findings is not None:
        job.findings = findings
    job.save()
    return job


@transaction.atomic
def job_assign(*, actor: Actor, job: Job, technician: Any) -> Job:
    ro = _locked(job.repair_order)
    require(actor, "change", ro)
    errors = inputs.Errors()
    technician_id = _staff(errors, ro.store_id, technician, "technician", TECHNICIANS)
    errors.raise_if_any()
    Job.objects.filter(pk=job.pk).update(technician_id=technician_id)
    job.technician_id = technician_id
    return job


def job_photo_add(*, actor: Actor, job: Job, file: Any, kind: str = PhotoKind.FINDING, name: Any = "") -> JobPhoto:
    """A photo of a finding or of a replaced part (旧件展示), checked by ``core.uploads``."""
    ro = job.repair_order
    if scope_for(actor, RepairOrder, "progress") is None:
        require(actor, "change", ro)
    else:
        require(actor, "progress", ro)
    if kind not in PhotoKind.values:
        raise ValidationError(NOT_VALID, fields={"kind": [_("Choose one of the listed values.")]})
    stored = uploads.store(file, store_id=ro.store_id, kind="photo", name=name or getattr(file, "name", ""))
    photo: JobPhoto = uploads.record(JobPhoto, stored, uploaded_by_id=actor.user_id, store_id=ro.store_id, job=job,
                                     kind=kind)  # fmt: skip
    return photo


# --- the workflow ---------------------------------------------------------------------------------


def _pending(ro: RepairOrder) -> bool:
    return (
        Job.objects.filter(repair_order=ro, approval=Approval.PENDING).exists()
        or PartLine.objects.filter(repair_order=ro, approval=Approval.PENDING).exists()
    )


def blockers(ro: RepairOrder, target: str) -> dict[str, list[Any]]:
    """What moving to ``target`` still needs, by field; empty when the repair order may move."""
    missing: dict[str, list[Any]] = {}
    if target == RoStatus.AWAITING_APPROVAL and not (ro.jobs.exists() or ro.part_lines.exists()):
        missing["lines"] = [_("Add the jobs and parts the owner is to approve.")]
    if target == RoStatus.IN_REPAIR and _pending(ro):
        missing["lines"] = [_("Some lines are still waiting for the owner's answer.")]
    if target == RoStatus.QUALITY_CHECK and Job.objects.filter(
        repair_order=ro, approval=Approval.APPROVED).exclude(progress=Progress.DONE).exists():  # fmt: skip
        missing["jobs"] = [_("Some approved jobs are not done yet.")]
    if target == RoStatus.DELIVERED:
        bill = Bill.objects.filter(repair_order=ro).first()
        if bill is None or bill.status != BillStatus.PAID:
            missing["bill"] = [_("The bill is not paid yet.")]
    return missing


def _move(ro: RepairOrder, target: str, actor: Actor | None) -> None:
    before = ro.status
    now = timezone.now()
    ro.status, ro.status_entered_at = target, now
    fields = ["status", "status_entered_at", "updated_at"]
    if target == RoStatus.DELIVERED:
        ro.closed_at = now
        fields.append("closed_at")
    ro.save(update_fields=fields)
    RepairOrderStatusChange.objects.create(store_id=ro.store_id, repair_order=ro, from_status=before, to_status=target,
                                           by_id=actor.user_id if actor else None, at=now)  # fmt: skip
    audit.record("repair_order.advance", obj=ro, actor=actor, changes={"status": [before, target]})
    emit(events.REPAIR_ORDER_ADVANCED, store_id=ro.store_id,
         payload=events.RepairOrderAdvanced(repair_order_id=ro.pk, from_status=before, to_status=target))  # fmt: skip


@transaction.atomic
def repair_order_advance(*, actor: Actor, repair_order: RepairOrder, to_status: str | None = None) -> RepairOrder:
    """Move one step along the workflow (default: the next status). Any other target, or a
    step whose conditions are not met (lines still waiting for the owner, jobs not done, the bill
    unpaid), is a 409 naming what is missing, with nothing changed. Entering 待结算 makes the
    bill; entering 已交车 closes the repair order and emits ``service.repair_order_closed``."""
    ro = _locked(repair_order)
    require(actor, "advance", ro)
    index = RO_ORDER.index(ro.status)
    following = RO_ORDER[index + 1] if index + 1 < len(RO_ORDER) else None
    target = to_status or following
    if target is not None and target not in RO_ORDER:
        raise ValidationError(NOT_VALID, fields={"to_status": [_("Choose one of the listed values.")]})
    if following is None or target != following:
        raise _conflict("to_status", _("A repair order moves one status at a time, in order."))
    missing = blockers(ro, target)
    if missing:
        names = "; ".join(str(m) for messages in missing.values() for m in messages)
        raise Conflict(names, fields=missing, extra={"missing": sorted(missing)})
    if target == RoStatus.QUALITY_CHECK:
        _stock_issue(actor, ro)
    if target == RoStatus.AWAITING_PAYMENT:
        bill_make(ro)
    if target == RoStatus.DELIVERED:
        _stock_release_all(actor, ro)
    _move(ro, target, actor)
    if target == RoStatus.DELIVERED:
        codes = tuple(sorted(set(Job.objects.filter(repair_order=ro, approval=Approval.APPROVED)
                                 .values_list("code", flat=True))))  # fmt: skip
        emit(events.REPAIR_ORDER_CLOSED, store_id=ro.store_id, payload=events.RepairOrderClosed(
            repair_order_id=ro.pk, vehicle_id=ro.vehicle_id, customer_id=ro.customer_id, odometer_km=ro.odometer_km,
            closed_at=ro.closed_at or timezone.now(), job_codes=codes, recall_codes=tuple(ro.recall_codes or ()),
            is_comeback=ro.is_comeback))  # fmt: skip
        timeline_record(customer=ro.customer_id, kind="service.delivered", summary=str(ro.number), obj=ro,
                        store_id=ro.store_id)  # fmt: skip
    return ro


# --- the estimate and the owner's link ------------------------------------------------------------


def estimate_token(link: EstimateLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=ESTIMATE_SALT, compress=True)


def estimate_url(link: EstimateLink) -> str:
    from django.conf import settings

    base = str(getattr(settings, "AUTOCRM_PUBLIC_URL", "") or "").rstrip("/")
    return base + reverse("service_public:estimate", args=[estimate_token(link)])


@transaction.atomic
def estimate_send(*, actor: Actor, repair_order: RepairOrder) -> tuple[EstimateLink, str]:
    """Send the owner a signed, expiring link (the store's ``estimate_link_hours``) to approve
    or decline the waiting lines one by one, through the outbox (SMS or WeChat by consent). A
    new link replaces the earlier one. A repair order in diagnosis moves to 待客户确认."""
    from autocrm.messaging.services import message_queue

    ro = _locked(repair_order)
    require(actor, "change", ro)
    if ro.status not in (RoStatus.DIAGNOSIS, RoStatus.AWAITING_APPROVAL, RoStatus.IN_REPAIR):
        raise _conflict("status", _("An estimate is sent after diagnosis."))
    if not _pending(ro):
        raise _conflict("lines", _("No line is waiting for the owner's answer."))
    now = timezone.now()
    EstimateLink.objects.filter(repair_order=ro, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    hours = settings_for(ro.store_id).estimate_link_hours
    link = EstimateLink.objects.create(store_id=ro.store_id, repair_order=ro, nonce=secrets.token_hex(16),
                                       expires_at=now + dt.timedelta(hours=hours))  # fmt: skip
    url = estimate_url(link)
    if ro.status == RoStatus.DIAGNOSIS:
        _move(ro, RoStatus.AWAITING_APPROVAL, actor)
    values = {"customer_name": ro.customer.name, "customer_title": ro.customer.name, "code": ro.number, "link": url}
    message_queue(actor=None, store=ro.store_id, purpose="service", channel=None, template_code="estimate_link",
                  customer=ro.customer, values=values, idempotency_key=f"estimate-link:{link.pk}", cause=ro,
                  text=str(_("%(customer_title)s, the estimate of repair order %(code)s is ready: %(link)s") % values))  # fmt: skip
    audit.record("repair_order.estimate_sent", obj=ro, actor=actor, extra={"link": link.pk})
    return link, url


class LinkInvalid(Conflict):
    """The link is expired, used, replaced or not ours: the public page says so, nothing changes."""

    def __init__(self, reason: str, message: Any) -> None:
        super().__init__(message, fields={"link": [message]})
        self.reason = reason


def estimate_link_open(token: str, *, for_answer: bool) -> EstimateLink:
    """The link a token names, checked: a bad signature → ``LinkInvalid("invalid")``; expired or
    replaced → ``expired``; already answered (when answering) → ``used``."""
    from .selectors import estimate_link_find

    try:
        data = signing.loads(token, salt=ESTIMATE_SALT)
        link_id, nonce = int(data["l"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("invalid", _("This link is not valid.")) from None
    link = estimate_link_find(link_id=link_id)
    if link is None or not secrets.compare_digest(link.nonce, nonce):
        raise LinkInvalid("invalid", _("This link is not valid."))
    if link.expires_at <= timezone.now() or link.revoked_at is not None:
        raise LinkInvalid("expired", _("This link has expired. Ask your service advisor for a new one."))
    if for_answer and link.used_at is not None:
        raise LinkInvalid("used", _("You have already answered this estimate. Nothing was changed."))
    return link


def _answer_lines(ro: RepairOrder, answers: Mapping[str, Any], *, actor: Actor | None) -> tuple[int, int]:
    """Set the owner's answer on each waiting line (``job:<id>`` / ``part:<id>`` → ``approved`` /
    ``declined``); every waiting line must be answered. Declined lines become declined work."""
    jobs = {f"job:{j.pk}": j for j in Job.objects.filter(repair_order=ro, approval=Approval.PENDING)}
    parts = {f"part:{p.pk}": p for p in PartLine.objects.filter(repair_order=ro, approval=Approval.PENDING)}
    lines: dict[str, Job | PartLine] = {**jobs, **parts}
    errors = inputs.Errors()
    for key, value in answers.items():
        if key not in lines:
            errors.add(str(key)[:40], _("This line is not waiting for an answer."))
        elif value not in (Approval.APPROVED, Approval.DECLINED):
            errors.add(key, _("Choose one of the listed values."))
    for key in lines:
        if key not in answers:
            errors.add(key, _("Approve or decline this line."))
    errors.raise_if_any()
    approved = declined = 0
    for key, line in lines.items():
        answer = answers[key]
        type(line).objects.filter(pk=line.pk).update(approval=answer)
        if answer == Approval.APPROVED:
            approved += 1
            continue
        declined += 1
        if isinstance(line, Job):
            description, amount = line.name, line.amount
        else:
            description, amount = line.name, line.amount
        DeclinedWork.objects.create(store_id=ro.store_id, customer_id=ro.customer_id, vehicle_id=ro.vehicle_id,
                                    repair_order=ro, advisor_id=ro.advisor_id, description=description[:200],
                                    amount=amount)  # fmt: skip
    # a part declined with its job goes with it
    declined_jobs = [line.pk for line in jobs.values() if answers[f"job:{line.pk}"] == Approval.DECLINED]
    if declined_jobs:
        PartLine.objects.filter(repair_order=ro, job_id__in=declined_jobs, approval=Approval.APPROVED).update(
            approval=Approval.DECLINED
        )
    released = list(PartLine.objects.filter(repair_order=ro, approval=Approval.DECLINED, part__isnull=False,
                                            issued=False).select_related("part"))  # fmt: skip
    if released:
        _stock_release(actor, ro, released)
    emit(events.ESTIMATE_ANSWERED, store_id=ro.store_id,
         payload=events.EstimateAnswered(repair_order_id=ro.pk, approved=approved, declined=declined))  # fmt: skip
    if ro.status == RoStatus.AWAITING_APPROVAL and not _pending(ro):
        _move(ro, RoStatus.IN_REPAIR, actor)
    return approved, declined


@transaction.atomic
def estimate_answer(*, token: str, answers: Mapping[str, Any]) -> EstimateLink:
    """The owner's answers through the link (no login: the signed link is the permission, used
    once). An expired, replaced or used link raises :class:`LinkInvalid` and changes nothing."""
    link = estimate_link_open(token, for_answer=True)
    link = EstimateLink.objects.select_for_update().get(pk=link.pk)
    if link.used_at is not None:
        raise LinkInvalid("used", _("You have already answered this estimate. Nothing was changed."))
    ro = _locked(link.repair_order)
    approved, declined = _answer_lines(ro, answers, actor=None)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at", "updated_at"])
    audit.record("repair_order.estimate_answered", obj=ro, store_id=ro.store_id,
                 extra={"approved": approved, "declined": declined, "by": "owner_link"})  # fmt: skip
    return link


@transaction.atomic
def estimate_record(*, actor: Actor, repair_order: RepairOrder, answers: Mapping[str, Any]) -> RepairOrder:
    """The advisor records the owner's answers given in person or by phone."""
    ro = _locked(repair_order)
    require(actor, "change", ro)
    approved, declined = _answer_lines(ro, answers, actor=actor)
    audit.record("repair_order.estimate_answered", obj=ro, actor=actor,
                 extra={"approved": approved, "declined": declined, "by": "advisor"})  # fmt: skip
    return ro


# --- bills -----------------------------------------------------------------------------------------


def bill_make(ro: RepairOrder) -> Bill:
    """Freeze the bill of a repair order from its approved lines and the discount rules."""
    jobs = list(Job.objects.filter(repair_order=ro, approval=Approval.APPROVED))
    parts = list(PartLine.objects.filter(repair_order=ro, approval=Approval.APPROVED))
    rules = settings_for(ro.store_id)

    def context(labour: Decimal, part: Decimal, remaining: Decimal) -> billing.BillContext:
        return billing.BillContext(store_id=ro.store_id, customer_id=ro.customer_id, vehicle_id=ro.vehicle_id,
                                   repair_order_id=ro.pk, labour_total=labour, parts_total=part, remaining=remaining,
                                   job_codes=tuple(j.code for j in jobs))  # fmt: skip

    totals = billing.compute(labour=[(j.hours, j.rate) for j in jobs], parts=[(p.quantity, p.unit_price) for p in parts],
                             tax_rate=rules.tax_rate, context=context)  # fmt: skip
    bill, _created = Bill.objects.update_or_create(repair_order=ro, defaults={
        "store_id": ro.store_id, "labour_total": totals.labour_total, "parts_total": totals.parts_total,
        "discount_total": totals.discount_total, "total": totals.total, "tax_rate": totals.tax_rate,
        "tax": totals.tax, "discounts": [{"code": d.code, "label": d.label, "amount": str(d.amount)}
                                         for d in totals.discounts]})  # fmt: skip
    if not bill.number:
        bill.number = f"B{ro.number[2:] if ro.number else bill.pk}"
        bill.save(update_fields=["number"])
    from .insurance import claim_split  # insurer direct billing (直赔): the two shares of the total

    claim_split(bill)
    return bill


@transaction.atomic
def bill_pay(*, actor: Actor, bill: Bill, method: Any) -> Bill:
    """Record the payment of a bill (``method``: cash, card, WeChat Pay, Alipay, transfer, insurer)."""
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    require(actor, "pay", bill)
    if method not in PaymentMethod.values:
        raise ValidationError(NOT_VALID, fields={"method": [_("Choose one of the listed values.")]})
    if bill.status == BillStatus.PAID:
        raise _conflict("status", _("This bill is already paid."))
    bill.status, bill.method, bill.paid_at = BillStatus.PAID, method, timezone.now()
    bill.save(update_fields=["status", "method", "paid_at", "updated_at"])
    bill_hooks.run_settle(_settlement(bill, actor))  # loyalty consumes its coupon and points here (ADR 0034)
    audit.record("bill.pay", obj=bill, actor=actor, extra={"method": method, "total": str(bill.total)})
    return bill


def _settlement(bill: Bill, actor: Actor) -> bill_hooks.BillSettlement:
    ro = bill.repair_order
    lines = tuple(billing.Discount(code=str(d.get("code", "")), label=str(d.get("label", "")),
                                   amount=Decimal(str(d.get("amount", "0")))) for d in bill.discounts or ())  # fmt: skip
    return bill_hooks.BillSettlement(bill_id=bill.pk, store_id=bill.store_id, customer_id=ro.customer_id,
                                     repair_order_id=ro.pk, labour_total=bill.labour_total,
                                     parts_total=bill.parts_total, total=bill.total, discounts=lines,
                                     actor_user_id=actor.user_id)  # fmt: skip


@transaction.atomic
def bill_void(*, actor: Actor, bill: Bill, reason: str) -> Bill:
    """Undo the payment of a bill of a car not yet delivered (the bill is unpaid again); what the
    payment consumed (a coupon, points) is given back by the ``service.bill_voided`` hooks."""
    bill = Bill.objects.select_for_update().select_related("repair_order").get(pk=bill.pk)
    require(actor, "pay", bill)
    if bill.status != BillStatus.PAID or bill.repair_order.status == RoStatus.DELIVERED:
        raise _conflict("status", _("Only a paid bill of a car not yet delivered can be voided."))
    bill.status, bill.method, bill.paid_at = BillStatus.UNPAID, "", None
    bill.save(update_fields=["status", "method", "paid_at", "updated_at"])
    bill_hooks.run_void(_settlement(bill, actor))
    audit.record("bill.void", obj=bill, actor=actor, extra={"reason": str(reason)[:200], "total": str(bill.total)})
    return bill
