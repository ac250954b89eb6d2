"""Service KPIs (售后指标, issue 14 item 10, ADR 0026): reads over repair orders in the actor's
scope, aggregated by the database (a bounded number of grouped queries, never one per row).

Scope: an advisor sees their own repair orders' figures, the service manager and the store
manager the store's (per advisor), the director the group's (per store and per advisor);
``store`` narrows a director to one store, ``advisor`` a manager to one advisor. Figures are
by the day a repair order was *delivered* (``closed_at``) unless said otherwise.

Definitions (the page's tooltips say the same):

* throughput (台次): repair orders delivered in the period; ``vehicles`` the distinct cars.
* revenue per RO (单车产值): the bills' totals net of VAT (``total − tax``) ÷ billed ROs.
* gross profit per RO (单车毛利): (net revenue − approved parts' cost (quantity × the part's
  cost) − approved labour hours × the store's labour cost per hour) ÷ billed ROs. Hidden from
  roles without cost access (``parts.permissions.COST_ACCESS``).
* average time in shop (在厂时长): mean of ``closed_at − received_at``, in hours.
* comeback rate (返修率): delivered ROs flagged as comebacks ÷ delivered ROs.
* first-time-fix rate (一次修复率): delivered ROs *not* followed by a comeback repeating one of
  their job codes (a later RO of the same car with a comeback job of the same code) ÷ delivered.
* estimate approval rate (报价通过率): of the lines (jobs and parts) the owner answered on the
  ROs *received* in the period, the share approved.
* retention (保有率/回厂率): a visit is a delivered, non-comeback RO; the car's n-th visit is
  visit n (1 = 首保). A visit is *due to return* at ``closed_at + RETURN_WINDOW`` (the plan's
  routine-service interval, 12 months, plus 3 months' grace); the period's cohort is the visits
  whose return deadline falls in the period and has passed; retained: the car's next visit was
  delivered by the deadline. Overall and by visit number (n → n+1).
* absorption rate (零服吸收率): after-sales gross profit ÷ the store's fixed costs of the period
  (``ServiceCosts.monthly_fixed_costs`` × days × 12 / 365); only stores with costs set count;
  ``None`` without cost access or without costs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import User
from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.periods import PERIOD_LABELS, Period, period_parse  # noqa: F401  (the sales KPIs' picker)
from autocrm.core.permissions import Access, Scope, can, field_access, scope_for
from autocrm.core.roles import Role
from autocrm.maintenance.defaults import DEFAULT_ITEMS
from autocrm.parts.models import Part
from autocrm.tenancy.models import Store

from .choices import IN_SHOP, Approval, RoStatus
from .models import Job, PartLine, RepairOrder, ServiceSettings
from .models_kpis import ServiceCosts

KPI_ROLES = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.MANAGER, Role.DIRECTOR)
ROUTINE_MONTHS = next(row[4] for row in DEFAULT_ITEMS if row[0] == "service") or 12
RETURN_GRACE = dt.timedelta(days=91)
RETURN_WINDOW = dt.timedelta(days=round(ROUTINE_MONTHS * 365 / 12)) + RETURN_GRACE
VISIT_BUCKETS = 5  # 首保, 二保, 三保, 四保, 5+
VISIT_LABELS = {1: _("1st service"), 2: _("2nd service"), 3: _("3rd service"), 4: _("4th service"),
                5: _("5th service and later")}  # fmt: skip
FEN = Decimal("0.01")

SHOP_TIME = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
NET = ExpressionWrapper(F("bill__total") - F("bill__tax"), output_field=DecimalField(max_digits=14, decimal_places=2))
PART_COST = ExpressionWrapper(
    F("quantity") * F("part__cost"), output_field=DecimalField(max_digits=20, decimal_places=4)
)


def sees_service_kpis(actor: object) -> bool:
    return getattr(actor, "role", None) in KPI_ROLES and getattr(actor, "store_id", None) is not None


def sees_cost(actor: Actor) -> bool:
    return field_access(actor, Part, "cost") is Access.FULL


def _int_param(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
        if not 0 < number < 2**62:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(fields={name: [_("Enter a whole number.")]}) from None
    return number


def _rate(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole and part is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(FEN)}"


def _per(total: Decimal | None, count: int) -> Decimal | None:
    return (Decimal(total or 0) / count).quantize(FEN) if count else None


def _hours(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def _redone() -> Exists:
    """A later comeback job on the same car repeating one of this repair order's job codes."""
    codes = Job.objects.filter(repair_order=OuterRef(OuterRef("pk"))).values("code")  # scoped: the RO's own jobs
    return Exists(
        Job.objects.filter(  # scoped: the same car's later repair orders in the same store
            store_id=OuterRef("store_id"), repair_order__vehicle_id=OuterRef("vehicle_id"), is_comeback=True,
            repair_order__received_at__gt=OuterRef("closed_at"), code__in=codes,
        )
    )  # fmt: skip


