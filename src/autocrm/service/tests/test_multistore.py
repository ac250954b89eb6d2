"""After-sales in the inherited role × scope matrix (autocrm.core.testing): every page and API
operation, as every role, on a record of the actor's own, of a colleague's, of another store's,
and a missing one. Jobs, parts, photos and links follow their repair order; bills and canned
jobs have their own tables."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from autocrm.core.identifiers import vin_with_check_digit
from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.service.models import Appointment, Bill, CannedJob, RepairOrder
from autocrm.vehicles.models import Vehicle

from .plans_exempt import PLANS_EXEMPT

A, R, B, CJ = "service.appointment", "service.repairorder", "service.bill", "service.cannedjob"
_serial = itertools.count(1)


def _car(store):
    n = next(_serial)
    customer = Customer.objects.create(store=store, name="矩阵车主", mobile=f"1371{n:07d}")
    vehicle = Vehicle.objects.create(store=store, organization_id=store.organization_id, customer=customer,
                                     vin=vin_with_check_digit(f"LSVAU2A3{n + 900000:08d}"), plate="")  # fmt: skip
    return customer, vehicle


def build_appointment(store, owner):
    customer, vehicle = _car(store)
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=30)
    return Appointment.objects.create(store=store, customer=customer, vehicle=vehicle, advisor=owner,
                                      service_type="maintenance", day=timezone.localdate(start), starts_at=start,
                                      ends_at=start + dt.timedelta(hours=1))  # fmt: skip


def build_ro(store, owner):
    customer, vehicle = _car(store)
    return RepairOrder.objects.create(store=store, customer=customer, vehicle=vehicle, advisor=owner,
                                      number=f"RO{next(_serial):08d}", odometer_km=1000)  # fmt: skip


def build_bill(store, owner):
    ro = build_ro(store, owner)
    ro.status = "awaiting_payment"
    ro.save()
    money = Decimal("100.00")
    return Bill.objects.create(store=store, repair_order=ro, labour_total=money, parts_total=Decimal("0"), total=money,
                               tax_rate=Decimal("0.13"), tax=Decimal("11.50"), number=f"B{ro.pk}")  # fmt: skip


def build_canned(store, owner):
    return CannedJob.objects.create(store=store, code=f"C{next(_serial)}", name="保养",
                                    lines=[{"kind": "labour", "code": "OIL", "name": "机油", "hours": "1"}])  # fmt: skip


def _store_a(world):
    return world.stores["a"]


def new_appointment(world, role):
    customer, vehicle = _car(_store_a(world))
    day = timezone.localdate() + dt.timedelta(days=200 + next(_serial))
    start = dt.datetime.combine(day, dt.time(9), tzinfo=timezone.get_current_timezone())
    return {"customer": customer.pk, "vehicle": vehicle.pk, "starts_at": start.isoformat()}


def new_ro(world, role):
    customer, vehicle = _car(_store_a(world))
    return {"customer": customer.pk, "vehicle": vehicle.pk, "odometer_km": 1200}


def a_customer(world, role):
    customer, vehicle = _car(_store_a(world))
    return {"customer": customer.pk, "vehicle": vehicle.pk}


def new_canned(world, role):
    return {"code": f"N{next(_serial)}", "name": "套餐", "lines": [{"kind": "labour", "code": "X", "name": "检查",
                                                                  "hours": "0.5"}]}  # fmt: skip


class TestServiceMultistore(MultistoreMatrix):
    builders = {A: build_appointment, R: build_ro, B: build_bill, CJ: build_canned}
    namespaces = ["service"]
    api_prefixes = ["/appointment-slots", "/appointments", "/repair-orders", "/canned-jobs", "/bills"]
    ops = [
        Op("service:appointment_list", A, "view", record=False),
        # allowed: past the checks, a booking without a slot is refused with a message
        Op("service:appointment_book", A, "add", method="POST", record=False, ok=302, data=a_customer),
        Op("service:appointment_mark", A, "change", method="POST", ok=302, data={"status": ""}),
        Op("service:repair_order_list", R, "view", record=False),
        # allowed: past the checks, a reception without mileage is refused with a message
        Op("service:repair_order_receive", R, "add", method="POST", record=False, ok=302, data=a_customer),
        Op("service:repair_order_detail", R, "view"),
        Op("service:repair_order_advance", R, "advance", method="POST", ok=302, fresh=True),
        Op("service:job_add", R, "change", method="POST", ok=302),
        Op("service:part_add", R, "change", method="POST", ok=302),
        Op("service:estimate_send", R, "change", method="POST", ok=302),
        Op("service:bill_detail", B, "view"),
        Op("service:bill_pay", B, "pay", method="POST", ok=302, fresh=True),
        Op("service:canned_job_list", CJ, "view", record=False),
        Op("service:inspection", R, "view"),
        Op("service:inspection_part", R, "view"),
        Op("service:inspection_checklist", "service.inspectiontemplate", "view", record=False),
        Op("/repair-orders/{pk}/inspection", R, "view", api=True),
        Op("/repair-orders/{pk}/inspection", R, "change", api=True, method="POST", ok=201, any_of=((R, "progress"),)),
        # allowed: past the checks, an empty list of results is refused (400), nothing started
        Op(
            "/repair-orders/{pk}/inspection/results",
            R,
            "change",
            api=True,
            method="POST",
            ok=400,
            any_of=((R, "progress"),),
            data={"results": []},
        ),
        Op("/appointment-slots?date=2030-01-07", A, "view", api=True, record=False),
        Op("/appointments", A, "view", api=True, record=False),
        Op("/appointments", A, "add", api=True, record=False, method="POST", ok=201, data=new_appointment),
        Op("/appointments/{pk}", A, "view", api=True),
        Op("/appointments/{pk}/cancel", A, "change", api=True, method="POST", fresh=True),
        Op("/appointments/{pk}/mark", A, "change", api=True, method="POST", fresh=True, data={"status": "arrived"}),
        Op("/repair-orders", R, "view", api=True, record=False),
        Op("/repair-orders", R, "add", api=True, record=False, method="POST", ok=201, data=new_ro),
        Op("/repair-orders/{pk}", R, "view", api=True),
        Op("/repair-orders/{pk}/advance", R, "advance", api=True, method="POST", fresh=True),
        Op(
            "/repair-orders/{pk}/jobs",
            R,
            "change",
            api=True,
            method="POST",
            ok=201,
            data={"code": "CHK", "name": "检查", "hours": "0.5"},
        ),
        Op(
            "/repair-orders/{pk}/parts",
            R,
            "change",
            api=True,
            method="POST",
            ok=201,
            data={"name": "雨刮", "quantity": "2", "unit_price": "45.00"},
        ),
        Op("/repair-orders/{pk}/estimate", R, "view", api=True),
        Op("/repair-orders/{pk}/estimate", R, "change", api=True, method="POST", fresh=True, data={"answers": {}}),
        # allowed: past the checks, a repair order with no line waiting has nothing to send
        Op("/repair-orders/{pk}/estimate-link", R, "change", api=True, method="POST", ok=409),
        Op("/canned-jobs", CJ, "view", api=True, record=False),
        Op("/canned-jobs", CJ, "add", api=True, record=False, method="POST", ok=201, data=new_canned),
        Op("/canned-jobs/{pk}", CJ, "view", api=True),
        Op("/bills", B, "view", api=True, record=False),
        Op("/bills/{pk}", B, "view", api=True),
        Op("/bills/{pk}/pay", B, "pay", api=True, method="POST", fresh=True, data={"method": "cash"}),
        # allowed: past the checks, an unpaid bill cannot be voided
        Op("/bills/{pk}/void", B, "pay", api=True, method="POST", ok=409, data={"reason": "收错"}),
    ]
    exempt = {
        "service:canned_apply": "two records per call (repair order, canned job); test_views",
        "service:job_progress": "two records per call (repair order, job) and a multipart upload; test_views",
        "service:job_photo": "two records per call (repair order, photo); test_views",
        "service:customer_service_part": "a lazy part of the customer 360 page, read as the page reads the customer; "
        "test_views",
        "service:inspection_start": "the advisor (change) or the technician (progress) may start it; test_inspection",
        "service:inspection_item_save": "two records per call (repair order, item), advisor or technician; "
        "test_inspection",
        "service:inspection_recommend": "two records per call (repair order, item); test_inspection",
        "service:inspection_photo": "two records per call (repair order, photo); test_inspection",
        "POST /api/v1/repair-orders/{ro_id}/inspection/items/{item_id}/photos": "two records per call (repair "
        "order, item) and a multipart upload; test_inspection_editor",
        "POST /api/v1/repair-orders/{ro_id}/inspection/items/{item_id}/recommend": "two records per call "
        "(repair order, item); test_inspection_editor",
        "service:pick": "a search of the actor's own store (booking or receiving); test_inspection",
        "PATCH /api/v1/repair-orders/{ro_id}/jobs/{job_id}": "two records per call (repair order, job); test_api",
        "POST /api/v1/repair-orders/{ro_id}/canned-jobs": "two records per call (repair order, canned job); test_api",
        **PLANS_EXEMPT,  # ADR 0025: plans, accessories, insurer claims (test_multistore_plans)
    }
