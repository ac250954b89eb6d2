"""API schemas of the mobility services (ADR 0023). Ids, levels, readings and money may come as
numbers or strings; the services parse and check them (400 naming the field)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from ninja import Schema

from autocrm.core.api import choice

from .models_mobility import BookingStatus, Energy, ErrandKind, ErrandStatus, LoanerStatus, RescueStatus

if TYPE_CHECKING:
    EnergyChoice: TypeAlias = str
    LoanerStatusChoice: TypeAlias = str
    BookingStatusChoice: TypeAlias = str
    ErrandKindChoice: TypeAlias = str
    ErrandStatusChoice: TypeAlias = str
    RescueStatusChoice: TypeAlias = str
else:
    EnergyChoice = choice(Energy)
    LoanerStatusChoice = choice(LoanerStatus)
    BookingStatusChoice = choice(BookingStatus)
    ErrandKindChoice = choice(ErrandKind)
    ErrandStatusChoice = choice(ErrandStatus)
    RescueStatusChoice = choice(RescueStatus)

Number: TypeAlias = str | int | float
Ref: TypeAlias = int | str | None


class LoanerIn(Schema):
    plate: str
    model_name: str
    energy: EnergyChoice = Energy.FUEL
    odometer_km: Number | None = None


class LoanerStatusIn(Schema):
    status: LoanerStatusChoice


class LoanerOut(Schema):
    id: int
    store: int
    plate: str
    model_name: str
    energy: EnergyChoice
    status: LoanerStatusChoice
    odometer_km: int
    level: int


class LoanerPage(Schema):
    items: list[LoanerOut]
    next_cursor: str | None


class LoanerDayOut(Schema):
    day: dt.date
    booking: int | None


class LoanerAvailabilityOut(Schema):
    loaner: LoanerOut
    days: list[LoanerDayOut]


class BookingIn(Schema):
    customer: int
    starts_on: str
    ends_on: str | None = None
    loaner: Ref = None
    appointment: Ref = None
    repair_order: Ref = None


class CheckIn(Schema):
    level: Number | None = None
    odometer_km: Number | None = None
    damage_note: str = ""
    damage_charge: Number | None = None


class BookingOut(Schema):
    id: int
    store: int
    loaner: int
    customer: int
    appointment: int | None
    repair_order: int | None
    advisor: int | None
    starts_on: dt.date
    ends_on: dt.date
    status: BookingStatusChoice
    out_at: dt.datetime | None
    out_km: int | None
    out_level: int | None
    returned_at: dt.datetime | None
    return_km: int | None
    return_level: int | None
    damage_note: str
    day_charge: str
    level_charge: str
    damage_charge: str
    total_charge: str
    billed: bool
    photos: list[int]


class BookingPage(Schema):
    items: list[BookingOut]
    next_cursor: str | None


class ErrandIn(Schema):
    customer: int
    kind: ErrandKindChoice
    vehicle: Ref = None
    driver: Ref = None
    pickup_address: str
    dropoff_address: str
    pickup_at: str
    dropoff_at: str | None = None
    note: str = ""


class ErrandAssignIn(Schema):
    driver: Ref = None


class ErrandAdvanceIn(Schema):
    status: ErrandStatusChoice


class ErrandOut(Schema):
    id: int
    store: int
    kind: ErrandKindChoice
    customer: int
    vehicle: int | None
    driver: int | None
    pickup_address: str
    dropoff_address: str
    pickup_at: dt.datetime
    dropoff_at: dt.datetime | None
    status: ErrandStatusChoice
    note: str
    assigned_at: dt.datetime | None
    started_at: dt.datetime | None
    done_at: dt.datetime | None


class ErrandPage(Schema):
    items: list[ErrandOut]
    next_cursor: str | None


class RescueIn(Schema):
    lat: Number | None = None
    lng: Number | None = None
    address: str = ""
    problem: str = ""
    customer: Ref = None
    vehicle: Ref = None
    technician: Ref = None


class RescueAssignIn(Schema):
    technician: Ref = None


class RescueAdvanceIn(Schema):
    status: RescueStatusChoice


class RescueOut(Schema):
    id: int
    store: int
    customer: int | None
    vehicle: int | None
    technician: int | None
    lat: str | None
    lng: str | None
    address: str
    problem: str
    distance_km: str | None
    inside_area: bool | None
    target_minutes: int | None
    status: RescueStatusChoice
    dispatched_at: dt.datetime
    arrived_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    minutes_taken: int | None
    target_met: bool | None


class RescuePage(Schema):
    items: list[RescueOut]
    next_cursor: str | None
