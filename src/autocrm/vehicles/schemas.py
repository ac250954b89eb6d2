from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from ninja import Schema

from autocrm.core.api import choice

from .choices import FuelType, PlateKind, ReadingSource, Usage

# Choice fields are enums in the OpenAPI document; the services check the values (translated 400).
if TYPE_CHECKING:
    # choice() builds Annotated[str, <the enum's JSON schema>] at run time; a type checker cannot
    # evaluate a call as a type, so it is given the str that those annotate.
    Fuel: TypeAlias = str
    UsageChoice: TypeAlias = str
    PlateKindChoice: TypeAlias = str
    Source: TypeAlias = str
else:
    Fuel = choice(FuelType, blank=True)
    UsageChoice = choice(Usage, blank=True)
    PlateKindChoice = choice(PlateKind, blank=True)
    Source = choice(ReadingSource)


class VehicleFields(Schema):
    """Every writable field, all optional: a PATCH sends what changes."""

    vin: str | None = None
    plate: str | None = None
    brand: int | None = None
    series: int | None = None
    trim: int | None = None
    model_year: int | None = None
    fuel_type: Fuel | None = None
    colour: str | None = None
    usage: UsageChoice | None = None
    purchase_date: str | None = None
    delivery_date: str | None = None
    warranty_end: str | None = None
    extended_warranty_end: str | None = None
    insurance_expiry: str | None = None
    inspection_due: str | None = None
    external_id: str | None = None


class VehicleIn(VehicleFields):
    """A new vehicle: ``vin`` or ``plate`` (a plate alone is kept with the warning that the VIN
    is missing; it is added later with a PATCH)."""

    customer: int | None = None
    mileage_km: int | None = None


class VehiclePatch(VehicleFields):
    pass


class VehicleOut(Schema):
    id: int
    store: int
    vin: str
    plate: str
    plate_kind: PlateKindChoice
    customer: int | None = None
    brand: str | None = None
    series: str | None = None
    trim: str | None = None
    maker: str
    model_year: int | None = None
    fuel_type: Fuel
    colour: str
    usage: UsageChoice
    purchase_date: dt.date | None = None
    delivery_date: dt.date | None = None
    warranty_end: dt.date | None = None
    extended_warranty_end: dt.date | None = None
    insurance_expiry: dt.date | None = None
    inspection_due: dt.date | None = None
    mileage_km: int | None = None
    mileage_at: dt.datetime | None = None
    external_id: str
    vin_warnings: list[str] = []
    vin_missing: bool = False
    warnings: list[str] = []  # of this write (VIN missing, a plate another vehicle has); not stored


class VehiclePage(Schema):
    items: list[VehicleOut]
    next_cursor: str | None = None


class ReadingIn(Schema):
    km: int
    at: dt.datetime | None = None
    source: Source = "reception"
    correction_reason: str = ""


class ReadingOut(Schema):
    id: int
    km: int
    at: dt.datetime
    source: Source
    correction_reason: str


class ReadingPage(Schema):
    items: list[ReadingOut]
    next_cursor: str | None = None


class TransferIn(Schema):
    new_owner: int
    on: dt.date | None = None
    note: str = ""


class OwnershipOut(Schema):
    customer: int
    started_on: dt.date
    ended_on: dt.date | None = None
    note: str
