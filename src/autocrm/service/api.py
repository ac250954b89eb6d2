"""/api/v1/appointment-slots, /appointments, /repair-orders (advance, jobs, parts, canned jobs,
estimate), /canned-jobs, /bills: thin handlers over service.services and service.selectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.permissions import get_in_scope, require_model
from autocrm.customers.models import Customer
from autocrm.vehicles.models import Vehicle

from . import selectors, services
from .choices import RO_ORDER, ServiceType
from .models import Appointment, Bill, CannedJob, EstimateLink, RepairOrder
from .schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentPage,
    BillOut,
    BillPage,
    BillVoidIn,
    CannedApplyIn,
    CannedJobIn,
    CannedJobOut,
    CannedJobPage,
    EstimateAnswerIn,
    EstimateLinkOut,
    EstimateOut,
    JobIn,
    JobOut,
    MarkIn,
    PartLineIn,
    PartLineOut,
    PayIn,
    ProgressIn,
    RepairOrderIn,
    RepairOrderOut,
    RepairOrderPage,
    RoAdvanceIn,
    SlotOut,
)

router = Router(tags=["service"])
PREFIX = ""


def _s(value: Any) -> str:
    return f"{value:.2f}"


def appointment_out(a: Appointment) -> dict[str, Any]:
    return {"id": a.pk, "store": a.store_id, "customer": a.customer_id, "vehicle": a.vehicle_id, "advisor": a.advisor_id,
            "service_type": a.service_type, "starts_at": a.starts_at, "ends_at": a.ends_at, "status": a.status,
            "priority": a.priority, "pickup": a.pickup, "pickup_address": a.pickup_address, "pickup_at": a.pickup_at,
            "note": a.note, "reminded_at": a.reminded_at, "arrived_at": a.arrived_at}  # fmt: skip


def job_out(j: Any) -> dict[str, Any]:
    return {"id": j.pk, "code": j.code, "name": j.name, "hours": _s(j.hours), "rate": _s(j.rate), "amount": _s(j.amount),
            "technician": j.technician_id, "approval": j.approval, "progress": j.progress, "findings": j.findings,
            "is_comeback": j.is_comeback, "photos": [p.pk for p in j.photos.all()]}  # fmt: skip


def part_out(p: Any) -> dict[str, Any]:
    return {"id": p.pk, "job": p.job_id, "part_number": p.part_number, "name": p.name, "quantity": _s(p.quantity),
            "unit_price": _s(p.unit_price), "amount": _s(p.amount), "approval": p.approval}  # fmt: skip


def ro_out(ro: RepairOrder, *, lines: bool = True) -> dict[str, Any]:
    index = RO_ORDER.index(ro.status)
    return {
        "id": ro.pk, "store": ro.store_id, "number": ro.number, "appointment": ro.appointment_id,
        "customer": ro.customer_id, "vehicle": ro.vehicle_id, "advisor": ro.advisor_id, "status": ro.status,
        "status_entered_at": ro.status_entered_at,
        "next_status": RO_ORDER[index + 1] if index + 1 < len(RO_ORDER) else None,
        "odometer_km": ro.odometer_km, "complaint": ro.complaint, "priority": ro.priority,
        "senior_technician": ro.senior_technician, "is_comeback": ro.is_comeback, "recall_codes": ro.recall_codes,
        "received_at": ro.received_at, "closed_at": ro.closed_at,
        "jobs": [job_out(j) for j in ro.jobs.all()] if lines else [],
        "parts": [part_out(p) for p in ro.part_lines.all()] if lines else [],
        "bill": getattr(getattr(ro, "bill", None), "pk", None) if lines else None,
    }  # fmt: skip


def bill_out(b: Bill) -> dict[str, Any]:
    return {"id": b.pk, "store": b.store_id, "number": b.number, "repair_order": b.repair_order_id,
            "labour_total": _s(b.labour_total), "parts_total": _s(b.parts_total),
            "discount_total": _s(b.discount_total), "discounts": b.discounts, "total": _s(b.total),
            "tax_rate": f"{b.tax_rate:.4f}", "tax": _s(b.tax), "status": b.status, "method": b.method,
            "paid_at": b.paid_at}  # fmt: skip


def canned_out(c: CannedJob) -> dict[str, Any]:
    return {"id": c.pk, "code": c.code, "name": c.name, "description": c.description, "lines": c.lines,
            "is_active": c.is_active}  # fmt: skip


def _ro(request: ActorRequest, pk: int, action: str = "view") -> RepairOrder:
    return selectors.repair_order_get(actor=request.actor, pk=pk, action=action)


def _fresh(request: ActorRequest, pk: int) -> dict[str, Any]:
    return ro_out(selectors.repair_order_get(actor=request.actor, pk=pk))


# --- appointments ---------------------------------------------------------------------------------


@router.get("/appointment-slots", response=list[SlotOut])
def appointment_slots(request: ActorRequest, date: str, service_type: str = ServiceType.MAINTENANCE,
                      advisor: int | None = None, priority: bool = False) -> list[Any]:  # fmt: skip
    """The day's slots in the store's opening hours: bays used and free (``free`` for everyone,
    ``free_priority`` counting the places kept for priority customers), and whether
    ``service_type`` fits from each start (``available``)."""
    require_model(request.actor, "view", Appointment)
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise ValidationError(fields={"date": [_("Enter a date, e.g. 2026-12-01.")]}) from None
    if service_type not in ServiceType.values:
        raise ValidationError(fields={"service_type": [_("Choose one of the listed values.")]})
    if advisor is not None and not 1 <= advisor <= 2**62:
        raise ValidationError(fields={"advisor": [_("Enter a whole number.")]})
    store = selectors.current_store(request.actor)
    if store is None:
        raise NotFound()
    return list(selectors.slot_plan(store=store, day=day, service_type=service_type, advisor_id=advisor,
                                    priority=priority))  # fmt: skip


@router.get("/appointments", response=AppointmentPage)
def appointment_list(request: ActorRequest, date: str | None = None, status: str | None = None,
                     customer: int | None = None, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    filters = {"date": date, "status": status, "customer": customer}
    page = selectors.appointment_page(actor=request.actor, filters=filters, limit=limit, cursor=cursor)
    return {"items": [appointment_out(a) for a in page.items], "next_cursor": page.next_cursor}


@router.post("/appointments", response={201: AppointmentOut})
def appointment_book(request: ActorRequest, payload: AppointmentIn) -> Status[dict[str, Any]]:
    """Book a slot; the last place taken by someone else meanwhile → 409 naming ``starts_at``."""
    require_model(request.actor, "add", Appointment)
    customer = get_in_scope(Customer.objects.all(), request.actor, payload.customer)
    vehicle = get_in_scope(Vehicle.objects.all(), request.actor, payload.vehicle) if payload.vehicle else None
    data = payload.dict(exclude={"customer", "vehicle"})
    appointment = services.appointment_book(actor=request.actor, customer=customer, vehicle=vehicle, data=data)
    return Status(201, appointment_out(appointment))


@router.get("/appointments/{int:appointment_id}", response=AppointmentOut)
def appointment_get(request: ActorRequest, appointment_id: int) -> dict[str, Any]:
    return appointment_out(selectors.appointment_get(actor=request.actor, pk=appointment_id))


@router.post("/appointments/{int:appointment_id}/cancel", response=AppointmentOut)
def appointment_cancel(request: ActorRequest, appointment_id: int) -> dict[str, Any]:
    appointment = selectors.appointment_get(actor=request.actor, pk=appointment_id, action="change")
    return appointment_out(services.appointment_cancel(actor=request.actor, appointment=appointment))


@router.post("/appointments/{int:appointment_id}/mark", response=AppointmentOut)
def appointment_mark(request: ActorRequest, appointment_id: int, payload: MarkIn) -> dict[str, Any]:
    """Mark ``arrived`` or ``no_show`` (after the appointment's time)."""
    appointment = selectors.appointment_get(actor=request.actor, pk=appointment_id, action="change")
    return appointment_out(services.appointment_mark(actor=request.actor, appointment=appointment,
                                                     status=payload.status))  # fmt: skip


# --- repair orders --------------------------------------------------------------------------------


@router.get("/repair-orders", response=RepairOrderPage)
def repair_order_list(request: ActorRequest, status: str | None = None, customer: int | None = None,
                      vehicle: int | None = None, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Repair orders of the store, most recently changed first (lines on the record's own URL)."""
    page = selectors.repair_order_page(actor=request.actor, filters={"status": status, "customer": customer,
                                                                     "vehicle": vehicle}, limit=limit, cursor=cursor)  # fmt: skip
    return {"items": [ro_out(ro, lines=False) for ro in page.items], "next_cursor": page.next_cursor}


@router.post("/repair-orders", response={201: RepairOrderOut})
def repair_order_receive(request: ActorRequest, payload: RepairOrderIn) -> Status[dict[str, Any]]:
    """Receive a car with its odometer reading, from an appointment or walk-in (``customer`` and
    ``vehicle``). A reading lower than the last without ``correction_reason`` → 400."""
    actor = request.actor
    require_model(actor, "add", RepairOrder)
    appointment = selectors.appointment_get(actor=actor, pk=payload.appointment, action="change") \
        if payload.appointment else None  # fmt: skip
    customer_id = payload.customer or (appointment.customer_id if appointment else None)
    vehicle_id = payload.vehicle or (appointment.vehicle_id if appointment else None)
    if customer_id is None or vehicle_id is None:
        raise ValidationError(fields={"vehicle" if customer_id else "customer": [_("This field is required.")]})
    customer = get_in_scope(Customer.objects.all(), actor, customer_id)
    vehicle = get_in_scope(Vehicle.objects.all(), actor, vehicle_id)
    data = payload.dict(exclude={"customer", "vehicle", "appointment"})
    ro = services.repair_order_receive(actor=actor, customer=customer, vehicle=vehicle, appointment=appointment,
                                       data=data)  # fmt: skip
    return Status(201, _fresh(request, ro.pk))


@router.get("/repair-orders/{int:ro_id}", response=RepairOrderOut)
def repair_order_get(request: ActorRequest, ro_id: int) -> dict[str, Any]:
    return ro_out(_ro(request, ro_id))


@router.post("/repair-orders/{int:ro_id}/advance", response=RepairOrderOut)
def repair_order_advance(request: ActorRequest, ro_id: int, payload: RoAdvanceIn) -> dict[str, Any]:
    """One step along 预约 → 接车 → 诊断 → 待客户确认 → 维修中 → 质检 → 待结算 → 已交车; out of order
    or a step whose conditions are not met → 409 naming what is missing."""
    services.repair_order_advance(actor=request.actor, repair_order=_ro(request, ro_id, "advance"),
                                  to_status=payload.to_status)  # fmt: skip
    return _fresh(request, ro_id)


@router.post("/repair-orders/{int:ro_id}/jobs", response={201: JobOut})
def job_add(request: ActorRequest, ro_id: int, payload: JobIn) -> Status[dict[str, Any]]:
    job = services.job_add(actor=request.actor, repair_order=_ro(request, ro_id, "change"), data=payload.dict())
    return Status(201, job_out(job))


@router.patch("/repair-orders/{int:ro_id}/jobs/{int:job_id}", response=JobOut)
def job_update(request: ActorRequest, ro_id: int, job_id: int, payload: ProgressIn) -> dict[str, Any]:
    """A technician's ``progress`` and ``findings``; ``technician`` assigns the job (advisors)."""
    ro = _ro(request, ro_id)
    job = services.job_for(actor=request.actor, repair_order=ro, job_id=job_id)
    if payload.technician is not None:
        services.job_assign(actor=request.actor, job=job, technician=payload.technician)
    data = payload.dict(exclude={"technician"}, exclude_none=True)
    if data or payload.technician is None:
        services.job_progress(actor=request.actor, job=job, data=data)
    ro = _ro(request, ro_id)
    return job_out(next(j for j in ro.jobs.all() if j.pk == job_id))


@router.post("/repair-orders/{int:ro_id}/parts", response={201: PartLineOut})
def part_add(request: ActorRequest, ro_id: int, payload: PartLineIn) -> Status[dict[str, Any]]:
    line = services.part_add(actor=request.actor, repair_order=_ro(request, ro_id, "change"), data=payload.dict())
    return Status(201, part_out(line))


@router.post("/repair-orders/{int:ro_id}/canned-jobs", response=RepairOrderOut)
def canned_apply(request: ActorRequest, ro_id: int, payload: CannedApplyIn) -> dict[str, Any]:
    """Fill the repair order from a canned job of the store."""
    ro = _ro(request, ro_id, "change")
    canned = selectors.canned_job_get(actor=request.actor, pk=payload.canned_job)
    services.canned_job_apply(actor=request.actor, repair_order=ro, canned_job=canned, technician=payload.technician)
    return _fresh(request, ro_id)


def _estimate(ro: RepairOrder) -> dict[str, Any]:
    link = EstimateLink.objects.filter(repair_order=ro).order_by("-id").first()  # scoped: the order was read in scope
    lines = [{"key": f"job:{j.pk}", "kind": "labour", "name": j.name, "amount": _s(j.amount), "approval": j.approval}
             for j in ro.jobs.all()] + [{"key": f"part:{p.pk}", "kind": "part", "name": p.name,
                                         "amount": _s(p.amount), "approval": p.approval}
                                        for p in ro.part_lines.all()]  # fmt: skip
    return {"repair_order": ro.pk, "status": ro.status, "lines": lines,
            "link_expires_at": link.expires_at if link else None, "link_used_at": link.used_at if link else None}  # fmt: skip


@router.get("/repair-orders/{int:ro_id}/estimate", response=EstimateOut)
def estimate_get(request: ActorRequest, ro_id: int) -> dict[str, Any]:
    """The estimate's lines with the owner's answers (``key`` as the answers name them)."""
    return _estimate(_ro(request, ro_id))


@router.post("/repair-orders/{int:ro_id}/estimate", response=EstimateOut)
def estimate_record(request: ActorRequest, ro_id: int, payload: EstimateAnswerIn) -> dict[str, Any]:
    """Record the owner's answers given in person or by phone; every waiting line is answered."""
    services.estimate_record(actor=request.actor, repair_order=_ro(request, ro_id, "change"), answers=payload.answers)
    return _estimate(_ro(request, ro_id))


@router.post("/repair-orders/{int:ro_id}/estimate-link", response={201: EstimateLinkOut})
def estimate_send(request: ActorRequest, ro_id: int) -> Status[dict[str, Any]]:
    """Send the owner the signed, expiring estimate link (SMS or WeChat through the outbox)."""
    link, url = services.estimate_send(actor=request.actor, repair_order=_ro(request, ro_id, "change"))
    return Status(201, {"link": url, "expires_at": link.expires_at})


# --- canned jobs and bills ----------------------------------------------------------------------


@router.get("/canned-jobs", response=CannedJobPage)
def canned_job_list(request: ActorRequest, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
    page = selectors.canned_job_page(actor=request.actor, limit=limit, cursor=cursor)
    return {"items": [canned_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/canned-jobs", response={201: CannedJobOut})
def canned_job_create(request: ActorRequest, payload: CannedJobIn) -> Status[dict[str, Any]]:
    """A package of ``labour`` (code, name, hours) and ``part`` (part_number, name, quantity,
    unit_price) lines."""
    return Status(201, canned_out(services.canned_job_create(actor=request.actor, data=payload.dict())))


@router.get("/canned-jobs/{int:canned_id}", response=CannedJobOut)
def canned_job_get(request: ActorRequest, canned_id: int) -> dict[str, Any]:
    return canned_out(selectors.canned_job_get(actor=request.actor, pk=canned_id))


@router.get("/bills", response=BillPage)
def bill_list(request: ActorRequest, status: str | None = None, limit: int | None = None,
              cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = selectors.bill_page(actor=request.actor, filters={"status": status}, limit=limit, cursor=cursor)
    return {"items": [bill_out(b) for b in page.items], "next_cursor": page.next_cursor}


@router.get("/bills/{int:bill_id}", response=BillOut)
def bill_get(request: ActorRequest, bill_id: int) -> dict[str, Any]:
    return bill_out(selectors.bill_get(actor=request.actor, pk=bill_id))


@router.post("/bills/{int:bill_id}/pay", response=BillOut)
def bill_pay(request: ActorRequest, bill_id: int, payload: PayIn) -> dict[str, Any]:
    bill = selectors.bill_get(actor=request.actor, pk=bill_id, action="pay")
    return bill_out(services.bill_pay(actor=request.actor, bill=bill, method=payload.method))


@router.post("/bills/{int:bill_id}/void", response=BillOut)
def bill_void(request: ActorRequest, bill_id: int, payload: BillVoidIn) -> dict[str, Any]:
    """Undo a payment (the car not yet delivered): loyalty gives back the coupon and points."""
    bill = selectors.bill_get(actor=request.actor, pk=bill_id, action="pay")
    return bill_out(services.bill_void(actor=request.actor, bill=bill, reason=payload.reason))


from . import api_plans  # noqa: E402, F401  (ADR 0025: plans, accessories, insurer claims on this router)