def _ro_counts(qs: QuerySet[RepairOrder], by: str | None) -> Any:
    counts = {
        "ros": Count("id"),
        "vehicles": Count("vehicle_id", distinct=True),
        "billed": Count("id", filter=Q(bill__isnull=False)),
        "revenue": Sum(NET),
        "shop_time": Avg(SHOP_TIME),
        "comebacks": Count("id", filter=Q(is_comeback=True)),
        "fixed": Count("id", filter=Q(k_redone=False)),
    }
    annotated = qs.annotate(k_redone=_redone())
    if by is None:
        return [annotated.aggregate(**counts)]
    return annotated.order_by().values(by).annotate(**counts)


def _cost_rows(delivered: QuerySet[RepairOrder]) -> dict[tuple[int, int | None], dict[str, Decimal]]:
    """Approved labour hours and parts' cost per (store, advisor): two grouped queries."""
    out: dict[tuple[int, int | None], dict[str, Decimal]] = defaultdict(
        lambda: {"hours": Decimal(0), "parts": Decimal(0)}
    )
    keys = ("repair_order__store_id", "repair_order__advisor_id")
    jobs = (Job.objects.filter(repair_order__in=delivered, approval=Approval.APPROVED)  # scoped: jobs of in-scope ROs
            .order_by().values(*keys).annotate(h=Sum("hours")))  # fmt: skip
    for row in jobs:
        out[(row[keys[0]], row[keys[1]])]["hours"] += row["h"] or 0
    parts = (PartLine.objects.filter(repair_order__in=delivered, approval=Approval.APPROVED,  # scoped: in-scope ROs' lines
                                     part__cost__isnull=False)
             .order_by().values(*keys).annotate(c=Sum(PART_COST)))  # fmt: skip
    for row in parts:
        out[(row[keys[0]], row[keys[1]])]["parts"] += Decimal(row["c"] or 0)
    return out


def _approval_rows(received: QuerySet[RepairOrder]) -> dict[tuple[int, int | None], dict[str, int]]:
    """Lines the owner answered (approved or declined) per (store, advisor): two grouped queries."""
    out: dict[tuple[int, int | None], dict[str, int]] = defaultdict(lambda: {"answered": 0, "approved": 0})
    keys = ("repair_order__store_id", "repair_order__advisor_id")
    answered = (Approval.APPROVED, Approval.DECLINED)
    for model in (Job, PartLine):
        rows = (model.objects.filter(repair_order__in=received, approval__in=answered)  # scoped: in-scope ROs' lines
                .order_by().values(*keys)
                .annotate(n=Count("id"), ok=Count("id", filter=Q(approval=Approval.APPROVED))))  # fmt: skip
        for row in rows:
            cell = out[(row[keys[0]], row[keys[1]])]
            cell["answered"] += row["n"]
            cell["approved"] += row["ok"]
    return out


