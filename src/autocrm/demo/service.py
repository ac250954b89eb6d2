"""Demo after-sales: per store, canned jobs (维修套餐), today's and tomorrow's appointments (some
arrived, a priority one, a pick-up), and repair orders in every status of the workflow — with
jobs, parts, technicians, an estimate waiting for the owner, declined work, bills, comebacks —
made through ``service.services`` as the store's advisor, so the advisor's home, the repair-order
pages and the customer 360 page show real data on a fresh ``make run``. Runs with the generated
customers (``--customers`` > 0) and once per store; about a dozen repair orders a store."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.errors import DomainError
from autocrm.core.roles import Role
from autocrm.service import services
from autocrm.service.choices import RO_ORDER, AppointmentStatus, RoStatus, ServiceType
from autocrm.service.models import Appointment, CannedJob, RepairOrder
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import Vehicle

CANNED = (
    ("M5K", "5000公里首保", [
        {"kind": "labour", "code": "OIL", "name": "更换机油机滤", "hours": "0.8"},
        {"kind": "labour", "code": "INSP", "name": "全车检查", "hours": "0.5"},
        {"kind": "part", "part_number": "OF-01", "name": "机油滤清器", "quantity": "1", "unit_price": "58.00"},
        {"kind": "part", "part_number": "OIL-0W20", "name": "机油 0W-20 4L", "quantity": "1", "unit_price": "368.00"},
    ]),
    ("M10K", "1万公里保养", [
        {"kind": "labour", "code": "OIL", "name": "更换机油机滤", "hours": "0.8"},
        {"kind": "labour", "code": "AIR", "name": "更换空气滤芯", "hours": "0.3"},
        {"kind": "part", "part_number": "OF-01", "name": "机油滤清器", "quantity": "1", "unit_price": "58.00"},
        {"kind": "part", "part_number": "AF-01", "name": "空气滤芯", "quantity": "1", "unit_price": "96.00"},
        {"kind": "part", "part_number": "OIL-0W20", "name": "机油 0W-20 4L", "quantity": "1", "unit_price": "368.00"},
    ]),
    ("BRK-F", "前刹车片更换", [
        {"kind": "labour", "code": "BRK", "name": "更换前刹车片", "hours": "1.2"},
        {"kind": "part", "part_number": "PAD-F", "name": "前刹车片", "quantity": "1", "unit_price": "420.00"},
    ]),
)  # fmt: skip
EXTRA = (("WIPER", "更换雨刮片", "0.2"), ("AC", "空调清洗", "0.8"), ("ALN", "四轮定位", "1.0"))


def _staff(store: Store, role: str) -> list[User]:
    ids = Membership.objects.filter(store=store, role=role, is_active=True).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=list(ids)).order_by("pk"))


def demo_service_store(store: Store, *, seed: int = 42, orders: int = 12) -> int:
    """Canned jobs, appointments and repair orders for one store; 0 when it has some already."""
    if RepairOrder.objects.filter(store=store).exists():
        return 0
    advisors, techs = _staff(store, Role.ADVISOR), _staff(store, Role.TECHNICIAN)
    managers = _staff(store, Role.SERVICE_MANAGER) or _staff(store, Role.MANAGER)
    if not advisors or not managers:
        return 0
    rng = random.Random(seed + store.pk)
    keeper = actor_build(user=managers[0], store_id=store.pk)
    canned = {}
    for code, name, lines in CANNED:
        found = CannedJob.objects.filter(store=store, code=code).first()
        canned[code] = found or services.canned_job_create(actor=keeper, data={"code": code, "name": name,
                                                                                "lines": lines})  # fmt: skip
    cars = list(Vehicle.objects.filter(store=store, customer__isnull=False).select_related("customer")
                .order_by("pk")[: orders + 10])  # fmt: skip
    if not cars:
        return 0
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    # today's and tomorrow's appointments (today's directly: their slots may have begun)
    for n, car in enumerate(cars[orders : orders + 8]):
        assert car.customer is not None
        day = today if n < 5 else today + dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(9 + n % 7, 0 if n % 2 else 30), tzinfo=tz)
        status = AppointmentStatus.ARRIVED if day == today and n < 2 else AppointmentStatus.BOOKED
        Appointment.objects.create(
            store=store, customer=car.customer, vehicle=car, advisor=advisors[n % len(advisors)],
            service_type=ServiceType.MAINTENANCE if n % 3 else ServiceType.REPAIR, day=day, starts_at=start,
            ends_at=start + dt.timedelta(hours=1), priority=n == 3, pickup=n == 4,
            pickup_address="浦东新区世纪大道 100 号" if n == 4 else "", status=status,
            arrived_at=start if status == AppointmentStatus.ARRIVED else None,
        )  # fmt: skip
    made = 0
    targets = [RO_ORDER[1 + i % (len(RO_ORDER) - 1)] for i in range(orders)]
    for car, target in zip(cars[:orders], targets, strict=False):
        actor = actor_build(user=advisors[made % len(advisors)], store_id=store.pk)
        try:
            _repair_order(actor, keeper, car, target, rng, canned, techs)
        except DomainError:
            continue  # a reading lower than the history's, a rare clash: skip this car
        made += 1
    return made


def _repair_order(actor: Any, keeper: Any, car: Vehicle, target: str, rng: random.Random, canned: dict[str, Any],
                  techs: list[User]) -> None:  # fmt: skip
    km = (car.mileage_km or 0) + rng.randint(300, 3000)
    assert car.customer is not None
    ro = services.repair_order_receive(actor=actor, customer=car.customer, vehicle=car, data={
        "odometer_km": km, "complaint": rng.choice(("定期保养", "刹车有异响", "空调不凉", "仪表故障灯亮")),
        "priority": rng.random() < 0.15})  # fmt: skip
    tech = techs[ro.pk % len(techs)].pk if techs else None
    services.canned_job_apply(actor=actor, repair_order=ro, canned_job=canned[rng.choice(list(canned))],
                              technician=tech)  # fmt: skip
    code, name, hours = rng.choice(EXTRA)
    extra = services.job_add(actor=actor, repair_order=ro, data={"code": code, "name": name, "hours": hours,
                                                                  "technician": tech})  # fmt: skip
    index = RO_ORDER.index(target)
    if index < RO_ORDER.index(RoStatus.DIAGNOSIS):
        return
    services.repair_order_advance(actor=actor, repair_order=ro)
    if index < RO_ORDER.index(RoStatus.AWAITING_APPROVAL):
        return
    services.estimate_send(actor=actor, repair_order=ro)
    if index < RO_ORDER.index(RoStatus.IN_REPAIR):
        return
    answers = {f"job:{j.pk}": "approved" for j in ro.jobs.all()} | {
        f"part:{p.pk}": "approved" for p in ro.part_lines.all()}  # fmt: skip
    if rng.random() < 0.5:
        answers[f"job:{extra.pk}"] = "declined"  # declined work to offer again
    services.estimate_record(actor=actor, repair_order=ro, answers=answers)
    if index < RO_ORDER.index(RoStatus.QUALITY_CHECK):
        return
    for job in ro.jobs.filter(approval="approved"):
        services.job_progress(actor=keeper, job=job, data={"progress": "done", "findings": "已完成"})
    for _step in range(index - RO_ORDER.index(RoStatus.IN_REPAIR)):
        ro = services.repair_order_advance(actor=actor, repair_order=ro)
        if ro.status == RoStatus.AWAITING_PAYMENT and target == RoStatus.DELIVERED:
            services.bill_pay(actor=actor, bill=ro.bill, method=rng.choice(("wechat", "alipay", "card")))


def demo_service_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: after-sales demo data with the generated customers (not in the bare
    test demo)."""
    orders = min(12, int(options.get("customers") or 0) // 100)
    if not orders:
        return
    with audit.acting_as(None):
        for store in stores.values():
            demo_service_store(store, seed=int(options.get("seed") or 42), orders=orders)
