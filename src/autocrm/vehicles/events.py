"""Events the vehicles app emits (``core.events``), each after its transaction commits.

The maintenance engine (service), care and analytics subscribe: a new vehicle gets its first
service planned, a transfer moves reminders to the new owner, a reading updates the mileage
rate. Payloads carry ids and plain values; a subscriber reads the rows again in its scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class VehicleCreated:
    vehicle_id: int
    customer_id: int | None  # the first owner, if registered with one


@dataclass(frozen=True)
class OwnershipTransferred:
    vehicle_id: int
    ownership_id: int  # the new, open ownership
    from_customer_id: int | None
    to_customer_id: int
    on: dt.date


@dataclass(frozen=True)
class OdometerRecorded:
    vehicle_id: int
    reading_id: int
    km: int
    at: dt.datetime
    correction: bool  # a lower reading with a reason


VEHICLE_CREATED = define_event("vehicles.created", VehicleCreated, _("A vehicle was registered."))
OWNERSHIP_TRANSFERRED = define_event(
    "vehicles.ownership_transferred", OwnershipTransferred, _("A vehicle was handed to another customer.")
)
ODOMETER_RECORDED = define_event(
    "vehicles.odometer_recorded", OdometerRecorded, _("A mileage reading was recorded for a vehicle.")
)
