"""API schemas of sales. Money travels as decimal strings in yuan ("1280.00"); the services parse
and check every amount (a 400 naming the field), so the schemas take strings or whole numbers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeAlias

from ninja import Schema

from autocrm.core.api import choice

from .choices import DocumentKind, PurchaseType, Purpose, Sensitivity, Stage, StockStatus, TestDriveStatus

if TYPE_CHECKING:
    StageChoice: TypeAlias = str
    PurchaseChoice: TypeAlias = str
    SensitivityChoice: TypeAlias = str
    PurposeChoice: TypeAlias = str
    StockStatusChoice: TypeAlias = str
    DriveStatusChoice: TypeAlias = str
    DocumentChoice: TypeAlias = str
else:
    StageChoice = choice(Stage)
    PurchaseChoice = choice(PurchaseType, blank=True)
    SensitivityChoice = choice(Sensitivity, blank=True)
    PurposeChoice = choice(Purpose, blank=True)
    StockStatusChoice = choice(StockStatus)
    DriveStatusChoice = choice(TestDriveStatus)
    DocumentChoice = choice(DocumentKind)

Money: TypeAlias = str | int


class DealIn(Schema):
    """A new deal, from a lead and/or a customer of the store."""

    lead: int | None = None
    customer: int | None = None
    stock_vehicle: int | None = None
    name: str | None = None
    model_interest: str | None = None
    series: int | None = None
    purchase_type: PurchaseChoice | None = None
    consultant: int | None = None
    external_id: str | None = None


class DealPatch(Schema):
    stock_vehicle: int | None = None
    agreed_price: Money | None = None
    model_interest: str | None = None
    purchase_type: PurchaseChoice | None = None
    planned_delivery: str | None = None


class DealPointsIn(Schema):
    """``points``: the customer's points toward the car (0 takes them off)."""

    points: int


class DealCancelIn(Schema):
    reason: str


class DealLineOut(Schema):
    code: str  # e.g. "points:5000"
    label: str
    amount: str


class AdvanceIn(Schema):
    """``to_stage``: the stage to move to (default: the next one)."""

    to_stage: StageChoice | None = None


class FinanceIn(Schema):
    insurer: str = ""


class DocumentOut(Schema):
    id: int
    kind: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime


class DealOut(Schema):
    id: int
    store: int
    lead: int | None
    customer: int | None
    consultant: int | None
    name: str
    stage: str
    status: str
    stage_entered_at: dt.datetime
    model_interest: str
    series: int | None
    stock_vehicle: int | None
    vin: str | None
    vehicle: int | None
    agreed_price: str | None
    gross_profit: str | None  # null when hidden from the role (no cost access) or unknown
    purchase_type: str
    finance_approved_at: dt.datetime | None
    insurer: str
    delivered_at: dt.datetime | None
    planned_delivery: dt.date | None = None
    external_id: str
    next_stage: str | None
    next_missing: dict[str, list[str]]  # what the next stage still needs (empty: it may move)
    documents: list[DocumentOut]
    # the deal's own lines under its price (points toward the car) and what is left to pay: on a
    # single deal's answers, not in lists
    lines: list[DealLineOut] = []
    total_due: str | None = None


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class NeedsIn(Schema):
    budget_min: Money | None = None
    budget_max: Money | None = None
    purpose: PurposeChoice | None = None
    body_preference: str | None = None
    fuel_preference: str | None = None
    options_wanted: list[str] | str | None = None
    brands_considered: list[str] | str | None = None
    purchase_type: PurchaseChoice | None = None
    price_sensitivity: SensitivityChoice | None = None


class NeedsOut(Schema):
    deal: int
    budget_min: str | None
    budget_max: str | None
    purpose: str
    body_preference: str
    fuel_preference: str
    options_wanted: list[str]
    brands_considered: list[str]
    purchase_type: str
    price_sensitivity: str


class TradeInIn(Schema):
    plate: str | None = None
    vin: str | None = None
    model_name: str
    mileage_km: int | None = None
    condition: str | None = None
    offered_price: Money
    photos: list[int] = []  # documents of the deal of kind trade_in_photo


class TradeInOut(Schema):
    id: int
    deal: int
    plate: str
    vin: str
    model_name: str
    mileage_km: int | None
    condition: str
    offered_price: str
    photos: list[int]


class TestDriveIn(Schema):
    deal: int
    vehicle: int  # a stock (demo) car of the store
    starts_at: dt.datetime
    ends_at: dt.datetime
    route: str | None = None
    licence_number: str
    licence_photo: int | None = None  # a document of the deal of kind licence_photo
    feedback: str | None = None
    competitor: str | None = None
    price_sensitivity: SensitivityChoice | None = None


class TestDrivePatch(Schema):
    status: DriveStatusChoice | None = None
    feedback: str | None = None
    competitor: str | None = None
    price_sensitivity: SensitivityChoice | None = None


class TestDriveOut(Schema):
    id: int
    deal: int
    vehicle: int
    route: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    licence_number: str  # masked
    licence_photo: int | None
    feedback: str
    competitor: str
    price_sensitivity: str


class TestDrivePage(Schema):
    items: list[TestDriveOut]
    next_cursor: str | None


class OptionIn(Schema):
    name: str
    price: Money


class QuoteIn(Schema):
    deal: int
    vehicle_price: Money
    options: list[OptionIn] = []
    discount: Money | None = None
    trade_in: int | None = None
    trade_in_value: Money | None = None
    insurance: Money | None = None
    insurer: str | None = None
    down_payment: Money | None = None
    term_months: int | None = None
    annual_rate: str | int | None = None  # per cent a year, e.g. "3.5"


class ApproveIn(Schema):
    approve: bool = True


class QuoteOut(Schema):
    id: int
    deal: int
    status: str
    vehicle_price: str
    options: list[dict[str, Any]]
    options_total: str
    discount: str
    trade_in_value: str
    insurance: str
    insurer: str
    total_price: str
    down_payment: str
    term_months: int
    annual_rate: str
    financed_amount: str
    monthly_payment: str
    total_interest: str
    approved_by: int | None
    approved_at: dt.datetime | None
    created_at: dt.datetime


class QuotePage(Schema):
    items: list[QuoteOut]
    next_cursor: str | None


class StockIn(Schema):
    vin: str
    model_name: str
    arrival_date: str
    series: int | None = None
    vehicle_class: str | None = None
    colour: str | None = None
    status: StockStatusChoice | None = None
    list_price: Money | None = None
    cost: Money | None = None


class StockOut(Schema):
    id: int
    vin: str
    model_name: str
    series: int | None
    vehicle_class: str
    colour: str
    arrival_date: dt.date
    age_days: int
    ageing_alert: int | None  # the highest ageing threshold reached (days), null below the first
    status: str
    list_price: str | None
    cost: str | None  # null when hidden from the role


class StockPage(Schema):
    items: list[StockOut]
    next_cursor: str | None


class ProspectOut(Schema):
    deal: int
    name: str
    consultant: str
    model_interest: str
    signals: list[str]


class ScriptIn(Schema):
    """A sales script (话术): checked by the service (400 naming the field)."""

    objection: Any = None
    answer: Any = None
    model_name: Any = None
    series: Any = None
    competitor: Any = None
    tags: Any = None


class ScriptOut(Schema):
    id: int
    objection: str
    answer: str
    model_name: str
    series: int | None
    competitor: str
    tags: list[str]
    updated_at: dt.datetime


class ScriptPage(Schema):
    items: list[ScriptOut]
    next_cursor: str | None
