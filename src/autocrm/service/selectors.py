"""Reads of after-sales, always from the actor's scope (``for_actor``); the slot plan reads the
store's rules and the day's bookings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import business_hours
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import can, get_in_scope, require_model

from .choices import (
    DURATION_MINUTES,
    HOLDING,
    IN_SHOP,
    RO_ORDER,
    AppointmentStatus,
    Approval,
    BillStatus,
    DeclinedStatus,
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
    ServiceSettings,
)

MAX_ID = 2**63 - 1


def _id(value: Any, field: str) -> int:
    try:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(fields={field: [_("Enter a whole number.")]}) from None
    return number


def settings_for(store_id: int) -> ServiceSettings:
    """The store's workshop rules; an unsaved row with the defaults when never set."""
    found = ServiceSettings.objects.filter(store_id=store_id).first()  # scoped: the caller's store, rules not data
    return found if found is not None else ServiceSettings(store_id=store_id)


def duration_of(settings: ServiceSettings, service_type: str) -> int:
    custom = (settings.durations or {}).get(service_type)
    try:
        minutes = int(custom) if custom is not None else DURATION_MINUTES[service_type]
    except (TypeError, ValueError, KeyError):
        minutes = DURATION_MINUTES.get(service_type, 60)
    return max(1, minutes)


def current_store(actor: Actor) -> Any:
    """The actor's current store (its opening hours), or None."""
    from autocrm.tenancy.models import Store

    return Store.objects.filter(pk=actor.store_id).first() if actor.store_id else None


# --- slots ----------------------------------------------------------------------------------------


def slot_starts(*, opening_hours: str, day: dt.date, slot_minutes: int) -> list[dt.datetime]:
    """The slot starts of a day in the store's opening hours (each slot fits in its range)."""
    tz = timezone.get_current_timezone()
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    starts = []
    step = max(5, int(slot_minutes))
    for begin, end in business_hours.parse_opening_hours(opening_hours):
        minute = begin
        while minute + step <= end:
            starts.append(midnight + dt.timedelta(minutes=minute))
            minute += step
    return starts


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    used: int  # bookings holding a bay in this slot
    bays: int
    free: int  # places a customer without priority may take
    free_priority: int  # places a priority customer may take
    advisor_used: int  # bookings of the advisor asked for starting in this slot
    available: bool  # the asked service type fits from here (all its slots, the advisor)


def day_occupancy(
    *, store_id: int, day: dt.date, slot_minutes: int
) -> tuple[dict[dt.datetime, int], dict[dt.datetime, int], list[Appointment]]:
    """Bookings holding bays per slot start (all, and those without priority), and the holding
    appointments of the day."""
    rows = list(
        Appointment.objects.filter(store_id=store_id, day=day, status__in=HOLDING).only(  # scoped: capacity, not data
            "id", "starts_at", "slots", "advisor_id", "priority"
        )
    )
    used: dict[dt.datetime, int] = {}
    normal: dict[dt.datetime, int] = {}
    step = dt.timedelta(minutes=slot_minutes)
    for row in rows:
        for k in range(row.slots):
            at = row.starts_at + k * step
            used[at] = used.get(at, 0) + 1
            if not row.priority:
                normal[at] = normal.get(at, 0) + 1
    return used, normal, rows


def slot_plan(
    *, store: Any, day: dt.date, service_type: str = ServiceType.MAINTENANCE, advisor_id: int | None = None,
    priority: bool = False,
) -> list[Slot]:  # fmt: skip
    """The day's slots with what is taken and whether ``service_type`` fits from each start:
    every slot it spans has a bay free (priority customers may use the places kept for them),
    and the advisor (when named) receives fewer customers in its first slot than the store's
    per-advisor capacity."""
    rules = settings_for(store.pk)
    step = rules.slot_minutes
    starts = slot_starts(opening_hours=store.opening_hours, day=day, slot_minutes=step)
    used, normal, rows = day_occupancy(store_id=store.pk, day=day, slot_minutes=step)
    advisor_starts: dict[dt.datetime, int] = {}
    for row in rows:
        if advisor_id is not None and row.advisor_id == advisor_id:
            advisor_starts[row.starts_at] = advisor_starts.get(row.starts_at, 0) + 1
    needed = -(-duration_of(rules, service_type) // step)
    start_set = set(starts)
    delta = dt.timedelta(minutes=step)
    reserve = min(rules.priority_reserve, rules.bays)
    out = []

    def room(at: dt.datetime) -> tuple[int, int]:
        """Places left for a customer without priority, and for a priority customer: the places
        kept for priority are never taken by the others."""
        total_left = rules.bays - used.get(at, 0)
        return max(0, min(total_left, rules.bays - reserve - normal.get(at, 0))), max(0, total_left)

    for at in starts:
        free, free_priority = room(at)
        span = [at + k * delta for k in range(needed)]
        fits = (
            all(s in start_set and room(s)[1 if priority else 0] > 0 for s in span)
            and advisor_starts.get(at, 0) < rules.advisor_capacity
        )
        out.append(Slot(at, at + delta, used.get(at, 0), rules.bays, free, free_priority, advisor_starts.get(at, 0),
                        fits))  # fmt: skip
    return out


# --- appointments -----------------------------------------------------------------------------


def appointment_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[Appointment]:
    filters = filters or {}
    require_model(actor, "view", Appointment)
    qs: QuerySet[Appointment] = Appointment.objects.for_actor(actor, "view").select_related(
        "customer", "vehicle", "advisor"
    )
    if filters.get("date"):
        try:
            day = dt.date.fromisoformat(str(filters["date"]))
        except ValueError:
            raise ValidationError(fields={"date": [_("Enter a date, e.g. 2026-12-01.")]}) from None
        qs = qs.filter(day=day)
    if filters.get("status"):
        if filters["status"] not in AppointmentStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=filters["status"])
    if filters.get("customer"):
        qs = qs.filter(customer_id=_id(filters["customer"], "customer"))
    if filters.get("advisor"):
        qs = qs.filter(advisor_id=_id(filters["advisor"], "advisor"))
    return qs


