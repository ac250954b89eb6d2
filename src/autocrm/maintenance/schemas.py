"""API schemas of the maintenance app (API.md): due list, one vehicle's prediction, recalls."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class DueItemOut(Schema):
    item: str
    label: str
    due_on: dt.date
    by: str
    due_km: int | None
    last_done_on: dt.date | None


class RateOut(Schema):
    km_per_day: float
    km_per_year: int
    method: str
    readings_used: int
    readings_on_file: int
    explanation: str


class RecallBrief(Schema):
    id: int
    code: str
    title: str
    status: str


class VehicleMaintenanceOut(Schema):
    vehicle: int
    next_due_on: dt.date | None
    due_items: list[DueItemOut]
    all_items: list[DueItemOut]
    estimated_km: int | None
    rate: RateOut
    open_recalls: list[RecallBrief]


class DueRowOut(Schema):
    vehicle: int
    store: int
    plate: str
    vin: str
    model: str
    owner: str
    owner_mobile: str | None
    next_due_on: dt.date | None
    items: list[str]
    due_km: int | None
    estimated_km: int | None
    rate_used: float
    rate_method: str
    computed_at: dt.datetime


class DuePage(Schema):
    items: list[DueRowOut]
    next_cursor: str | None


class RecallOut(Schema):
    id: int
    code: str
    title: str
    description: str
    store: int
    vin_count: int
    affected: int
    completed: int
    notified: int
    completion_rate: float | None
    created_at: dt.datetime


class RecallImportOut(Schema):
    dry_run: bool
    code: str
    vins: int
    invalid_rows: list[dict[str, Any]]
    repeated: int
    matched_here: int
    matched_other_stores: int
    unmatched: int
    campaign: int | None


class RecallVehicleOut(Schema):
    id: int
    vehicle: int
    plate: str
    vin: str
    owner: str
    owner_mobile: str | None
    status: str
    notified_at: dt.datetime | None
    completed_at: dt.datetime | None
    completed_ref: str


class RecallCompleteIn(Schema):
    reference: Any = None


class NotifiedOut(Schema):
    queued: int


# --- the plan editor ---------------------------------------------------------------------------

Number = str | int | float


class PlanItemOut(Schema):
    item: str
    first_km: int | None
    first_months: int | None
    interval_km: int | None
    interval_months: int | None
    season_month: int | None
    fuel_types: list[str]
    leads_visit: bool


class PlanOut(Schema):
    id: int
    name: str
    store: int | None
    series: int | None
    series_name: str
    editable: bool
    items: list[PlanItemOut]


class PlanOverrideIn(Schema):
    series: Number | None = None
    name: str | None = None


class PlanItemIn(Schema):
    first_km: Number | None = None
    first_months: Number | None = None
    interval_km: Number | None = None
    interval_months: Number | None = None
    season_month: Number | None = None
    fuel_types: list[str] | str | None = None
    leads_visit: bool | str | None = None
