"""Demo mobility services (ADR 0023): per store a small loaner fleet (one car out with a repair
order, one booked for tomorrow), the service area around the store, today's errands (an
inspection run under way, a pick-up assigned, a delivery waiting for a driver) and rescues (one
waiting, one arrived within the target, one outside the area, one closed) — made through
``service.mobility`` so the fleet, the errands page, the dispatcher's board and the driver's home
show real work. Runs after the after-sales demo, with the generated customers, once per store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.roles import Role
from autocrm.service import mobility
from autocrm.service.models import Loaner, RepairOrder, Rescue
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import Vehicle

# The service area's centre per store code (the store's address), and places around it.
CENTRES = {"a": (Decimal("31.228000"), Decimal("121.545000")), "b": (Decimal("30.280000"), Decimal("120.130000"))}
FLEET = (("沪A·D{0}1", "丰田 卡罗拉", "fuel"), ("沪A·D{0}2", "本田 飞度", "fuel"), ("沪A·D{0}3", "比亚迪 秦PLUS EV", "ev"),
         ("沪A·D{0}4", "大众 朗逸", "fuel"))  # fmt: skip


def _staff(store: Store, role: str) -> list[User]:
    ids = Membership.objects.filter(store=store, role=role, is_active=True).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=list(ids)).order_by("username"))


def demo_mobility_store(store: Store) -> int:
    """The fleet, bookings, errands and rescues of one store; 0 when it has a fleet already."""
    if Loaner.objects.filter(store=store).exists():
        return 0
    advisors, techs = _staff(store, Role.ADVISOR), _staff(store, Role.TECHNICIAN)
    managers = _staff(store, Role.SERVICE_MANAGER) or _staff(store, Role.MANAGER)
    cars = list(Vehicle.objects.filter(store=store, customer__isnull=False).select_related("customer")
                .order_by("id")[:8])  # fmt: skip
    if not (advisors and techs and managers and len(cars) >= 6):
        return 0
    keeper = actor_build(user=managers[0], store_id=store.pk)
    desk = actor_build(user=advisors[0], store_id=store.pk)
    lat, lng = CENTRES.get(store.code, CENTRES["a"])
    mobility.mobility_settings_change(actor=keeper, data={"area_lat": lat, "area_lng": lng, "area_radius_km": "25"})
    fleet = [mobility.loaner_create(actor=keeper, data={"plate": plate.format(store.code.upper()), "model_name": name,
                                                        "energy": energy, "odometer_km": 12000 + 3100 * i})
             for i, (plate, name, energy) in enumerate(FLEET)]  # fmt: skip
    today = timezone.localdate()
    ro = RepairOrder.objects.filter(store=store).exclude(status="delivered").order_by("id").first()
    owner = ro.customer if ro is not None else cars[0].customer
    assert owner is not None and cars[1].customer is not None  # cars with an owner only
    out = mobility.loaner_book(actor=desk, customer=owner, data={
        "loaner": fleet[0].pk, "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=1)).isoformat(),
        "repair_order": ro.pk if ro is not None else None})  # fmt: skip
    mobility.loaner_handover(actor=desk, booking=out, data={"level": 90, "odometer_km": fleet[0].odometer_km})
    mobility.loaner_book(actor=desk, customer=cars[1].customer, data={
        "loaner": fleet[2].pk, "starts_on": (today + dt.timedelta(days=1)).isoformat()})  # fmt: skip
    now = timezone.now()
    driver = techs[0].pk
    runs: list[tuple[Any, str, str, str, int, int | None]] = [
        (cars[2], "inspection", "浦东新区锦绣路2000号", "浦东车管所", 1, driver),
        (cars[3], "pickup", "浦东新区花木路1500号", store.address or "门店", 3, driver),
        (cars[4], "delivery", store.address or "门店", "徐汇区漕溪北路88号", 5, None),
    ]
    for car, kind, start, end, hours, who in runs:
        errand = mobility.errand_create(actor=desk, customer=car.customer, data={
            "kind": kind, "vehicle": car.pk, "pickup_address": start, "dropoff_address": end, "driver": who,
            "pickup_at": (now + dt.timedelta(hours=hours)).isoformat()})  # fmt: skip
        if kind == "inspection":
            mobility.errand_advance(actor=actor_build(user=techs[0], store_id=store.pk), errand=errand,
                                    to_status="en_route")  # fmt: skip
    crew = techs[-1].pk
    near = {"lat": lat + Decimal("0.03"), "lng": lng + Decimal("0.02")}
    waiting = mobility.rescue_create(actor=desk, data={**near, "address": "内环高架 杨高路匝道", "problem": "爆胎",
                                                       "customer": cars[5].customer_id, "technician": crew})  # fmt: skip
    Rescue.objects.filter(pk=waiting.pk).update(dispatched_at=now - dt.timedelta(minutes=12))
    arrived = mobility.rescue_create(actor=desk, data={**near, "address": "世纪大道地铁站旁", "problem": "电瓶亏电",
                                                       "technician": driver})  # fmt: skip
    Rescue.objects.filter(pk=arrived.pk).update(dispatched_at=now - dt.timedelta(minutes=22))
    mobility.rescue_advance(actor=desk, rescue=arrived, to_status="arrived")
    far = mobility.rescue_create(actor=desk, data={"lat": lat - Decimal("0.5"), "lng": lng + Decimal("0.4"),
                                                   "address": "G60 沪昆高速 松江段", "problem": "无法启动"})  # fmt: skip
    Rescue.objects.filter(pk=far.pk).update(dispatched_at=now - dt.timedelta(minutes=5))
    done = mobility.rescue_create(actor=desk, data={**near, "address": "张江路368号", "problem": "钥匙锁车内",
                                                    "technician": crew})  # fmt: skip
    Rescue.objects.filter(pk=done.pk).update(dispatched_at=now - dt.timedelta(hours=3))
    for step in ("arrived", "fixed", "closed"):
        mobility.rescue_advance(actor=desk, rescue=done, to_status=step)
    return len(fleet)


def demo_mobility_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: mobility demo data with the generated customers (not in the bare
    test demo)."""
    if not int(options.get("customers") or 0):
        return
    with audit.acting_as(None):
        for store in stores.values():
            demo_mobility_store(store)
