"""Test data for after-sales, made through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from autocrm.core.actor import Actor
from autocrm.core.identifiers import vin_with_check_digit
from autocrm.customers.tests.factories import make_customer
from autocrm.service import services
from autocrm.service.models import CannedJob, RepairOrder
from autocrm.vehicles.services import vehicle_create

_seq = itertools.count(1)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def new_vin() -> str:
    return vin_with_check_digit(f"LSVAU2A3{next(_seq) + 700000:08d}")


def make_car(actor: Actor, customer: Any = None, **data: Any) -> tuple[Any, Any]:
    customer = customer or make_customer(actor)
    data.setdefault("vin", new_vin())
    vehicle = vehicle_create(actor=actor, data=data, customer=customer)
    return customer, vehicle


def tomorrow_at(hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def make_ro(actor: Actor, km: int = 10000, **data: Any) -> RepairOrder:
    customer, vehicle = data.pop("car", None) or make_car(actor)
    data.setdefault("odometer_km", km)
    data.setdefault("complaint", "异响")
    return services.repair_order_receive(actor=actor, customer=customer, vehicle=vehicle, data=data)


def make_canned(actor: Actor, code: str = "M10K") -> CannedJob:
    return services.canned_job_create(actor=actor, data={
        "code": code, "name": "1万公里保养", "lines": [
            {"kind": "labour", "code": "OIL", "name": "更换机油机滤", "hours": "1.0"},
            {"kind": "part", "part_number": "15400-RTA", "name": "机油滤清器", "quantity": "1", "unit_price": "58.00"},
            {"kind": "part", "part_number": "0W20-4L", "name": "机油 0W-20 4L", "quantity": "1", "unit_price": "368.00"},
        ]})  # fmt: skip
