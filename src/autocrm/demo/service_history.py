"""Demo years of service (issue 14 item 11, ADR 0026): every generated car's service visits — the
odometer readings after its delivery, made by ``demo.generators`` with owners who follow the plan
and drift away — become delivered repair orders with their jobs, parts and paid bills, so the
service KPIs (throughput, retention by visit, comebacks, estimate approval, gross profit) and the
maintenance back-test run on years of real-looking history.

Bulk inserts, not the services: walking ~10,000 repair orders a store through the workflow
would take minutes. The invariants the services keep still hold: each RO's odometer is the
reading of its day (never below the vehicle's history), bills are the approved lines' sums with
the VAT included (to the fen, ``service.billing``), a comeback repeats a job code of the visit
before within the store's window. History does not move stock: its part lines are not
``issued`` (the parts ledger and on-hand balances are today's, from ``demo.parts``). Runs after
``demo.service`` and ``demo.maintenance`` (whose records say which plan items each visit did:
the repair order's jobs and, through the store's item → part mapping of ``demo.item_parts``,
its parts — an oil service takes oil and a filter, brake fluid a litre of DOT4), once per store;
without records or mapping (a bare store) a visit takes the routine jobs and parts below."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from autocrm.accounts.models import Membership
from autocrm.core.roles import Role
from autocrm.maintenance.models import MaintenanceRecord
from autocrm.parts.models import Part
from autocrm.partsforecast.models import ItemPart
from autocrm.service.billing import fen, line_amount
from autocrm.service.choices import Approval, BillStatus, Progress, RoStatus
from autocrm.service.models import Bill, Job, PartLine, RepairOrder
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import OdometerReading, Vehicle

from .item_parts import ITEM_JOBS

log = logging.getLogger(__name__)
PREFIX = "RH"  # history repair orders' numbers: RH<store><n>
RATE = Decimal("180.00")
TAX = Decimal("0.1300")
# (code, name, hours), (part number, name, quantity, price) by visit: 首保, then routine services.
FIRST = (("OIL", "更换机油机滤", "0.8"), ("INSP", "首保全车检查", "0.5"))
ROUTINE = (("OIL", "更换机油机滤", "0.8"), ("AIR", "更换空气滤芯", "0.3"), ("INSP", "全车检查", "0.5"))
PARTS = (("OIL-0W20-4L", "全合成机油 0W-20 4L", "1", "498.00"), ("FLT-OIL-BYD01", "机油滤清器（DM-i）", "1", "58.00"))
AIR = ("FLT-AIR-BYD01", "空气滤清器（宋/唐）", "1", "98.00")
EXTRAS = (("BRK", "更换前刹车片", "1.2", ("BRK-PAD-F-SONG", "前刹车片（宋 PLUS）", "1", "580.00")),
          ("AC", "空调清洗", "0.8", None), ("ALN", "四轮定位", "1.0", None))  # fmt: skip
COMEBACK_SHARE = 0.03
EXTRA_SHARE = 0.35  # visits where the advisor recommends more work; the owner declines 40 % of it


def _add_job(jobs: list[Job], ro: RepairOrder, code: str, name: str, hours: str, approval: str, *,
             comeback: bool = False) -> Decimal:  # fmt: skip
    jobs.append(Job(store_id=ro.store_id, repair_order=ro, code=code, name=name, hours=Decimal(hours), rate=RATE,
                    approval=approval, progress=Progress.DONE if approval == Approval.APPROVED else Progress.WAITING,
                    is_comeback=comeback, done_at=ro.closed_at if approval == Approval.APPROVED else None))  # fmt: skip
    return line_amount(Decimal(hours), RATE) if approval == Approval.APPROVED else Decimal(0)


def _add_part(lines: list[PartLine], ro: RepairOrder, parts: dict[str, int], row: tuple[str, str, str, str],
              approval: str) -> Decimal:  # fmt: skip
    number, name, qty, price = row
    lines.append(PartLine(store_id=ro.store_id, repair_order=ro, part_id=parts.get(number), part_number=number,
                          name=name, quantity=Decimal(qty), unit_price=Decimal(price), approval=approval))  # fmt: skip
    return line_amount(Decimal(qty), Decimal(price)) if approval == Approval.APPROVED else Decimal(0)


PartRow = tuple[str, str, str, str]  # part number, name, quantity, unit price


def _item_lines(store: Store) -> tuple[dict[tuple[int, dt.date], frozenset[str]], dict[str, list[PartRow]]]:
    """The plan items recorded as done at each (car, day) of the store, and the parts each item
    uses (the store's mapping, at the catalogue's prices)."""
    done: dict[tuple[int, dt.date], set[str]] = defaultdict(set)
    for vid, day, item in MaintenanceRecord.objects.filter(store=store).values_list("vehicle_id", "done_on", "item"):
        done[(vid, day)].add(item)
    uses: dict[str, list[PartRow]] = defaultdict(list)
    for item, number, name, qty, price in (ItemPart.objects.filter(store=store).order_by("item", "part__part_number")
                                           .values_list("item", "part__part_number", "part__name", "quantity",
                                                        "part__price")):  # fmt: skip
        uses[item].append((number, name, f"{qty}", f"{price}"))
    return {k: frozenset(v) for k, v in done.items()}, dict(uses)


def _visit_lines(n: int, items: frozenset[str] | None,
                 uses: dict[str, list[PartRow]]) -> tuple[list[tuple[str, str, str]], list[PartRow]]:  # fmt: skip
    """The jobs and parts of visit ``n``: one job per plan item done (oil and its filter share
    one) with the mapped parts, or the routine lists when no item was recorded."""
    if not items or not uses:
        return list(FIRST if n == 1 else ROUTINE), list(PARTS + (() if n == 1 else (AIR,)))
    jobs: dict[str, tuple[str, str, str]] = {"INSP": ("INSP", "首保全车检查" if n == 1 else "全车检查", "0.5")}
    lines: list[PartRow] = []
    for item in sorted(items):
        code, name, hours = ITEM_JOBS.get(item, ("INSP", "", "0"))
        jobs.setdefault(code, (code, name, hours))
        lines.extend(uses.get(item, ()))
    return sorted(jobs.values(), key=lambda j: (j[0] != "OIL", j[0] == "INSP", j[0])), lines


def demo_service_history_store(store: Store, *, seed: int = 42) -> int:
    """Delivered repair orders for every car's past service visits; 0 when the store has them."""
    if RepairOrder.objects.filter(store=store, number__startswith=PREFIX).exists():
        return 0
    staff = list(Membership.objects.filter(store=store, role__in=(Role.ADVISOR, Role.SERVICE_MANAGER), is_active=True)
                 .order_by("role", "user_id").values_list("user_id", flat=True))  # fmt: skip
    if not staff:
        return 0
    rng = random.Random(seed * 31 + store.pk)
    parts = dict(Part.objects.filter(store=store).values_list("part_number", "pk"))
    owners = dict(Vehicle.objects.filter(store=store, customer__isnull=False).values_list("pk", "customer_id"))
    visits: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for vid, km, at in (OdometerReading.objects.filter(store=store, vehicle_id__in=list(owners))
                        .order_by("vehicle_id", "at", "id").values_list("vehicle_id", "km", "at")):  # fmt: skip
        visits[vid].append((at, km))
    done, uses = _item_lines(store)
    now = timezone.now()
    tz = timezone.get_current_timezone()
    ros: list[RepairOrder] = []
    plan: list[tuple[RepairOrder, int, bool, frozenset[str] | None]] = []  # the RO, visit number, comeback, items
    for vid, history in visits.items():
        for n, (at, km) in enumerate(history[1:], start=1):  # the first reading is the delivery
            day = timezone.localtime(at).date()
            received = dt.datetime.combine(day, dt.time(8 + rng.randint(0, 3), rng.choice((0, 15, 30, 45))), tzinfo=tz)
            closed = received + dt.timedelta(minutes=rng.randint(90, 420))
            if closed >= now:
                continue
            advisor = staff[rng.randrange(len(staff))]
            ro = RepairOrder(store_id=store.pk, number=f"{PREFIX}{store.code.upper()}{len(ros) + 1:06d}",
                             customer_id=owners[vid], vehicle_id=vid, advisor_id=advisor, status=RoStatus.DELIVERED,
                             status_entered_at=closed, odometer_km=km, complaint="定期保养", received_at=received,
                             closed_at=closed)  # fmt: skip
            ros.append(ro)
            items = done.get((vid, day))
            plan.append((ro, n, False, items))
            if rng.random() < COMEBACK_SHARE:
                back = closed + dt.timedelta(days=rng.randint(3, 20), hours=1)
                if back < now:
                    again = RepairOrder(store_id=store.pk, number=f"{PREFIX}{store.code.upper()}{len(ros) + 1:06d}",
                                        customer_id=owners[vid], vehicle_id=vid, advisor_id=advisor,
                                        status=RoStatus.DELIVERED, status_entered_at=back + dt.timedelta(hours=2),
                                        odometer_km=km + rng.randint(20, 400), complaint="保养后机油灯亮",
                                        received_at=back, closed_at=back + dt.timedelta(hours=2),
                                        is_comeback=True)  # fmt: skip
                    ros.append(again)
                    plan.append((again, n, True, items))
    with transaction.atomic():
        RepairOrder.objects.bulk_create(ros, batch_size=2000)
        jobs: list[Job] = []
        lines: list[PartLine] = []
        bills: list[Bill] = []
        methods = ("wechat", "alipay", "card", "cash")
        for ro, n, comeback, items in plan:
            labour = parts_total = Decimal(0)
            visit_jobs, visit_parts = _visit_lines(n, items, uses)
            if comeback:  # the visit's first job again (its oil job when it had one)
                code, name, _hours = visit_jobs[0]
                name = "返修：机油渗漏" if code == "OIL" else f"返修：{name}"
                labour += _add_job(jobs, ro, code, name, "0.5", Approval.APPROVED, comeback=True)
            else:
                for code, name, hours in visit_jobs:
                    labour += _add_job(jobs, ro, code, name, hours, Approval.APPROVED)
                for row in visit_parts:
                    parts_total += _add_part(lines, ro, parts, row, Approval.APPROVED)
                if rng.random() < EXTRA_SHARE:
                    code, name, hours, part = EXTRAS[rng.randrange(len(EXTRAS))]
                    if any(j[0] == code for j in visit_jobs):  # the plan did it already: a wheel alignment instead
                        code, name, hours, part = EXTRAS[-1]
                    answer = Approval.DECLINED if rng.random() < 0.4 else Approval.APPROVED
                    labour += _add_job(jobs, ro, code, name, hours, answer)
                    if part:
                        parts_total += _add_part(lines, ro, parts, part, answer)
            total = fen(labour + parts_total)
            bills.append(Bill(store_id=store.pk, repair_order=ro, number=f"B{ro.number[2:]}", labour_total=labour,
                              parts_total=parts_total, total=total, tax_rate=TAX, tax=fen(total * TAX / (1 + TAX)),
                              status=BillStatus.PAID, method=methods[rng.randrange(len(methods))],
                              paid_at=ro.closed_at))  # fmt: skip
        Job.objects.bulk_create(jobs, batch_size=2000)
        PartLine.objects.bulk_create(lines, batch_size=2000)
        Bill.objects.bulk_create(bills, batch_size=2000)
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner takes the years of new repair orders for a handful and
        # nests loops over them (the KPI page's retention read took 24 s instead of 20 ms).
        with connection.cursor() as cursor:
            for model in (RepairOrder, Job, PartLine, Bill):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return len(ros)


def demo_service_history_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook (after ``demo.service``): years of service with the generated customers."""
    if not int(options.get("customers") or 0):
        return
    for store in stores.values():
        started = time.perf_counter()
        made = demo_service_history_store(store, seed=int(options.get("seed") or 42))
        log.info("demo service history: store %s, %d repair orders in %.1fs", store.code, made,
                 time.perf_counter() - started)  # fmt: skip
