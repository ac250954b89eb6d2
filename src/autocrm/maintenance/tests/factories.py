"""Test helpers of the maintenance app: vehicles with odometer histories, straight to the tables."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from autocrm.core.identifiers import vin_with_check_digit
from autocrm.vehicles.models import OdometerReading, Vehicle

_seq = itertools.count(1)


def make_vin() -> str:
    return vin_with_check_digit(f"LFV2A21K{next(_seq):08d}")


def make_vehicle(store: Any, *, customer: Any = None, delivered: dt.date | None = None, series: Any = None,
                 fuel_type: str = "petrol", readings: Sequence[tuple[int, int]] = (), vin: str = "",
                 insurance_expiry: dt.date | None = None) -> Vehicle:  # fmt: skip
    """A vehicle of ``store`` delivered on ``delivered`` with readings ``(days after delivery, km)``."""
    delivered = delivered or timezone.localdate() - dt.timedelta(days=400)
    vehicle = Vehicle.objects.create(
        store=store, organization_id=store.organization_id, vin=vin or make_vin(), plate=f"沪M{next(_seq):05d}",
        customer=customer, series=series, fuel_type=fuel_type, delivery_date=delivered, purchase_date=delivered,
        insurance_expiry=insurance_expiry,
    )  # fmt: skip
    for days, km in readings:
        at = timezone.make_aware(dt.datetime.combine(delivered + dt.timedelta(days=days), dt.time(10)))
        OdometerReading.objects.create(store=store, vehicle=vehicle, km=km, at=at, source="reception")
    return vehicle
