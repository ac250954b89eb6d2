"""API schemas of after-sales. Money and hours travel as decimal strings ("180.00", "1.5"); the
services parse and check every amount (a 400 naming the field), so the schemas take strings or
numbers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeAlias

from ninja import Field, Schema

from autocrm.core.api import choice

from .choices import AppointmentStatus, Approval, PaymentMethod, Progress, RoStatus, ServiceType

if TYPE_CHECKING:
    TypeChoice: TypeAlias = str
    ApptStatusChoice: TypeAlias = str
    RoStatusChoice: TypeAlias = str
    ProgressChoice: TypeAlias = str
    MethodChoice: TypeAlias = str
    ApprovalChoice: TypeAlias = str
else:
    TypeChoice = choice(ServiceType)
    ApptStatusChoice = choice(AppointmentStatus)
    RoStatusChoice = choice(RoStatus)
    ProgressChoice = choice(Progress)
    MethodChoice = choice(PaymentMethod)
    ApprovalChoice = choice(Approval)

Number: TypeAlias = str | int | float


class SlotOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    used: int
    bays: int
    free: int
    free_priority: int
    available: bool


class AppointmentIn(Schema):
    customer: int
    vehicle: int | None = None
    service_type: TypeChoice = ServiceType.MAINTENANCE
    starts_at: str
    advisor: int | None = None
    priority: bool = False
    pickup: bool = False
    pickup_address: str = ""
    pickup_at: str | None = None
    note: str = ""


class AppointmentOut(Schema):
    id: int
    store: int
    customer: int
    vehicle: int | None
    advisor: int | None
    service_type: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    priority: bool
    pickup: bool
    pickup_address: str
    pickup_at: dt.datetime | None
    note: str
    reminded_at: dt.datetime | None
    arrived_at: dt.datetime | None


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    next_cursor: str | None


class MarkIn(Schema):
    status: ApptStatusChoice


class JobOut(Schema):
    id: int
    code: str
    name: str
    hours: str
    rate: str
    amount: str
    technician: int | None
    approval: str
    progress: str
    findings: str
    is_comeback: bool
    photos: list[int]


class PartLineOut(Schema):
    id: int
    job: int | None
    part_number: str
    name: str
    quantity: str
    unit_price: str
    amount: str
    approval: str


class RepairOrderIn(Schema):
    customer: int | None = None
    vehicle: int | None = None
    appointment: int | None = None
    odometer_km: int | str
    correction_reason: str = ""
    complaint: str = ""
    priority: bool = False
    senior_technician: bool = False
    promised_at: str | None = None
    recall_codes: list[str] = []


class RepairOrderOut(Schema):
    id: int
    store: int
    number: str
    appointment: int | None
    customer: int
    vehicle: int
    advisor: int | None
    status: str
    status_entered_at: dt.datetime
    next_status: str | None
    odometer_km: int | None
    complaint: str
    priority: bool
    senior_technician: bool
    is_comeback: bool
    recall_codes: list[str]
    received_at: dt.datetime
    closed_at: dt.datetime | None
    jobs: list[JobOut]
    parts: list[PartLineOut]
    bill: int | None


class RepairOrderPage(Schema):
    items: list[RepairOrderOut]
    next_cursor: str | None


class RoAdvanceIn(Schema):
    to_status: RoStatusChoice | None = None


class JobIn(Schema):
    code: str
    name: str
    hours: Number
    rate: Number | None = None
    technician: int | None = None


class PartLineIn(Schema):
    """A part from the store's stock (``part``: number, name and price by default, reserved) or
    a free line (``name``, ``unit_price``)."""

    part: int | None = None
    part_number: str = ""
    name: str = ""
    quantity: Number
    unit_price: Number | None = None
    job: int | None = None


class ProgressIn(Schema):
    progress: ProgressChoice | None = None
    findings: str | None = None
    technician: int | None = None


class CannedApplyIn(Schema):
    canned_job: int
    technician: int | None = None


class EstimateOut(Schema):
    repair_order: int
    status: str
    lines: list[dict[str, Any]]
    link_expires_at: dt.datetime | None
    link_used_at: dt.datetime | None


class EstimateAnswerIn(Schema):
    """The owner's answers the advisor records: ``{"job:12": "approved", "part:7": "declined"}``."""

    answers: dict[str, str]


class EstimateLinkOut(Schema):
    link: str
    expires_at: dt.datetime


class CannedJobIn(Schema):
    code: str
    name: str
    description: str = ""
    lines: list[dict[str, Any]]


class CannedJobOut(Schema):
    id: int
    code: str
    name: str
    description: str
    lines: list[dict[str, Any]]
    is_active: bool


class CannedJobPage(Schema):
    items: list[CannedJobOut]
    next_cursor: str | None


class BillOut(Schema):
    id: int
    store: int
    number: str
    repair_order: int
    labour_total: str
    parts_total: str
    discount_total: str
    discounts: list[dict[str, Any]]
    total: str
    tax_rate: str
    tax: str
    status: str
    method: str
    paid_at: dt.datetime | None


class BillPage(Schema):
    items: list[BillOut]
    next_cursor: str | None


class PayIn(Schema):
    method: MethodChoice


class BillVoidIn(Schema):
    reason: str = Field("", max_length=200)
