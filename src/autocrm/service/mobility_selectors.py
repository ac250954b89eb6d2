"""Reading mobility records in the actor's scope (ADR 0023): the fleet, loaner bookings, errands
(a driver reads theirs), the rescue board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model

from .models_mobility import (
    BookingStatus,
    Errand,
    ErrandStatus,
    Loaner,
    LoanerBooking,
    LoanerStatus,
    Rescue,
    RescueStatus,
)


def _choice(value: Any, choices: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices.values:
        raise ValidationError(fields={name: [_("Choose one of the listed values.")]})
    return str(value)


def _day(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationError(fields={name: [_("Enter a date, e.g. 2026-12-01.")]}) from None


def loaner_list(*, actor: Actor, status: Any = None) -> QuerySet[Loaner]:
    require_model(actor, "view", Loaner)
    qs: QuerySet[Loaner] = Loaner.objects.for_actor(actor, "view")
    found = _choice(status, LoanerStatus, "status")
    return qs.filter(status=found) if found else qs


def loaner_page(*, actor: Actor, status: Any = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(loaner_list(actor=actor, status=status), ordering=("plate", "id"), limit=limit, cursor=cursor)


def loaner_get(*, actor: Actor, pk: Any, action: str = "view") -> Loaner:
    return get_in_scope(Loaner.objects.all(), actor, pk, action)


def booking_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[LoanerBooking]:
    filters = filters or {}
    require_model(actor, "view", LoanerBooking)
    qs: QuerySet[LoanerBooking] = LoanerBooking.objects.for_actor(actor, "view").select_related("loaner", "customer")
    status = _choice(filters.get("status"), BookingStatus, "status")
    if status:
        qs = qs.filter(status=status)
    day = _day(filters.get("date"), "date")
    if day:
        qs = qs.filter(starts_on__lte=day, ends_on__gte=day)
    return qs


def booking_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None,
                 cursor: Any = None) -> Page:  # fmt: skip
    return paginate(booking_list(actor=actor, filters=filters), ordering=("-starts_on", "-id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def booking_get(*, actor: Actor, pk: Any, action: str = "view") -> LoanerBooking:
    return get_in_scope(LoanerBooking.objects.select_related("loaner", "customer", "repair_order"), actor, pk, action)


def errand_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[Errand]:
    """Errands in scope (a driver's own), open first by pick-up time."""
    filters = filters or {}
    require_model(actor, "view", Errand)
    qs: QuerySet[Errand] = Errand.objects.for_actor(actor, "view").select_related("customer", "vehicle", "driver")
    status = _choice(filters.get("status"), ErrandStatus, "status")
    if status:
        qs = qs.filter(status=status)
    day = _day(filters.get("date"), "date")
    if day:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        qs = qs.filter(pickup_at__gte=start, pickup_at__lt=start + dt.timedelta(days=1))
    return qs


def errand_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None,
                cursor: Any = None) -> Page:  # fmt: skip
    return paginate(errand_list(actor=actor, filters=filters), ordering=("pickup_at", "id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def errand_get(*, actor: Actor, pk: Any, action: str = "view") -> Errand:
    return get_in_scope(Errand.objects.select_related("customer", "vehicle", "driver"), actor, pk, action)


def rescue_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[Rescue]:
    filters = filters or {}
    require_model(actor, "view", Rescue)
    qs: QuerySet[Rescue] = Rescue.objects.for_actor(actor, "view").select_related("customer", "vehicle", "technician")
    status = _choice(filters.get("status"), RescueStatus, "status")
    if status:
        qs = qs.filter(status=status)
    if filters.get("open"):
        qs = qs.exclude(status=RescueStatus.CLOSED)
    return qs


def rescue_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None,
                cursor: Any = None) -> Page:  # fmt: skip
    return paginate(rescue_list(actor=actor, filters=filters), ordering=("-dispatched_at", "-id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def rescue_get(*, actor: Actor, pk: Any, action: str = "view") -> Rescue:
    return get_in_scope(Rescue.objects.select_related("customer", "vehicle", "technician"), actor, pk, action)


def minutes_waiting(rescue: Rescue, now: dt.datetime | None = None) -> int:
    """Minutes since dispatch (to arrival once arrived)."""
    end = rescue.arrived_at or now or timezone.now()
    return max(0, int((end - rescue.dispatched_at).total_seconds() // 60))


def drivers(store_id: int | None) -> list[Any]:
    """The store's colleagues who may drive an errand or a rescue (technicians and the service
    manager), for the assignment lists."""
    from autocrm.accounts.models import Membership

    from .mobility import DRIVERS

    if not store_id:
        return []
    rows = (Membership.objects.filter(store_id=store_id, role__in=DRIVERS, is_active=True)
            .select_related("user").order_by("user__username"))  # fmt: skip
    seen: dict[int, Any] = {}
    for m in rows:
        seen.setdefault(m.user_id, m.user)
    return list(seen.values())