def _retention(visits_qs: QuerySet[RepairOrder], period: Period, *, now: dt.datetime,
               advisor_id: int | None) -> dict[str, Any]:  # fmt: skip
    """Retention over the cars' delivered, non-comeback visits: one ordered read of the visits of
    the cars with a visit in the cohort (their whole history, to number the visits), walked once;
    overall, by visit number and by store (``by_store``: store id → rate)."""
    last = min(period.end, now)
    visits = visits_qs.filter(status=RoStatus.DELIVERED, is_comeback=False, closed_at__isnull=False, closed_at__lt=last)
    cohort = visits.filter(closed_at__gte=period.start - RETURN_WINDOW, closed_at__lt=last - RETURN_WINDOW)
    rows = (visits.filter(vehicle_id__in=cohort.values("vehicle_id"))
            .order_by("vehicle_id", "closed_at", "pk").values_list("vehicle_id", "closed_at", "store_id", "advisor_id"))  # fmt: skip
    due = [0] * (VISIT_BUCKETS + 1)
    kept = [0] * (VISIT_BUCKETS + 1)
    per_store: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    current: Any = None
    number = 0
    pending: tuple[int, dt.datetime, int, Any] | None = None

    def settle(nxt: dt.datetime | None) -> None:
        if pending is None:
            return
        n, closed, s, a = pending
        deadline = closed + RETURN_WINDOW
        if not (period.start <= deadline < last) or (advisor_id is not None and a != advisor_id):
            return
        bucket = min(n, VISIT_BUCKETS)
        back = int(nxt is not None and nxt <= deadline)
        due[bucket] += 1
        kept[bucket] += back
        per_store[s][0] += 1
        per_store[s][1] += back

    for vehicle_id, closed, s, a in rows:
        if vehicle_id != current:
            settle(None)
            current, number = vehicle_id, 0
        else:
            settle(closed)
        number += 1
        pending = (number, closed, s, a) if closed is not None else None
    settle(None)
    by_visit = [{"visit": n, "label": str(VISIT_LABELS[n]), "due": due[n], "returned": kept[n],
                 "rate": _rate(kept[n], due[n])} for n in range(1, VISIT_BUCKETS + 1)]  # fmt: skip
    return {"due": sum(due), "returned": sum(kept), "rate": _rate(sum(kept), sum(due)), "by_visit": by_visit,
            "by_store": {s: _rate(k, d) for s, (d, k) in per_store.items()}}  # fmt: skip


def _figures(row: dict[str, Any], costs: dict[str, Decimal] | None, approvals: dict[str, int], *,
             with_gp: bool, labour_cost: Decimal) -> dict[str, Any]:  # fmt: skip
    ros, billed = row.get("ros") or 0, row.get("billed") or 0
    revenue = Decimal(row.get("revenue") or 0)
    out: dict[str, Any] = {
        "repair_orders": ros,
        "vehicles": row.get("vehicles") or 0,
        "revenue": _money(revenue),
        "revenue_per_ro": _money(_per(revenue, billed)),
        "avg_hours_in_shop": _hours(row.get("shop_time")),
        "comeback_rate": _rate(row.get("comebacks"), ros),
        "first_time_fix_rate": _rate(row.get("fixed"), ros),
        "estimate_lines_answered": approvals.get("answered", 0),
        "estimate_approval_rate": _rate(approvals.get("approved"), approvals.get("answered")),
    }
    if with_gp:
        c = costs or {"hours": Decimal(0), "parts": Decimal(0)}
        gp = revenue - c["parts"] - c["hours"] * labour_cost
        out["gross_profit"] = _money(gp)
        out["gross_profit_per_ro"] = _money(_per(gp, billed))
    return out


def _sum_cells(cells: dict[tuple[int, int | None], dict[str, Any]], keep: Any) -> dict[str, Any]:
    total: dict[str, Any] = defaultdict(int)
    for key, cell in cells.items():
        if keep(key):
            for name, value in cell.items():
                total[name] += value
    return dict(total)


