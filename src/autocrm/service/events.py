"""Events the service app emits (``core.events``), each after its transaction commits.

``service.repair_order_closed`` is the one others wait for: maintenance moves the vehicle's
next due date and marks recall campaigns done, care plans the follow-up call, analytics counts
the visit. Subscribe by the name; do not import this app from a sibling."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class AppointmentBooked:
    appointment_id: int
    customer_id: int
    vehicle_id: int | None
    starts_at: dt.datetime
    priority: bool


@dataclass(frozen=True)
class RepairOrderAdvanced:
    repair_order_id: int
    from_status: str
    to_status: str


@dataclass(frozen=True)
class RepairOrderClosed:
    repair_order_id: int
    vehicle_id: int
    customer_id: int
    odometer_km: int | None
    closed_at: dt.datetime
    job_codes: tuple[str, ...]
    recall_codes: tuple[str, ...]
    is_comeback: bool


@dataclass(frozen=True)
class EstimateAnswered:
    repair_order_id: int
    approved: int
    declined: int


APPOINTMENT_BOOKED = define_event(
    "service.appointment_booked", AppointmentBooked, _("A service appointment was booked.")
)
REPAIR_ORDER_ADVANCED = define_event(
    "service.repair_order_advanced", RepairOrderAdvanced, _("A repair order moved to its next status.")
)
REPAIR_ORDER_CLOSED = define_event(
    "service.repair_order_closed", RepairOrderClosed, _("A repaired car was delivered to its owner.")
)
ESTIMATE_ANSWERED = define_event(
    "service.estimate_answered", EstimateAnswered, _("The owner approved or declined the estimate's lines.")
)