def appointment_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None,
                     cursor: Any = None) -> Page:  # fmt: skip
    return paginate(appointment_list(actor=actor, filters=filters), ordering=("starts_at", "id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def appointment_get(*, actor: Actor, pk: Any, action: str = "view") -> Appointment:
    return get_in_scope(Appointment.objects.select_related("customer", "vehicle", "advisor"), actor, pk, action)


# --- repair orders ----------------------------------------------------------------------------


def repair_order_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[RepairOrder]:
    filters = filters or {}
    require_model(actor, "view", RepairOrder)
    qs: QuerySet[RepairOrder] = RepairOrder.objects.for_actor(actor, "view").select_related(
        "customer", "vehicle", "advisor"
    )
    if filters.get("status"):
        if filters["status"] not in RO_ORDER:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=filters["status"])
    if filters.get("customer"):
        qs = qs.filter(customer_id=_id(filters["customer"], "customer"))
    if filters.get("vehicle"):
        qs = qs.filter(vehicle_id=_id(filters["vehicle"], "vehicle"))
    if filters.get("technician"):
        qs = qs.filter(jobs__technician_id=_id(filters["technician"], "technician")).distinct()
    return qs


def repair_order_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None,
                      cursor: Any = None) -> Page:  # fmt: skip
    return paginate(repair_order_list(actor=actor, filters=filters), ordering=("-updated_at", "-id"), limit=limit,
                    cursor=cursor)  # fmt: skip


# What the repair-order list page shows of a row (number, status, flags, times, the customer's name
# and the car's plate or VIN): a page of 50 read with a fifth of the columns and no advisor row.
_LIST_PAGE_COLUMNS = ("id", "store_id", "number", "status", "priority", "is_comeback", "received_at", "updated_at",
                      "customer", "customer__name", "vehicle", "vehicle__plate", "vehicle__vin")  # fmt: skip


def repair_order_list_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None,
                           cursor: Any = None) -> Page:  # fmt: skip
    """The list page's rows: :func:`repair_order_page` with only the columns the page shows."""
    qs = repair_order_list(actor=actor, filters=filters).select_related(None).select_related("customer", "vehicle")
    return paginate(qs.only(*_LIST_PAGE_COLUMNS), ordering=("-updated_at", "-id"), limit=limit, cursor=cursor)


def with_lines(qs: QuerySet[RepairOrder]) -> QuerySet[RepairOrder]:
    """A repair order with its jobs (technician, photos), part lines and bill: a fixed number of
    queries however many lines it has."""
    return qs.select_related("customer", "vehicle", "advisor", "appointment").prefetch_related(
        Prefetch("jobs", queryset=Job.objects.select_related("technician").order_by("id")),
        Prefetch("jobs__photos", queryset=JobPhoto.objects.order_by("id")),
        Prefetch("part_lines", queryset=PartLine.objects.order_by("id")),
    )


def repair_order_get(*, actor: Actor, pk: Any, action: str = "view") -> RepairOrder:
    return get_in_scope(with_lines(RepairOrder.objects.all()), actor, pk, action)


def bill_of(repair_order: RepairOrder) -> Bill | None:
    return Bill.objects.filter(repair_order=repair_order).first()  # scoped: the repair order was read in scope


def repair_order_of_bill(bill: Bill) -> RepairOrder:
    """The repair order of a bill read in scope, with its lines (a finance specialist reads bills,
    not the workshop's orders)."""
    return with_lines(RepairOrder.objects.filter(pk=bill.repair_order_id)).get()  # scoped: the bill was read in scope