def service_kpis(*, actor: Actor, period: Period, store: Any = None, advisor: Any = None,
                 now: dt.datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """Every service KPI of ``period`` in the actor's scope as plain data (the API's answer and
    the page's context); gross profit and absorption are absent for roles without cost access."""
    if not sees_service_kpis(actor) or not can(actor, "view", RepairOrder):
        raise PermissionDenied()
    now = now or timezone.now()
    scope = scope_for(actor, RepairOrder, "view")
    with_gp = sees_cost(actor)
    store_id, advisor_id = _int_param(store, "store"), _int_param(advisor, "advisor")
    group = scope is Scope.ORGANIZATION
    if store_id is not None:
        allowed = actor.organization_store_ids if group else (actor.store_id,)
        if store_id not in allowed:
            raise ValidationError(fields={"store": [_("Choose a store you may see.")]})
    if actor.role == Role.ADVISOR:
        advisor_id = actor.user_id  # an advisor's KPIs are their own
    ros = RepairOrder.objects.for_actor(actor, "view")
    if store_id is not None:
        ros = ros.filter(store_id=store_id)
    mine = ros.filter(advisor_id=advisor_id) if advisor_id is not None else ros
    delivered = mine.filter(status=RoStatus.DELIVERED, closed_at__gte=period.start, closed_at__lt=period.end)
    received = mine.filter(received_at__gte=period.start, received_at__lt=period.end)

    own_store: int = actor.store_id or 0  # sees_service_kpis: never None here
    store_ids = sorted(set(ros.order_by().values_list("store_id", flat=True).distinct())) if group else [own_store]
    cost_rows = {c.store_id: c for c in ServiceCosts.objects.filter(store_id__in=store_ids)}  # scoped: stores in scope
    labour = {pk: (c.labour_cost_per_hour if c else Decimal(0)) for pk, c in ((s, cost_rows.get(s)) for s in store_ids)}
    costs = _cost_rows(delivered) if with_gp else {}
    approvals = _approval_rows(received)

    def gp_costs(keep: Any) -> tuple[dict[str, Decimal], Decimal]:
        """Parts' cost and labour cost (hours × each store's rate) of the cells kept."""
        parts, labour_total = Decimal(0), Decimal(0)
        for (s, a), cell in costs.items():
            if keep((s, a)):
                parts += cell["parts"]
                labour_total += cell["hours"] * labour.get(s, Decimal(0))
        return {"hours": Decimal(0), "parts": parts + labour_total}, Decimal(0)

    total_row = _ro_counts(delivered, None)[0]
    c, lc = gp_costs(lambda k: True)
    totals = _figures(total_row, c, _sum_cells(approvals, lambda k: True), with_gp=with_gp, labour_cost=lc)
    totals["in_shop"] = mine.filter(status__in=IN_SHOP).count()
    retention = _retention(ros, period, now=now, advisor_id=advisor_id)
    store_retention = retention.pop("by_store")
    totals["retention_rate"] = retention["rate"]

    stores: list[dict[str, Any]] = []
    by_store = {r["store_id"]: r for r in _ro_counts(delivered, "store_id")} if group or with_gp else {}
    days = Decimal((period.end - period.start).total_seconds()) / Decimal(86400)
    absorbed_gp, absorbed_cost = Decimal(0), Decimal(0)
    names = dict(Store.objects.filter(pk__in=store_ids).values_list("pk", "name"))  # scoped: stores in scope
    for s in store_ids:
        row = by_store.get(s, {})
        c, lc = gp_costs(lambda k, s=s: k[0] == s)
        figures = _figures(row, c, _sum_cells(approvals, lambda k, s=s: k[0] == s), with_gp=with_gp, labour_cost=lc)
        setting = cost_rows.get(s)
        figures["absorption_rate"] = None
        if with_gp and setting is not None and setting.monthly_fixed_costs > 0 and advisor_id is None:
            fixed = (setting.monthly_fixed_costs * days * 12 / 365).quantize(FEN)
            gp = Decimal(figures["gross_profit"])
            figures["absorption_rate"] = round(float(gp / fixed), 4)
            figures["fixed_costs"] = _money(fixed)
            absorbed_gp += gp
            absorbed_cost += fixed
        if group:
            stores.append({"id": s, "name": names.get(s, str(s)), **figures,
                           "retention_rate": store_retention.get(s)})  # fmt: skip
    if with_gp:
        totals["absorption_rate"] = round(float(absorbed_gp / absorbed_cost), 4) if absorbed_cost else None

    adv_rows = {r["advisor_id"]: r for r in _ro_counts(delivered, "advisor_id")}
    advisor_ids = sorted({*adv_rows, *(a for _s, a in approvals)} - {None})
    people = {pk: d or u for pk, d, u in User.objects.filter(pk__in=advisor_ids)  # scoped: advisors of in-scope ROs
              .values_list("pk", "display_name", "username")}  # fmt: skip
    advisors = []
    for a in advisor_ids:
        c, lc = gp_costs(lambda k, a=a: k[1] == a)
        advisors.append({"id": a, "name": people.get(a, str(a)),
                         **_figures(adv_rows.get(a, {}), c, _sum_cells(approvals, lambda k, a=a: k[1] == a),
                                    with_gp=with_gp, labour_cost=lc)})  # fmt: skip
    return {
        "period": {"key": period.key, "label": period.label, "start": period.start, "end": period.end},
        "scope": str(Scope.ORGANIZATION if group else (Scope.OWN if actor.role == Role.ADVISOR else Scope.STORE)),
        "cost_visible": with_gp,
        "totals": totals,
        "retention": retention,
        "advisors": advisors,
        "stores": stores,
        "definitions": {"return_window_days": RETURN_WINDOW.days},
    }


def kpi_stores(actor: Actor) -> list[dict[str, Any]]:
    rows = Store.objects.filter(pk__in=actor.organization_store_ids).order_by("code").values("pk", "name")
    return [dict(row) for row in rows]  # scoped: the stores of the actor's own organization


def _scalar(qs: QuerySet[Any], aggregate: Any) -> Any:
    """``aggregate`` over ``qs`` (rows of one store) as a scalar subquery, 0 when there are none."""
    return Coalesce(Subquery(qs.order_by().values("store_id").annotate(n=aggregate).values("n")[:1]), 0,
                    output_field=DecimalField(max_digits=20, decimal_places=4))  # fmt: skip


def today_workshop(*, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The manager's home: today's delivered ROs, revenue (and gross profit) per RO, bays in use
    (cars in repair or quality check ÷ the store's bays), cars in the shop by status — two
    queries (the repair orders' counts; the store's bays, labour cost and today's costs)."""
    if actor is None or actor.role not in (Role.MANAGER, Role.SERVICE_MANAGER) or not can(actor, "view", RepairOrder):
        return None
    now = now or timezone.now()
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    end = start + dt.timedelta(days=1)
    own_store: int = actor.store_id or 0
    ros = RepairOrder.objects.for_actor(actor, "view").filter(store_id=own_store)
    today = Q(status=RoStatus.DELIVERED, closed_at__gte=start, closed_at__lt=end)
    row = ros.aggregate(
        **{f"s_{s}": Count("id", filter=Q(status=s)) for s in IN_SHOP},
        ros=Count("id", filter=today), billed=Count("id", filter=today & Q(bill__isnull=False)),
        revenue=Sum(NET, filter=today), shop_time=Avg(SHOP_TIME, filter=today),
    )  # fmt: skip
    with_gp = sees_cost(actor)
    delivered = ros.filter(today)
    store = (
        Store.objects.filter(pk=own_store)  # scoped: the actor's own store, one row to hang the figures on
        .annotate(
            bays=Subquery(ServiceSettings.objects.filter(store_id=OuterRef("pk")).values("bays")[:1]),
            rate=Subquery(ServiceCosts.objects.filter(store_id=OuterRef("pk")).values("labour_cost_per_hour")[:1]),
            hours=_scalar(Job.objects.filter(repair_order__in=delivered, approval=Approval.APPROVED), Sum("hours")),
            parts=_scalar(PartLine.objects.filter(repair_order__in=delivered, approval=Approval.APPROVED,
                                                  part__cost__isnull=False), Sum(PART_COST)),
        )
        .values("bays", "rate", "hours", "parts")
        .first()
    ) or {}  # fmt: skip
    bays = store.get("bays") or 4
    statuses = {s: row[f"s_{s}"] for s in IN_SHOP}
    in_bay = statuses[RoStatus.IN_REPAIR] + statuses[RoStatus.QUALITY_CHECK]
    figures = _figures(row, None, {}, with_gp=False, labour_cost=Decimal(0))
    gp = None
    if with_gp:
        spent = Decimal(store.get("parts") or 0) + Decimal(store.get("hours") or 0) * Decimal(store.get("rate") or 0)
        gp = _money(_per(Decimal(row.get("revenue") or 0) - spent, row.get("billed") or 0))
    labels = dict(RoStatus.choices)
    return {
        "bays": bays, "bays_in_use": in_bay, "bays_rate": _rate(min(in_bay, bays), bays),
        "by_status": [{"status": s, "label": labels[s], "count": statuses[s]} for s in IN_SHOP],
        "delivered": figures["repair_orders"], "revenue_per_ro": figures["revenue_per_ro"],
        "avg_hours_in_shop": figures["avg_hours_in_shop"], "cost_visible": with_gp, "gross_profit_per_ro": gp,
    }  # fmt: skip