def bill_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[Bill]:
    filters = filters or {}
    require_model(actor, "view", Bill)
    qs: QuerySet[Bill] = Bill.objects.for_actor(actor, "view").select_related("repair_order")
    if filters.get("status"):
        if filters["status"] not in BillStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=filters["status"])
    return qs


def bill_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(bill_list(actor=actor, filters=filters), ordering=("-created_at", "-id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def bill_get(*, actor: Actor, pk: Any, action: str = "view") -> Bill:
    return get_in_scope(Bill.objects.select_related("repair_order", "repair_order__customer",
                                                    "repair_order__vehicle"), actor, pk, action)  # fmt: skip


def canned_job_list(*, actor: Actor) -> QuerySet[CannedJob]:
    require_model(actor, "view", CannedJob)
    return CannedJob.objects.for_actor(actor, "view")


def canned_job_page(*, actor: Actor, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(canned_job_list(actor=actor), ordering=("code", "id"), limit=limit, cursor=cursor)


def canned_job_get(*, actor: Actor, pk: Any, action: str = "view") -> CannedJob:
    return get_in_scope(CannedJob.objects.all(), actor, pk, action)


def estimate_link_find(*, link_id: int) -> EstimateLink | None:
    """The link a signed token names (the signature was checked: the token is the permission)."""
    return (
        EstimateLink.objects.select_related(
            "repair_order", "repair_order__customer", "repair_order__vehicle"
        )  # scoped: signed link
        .filter(pk=link_id)
        .first()
    )


def declined_for_customer(*, actor: Actor, customer_id: int) -> list[DeclinedWork]:
    if not can(actor, "view", RepairOrder):
        return []
    return list(
        DeclinedWork.objects.for_actor(actor, "view")
        .filter(customer_id=customer_id, status=DeclinedStatus.OPEN)
        .select_related("vehicle")
        .order_by("-created_at")[:20]
    )


# --- home ---------------------------------------------------------------------------------------


def advisor_board(*, actor: Actor, today: dt.date | None = None) -> dict[str, Any]:
    """The advisor's day: today's appointments (with arrivals), cars in the shop by status with
    the time in each, estimates waiting for the owner, cars ready for pick-up, open declined work."""
    today = today or timezone.localdate()
    now = timezone.now()
    appointments = list(
        Appointment.objects.for_actor(actor, "view").filter(day=today).exclude(status=AppointmentStatus.CANCELLED)
        .select_related("customer", "vehicle").order_by("starts_at")[:30]
    )  # fmt: skip
    in_shop = list(
        RepairOrder.objects.for_actor(actor, "view").filter(status__in=IN_SHOP)
        .select_related("customer", "vehicle").order_by("status_entered_at")[:60]
    )  # fmt: skip
    labels = dict(RoStatus.choices)
    by_status: dict[str, list[dict[str, Any]]] = {s: [] for s in IN_SHOP}
    for ro in in_shop:
        by_status[ro.status].append({"ro": ro, "minutes": int((now - ro.status_entered_at).total_seconds() // 60)})
    declined = list(
        DeclinedWork.objects.for_actor(actor, "view").filter(status=DeclinedStatus.OPEN, advisor_id=actor.user_id)
        .select_related("customer", "vehicle").order_by("-created_at")[:10]
    )  # fmt: skip
    return {
        "appointments": appointments,
        "arrived": sum(1 for a in appointments if a.status == AppointmentStatus.ARRIVED),
        "columns": [{"status": s, "label": labels[s], "rows": by_status[s]} for s in IN_SHOP],
        "waiting_owner": by_status[RoStatus.AWAITING_APPROVAL],
        "ready": by_status[RoStatus.AWAITING_PAYMENT],
        "declined": declined,
    }


def technician_jobs(*, actor: Actor) -> list[Job]:
    """The technician's open jobs on repair orders in the shop."""
    if not can(actor, "view", RepairOrder):
        return []
    return list(
        Job.objects.for_actor(actor, "view")
        .filter(technician_id=actor.user_id, repair_order__status__in=IN_SHOP)
        .exclude(progress="done")
        .exclude(approval=Approval.DECLINED)
        .select_related("repair_order", "repair_order__vehicle")
        .order_by("repair_order__priority", "id")[:30]
    )


def throughput(*, actor: Actor, today: dt.date | None = None) -> dict[str, Any]:
    """The store's day: cars received, delivered, in the shop; billed and paid totals."""
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=tz)
    end = start + dt.timedelta(days=1)
    ros = RepairOrder.objects.for_actor(actor, "view")
    figures = ros.aggregate(
        received=Count("id", filter=Q(received_at__gte=start, received_at__lt=end)),
        delivered=Count("id", filter=Q(closed_at__gte=start, closed_at__lt=end)),
        in_shop=Count("id", filter=Q(status__in=IN_SHOP)),
        comebacks=Count("id", filter=Q(received_at__gte=start, received_at__lt=end, is_comeback=True)),
    )
    return figures
