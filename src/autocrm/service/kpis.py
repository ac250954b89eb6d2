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

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, Lead, RowNumber
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


def _sql(qs: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def _redone_rows(delivered: QuerySet[RepairOrder], since: dt.datetime) -> dict[tuple[int, int | None], int]:
    """Delivered ROs followed by a comeback repeating one of their job codes — a later repair
    order of the same car in the same store, flagged a comeback, with a comeback job of the same
    code — counted per (store, advisor) in one grouped query (``since``: the period's start, before
    which no comeback of the period's ROs was received). Driven by the comeback repair
    orders (a few per cent, partial index ``ro_comeback``) joined to the period's ROs of their car
    (``ro_vehicle_received``) and the jobs of both (the foreign key's index): never a subquery
    per delivered RO."""
    ro, job = RepairOrder._meta.db_table, Job._meta.db_table
    inner, params = _sql(delivered.order_by().values("id", "store_id", "advisor_id", "vehicle_id", "closed_at"))
    sql = (
        f"SELECT d.store_id, d.advisor_id, COUNT(DISTINCT d.id) FROM ({inner}) d "
        f"JOIN {ro} cr ON cr.vehicle_id = d.vehicle_id AND cr.store_id = d.store_id AND cr.is_comeback = %s "
        f"AND cr.received_at > d.closed_at AND cr.received_at > %s "
        f"JOIN {job} cj ON cj.repair_order_id = cr.id AND cj.is_comeback = %s "
        f"WHERE EXISTS (SELECT 1 FROM {job} j WHERE j.repair_order_id = d.id AND j.code = cj.code) "
        f"GROUP BY d.store_id, d.advisor_id"
    )  # scoped: ``delivered`` is the actor's for_actor queryset; the joins stay on its cars and store
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, True, connection.ops.adapt_datetimefield_value(since), True))
        return {(s, a): n for s, a, n in cursor.fetchall()}


def _ro_counts(qs: QuerySet[RepairOrder], by: str | None) -> Any:
    counts = {
        "ros": Count("id"),
        "vehicles": Count("vehicle_id", distinct=True),
        "billed": Count("id", filter=Q(bill__isnull=False)),
        "revenue": Sum(NET),
        "shop_time": Avg(SHOP_TIME),
        "comebacks": Count("id", filter=Q(is_comeback=True)),
    }
    if by is None:
        return [qs.aggregate(**counts)]
    return qs.order_by().values(by).annotate(**counts)


def _ro_count_sets(
    qs: QuerySet[RepairOrder], *, by_store: bool
) -> tuple[dict[str, Any], dict[Any, Any], dict[Any, Any]]:
    """The repair orders' counts in total, per store (``by_store``) and per advisor. On
    PostgreSQL one scan of the period's ROs (``GROUPING SETS``); elsewhere a grouped query each."""
    if connection.vendor != "postgresql":
        grouped = {r["store_id"]: r for r in _ro_counts(qs, "store_id")} if by_store else {}
        return _ro_counts(qs, None)[0], grouped, {r["advisor_id"]: r for r in _ro_counts(qs, "advisor_id")}
    inner, params = _sql(
        qs.order_by().annotate(k_bill=F("bill__id"), k_net=NET, k_shop=SHOP_TIME)
        .values("id", "store_id", "advisor_id", "vehicle_id", "is_comeback", "k_bill", "k_net", "k_shop")
    )  # fmt: skip
    sql = (
        "SELECT GROUPING(d.store_id), GROUPING(d.advisor_id), d.store_id, d.advisor_id, COUNT(d.id), "
        "COUNT(DISTINCT d.vehicle_id), COUNT(d.k_bill), SUM(d.k_net), AVG(d.k_shop), "
        f"COUNT(d.id) FILTER (WHERE d.is_comeback) FROM ({inner}) d "
        "GROUP BY GROUPING SETS ((), (d.store_id), (d.advisor_id))"
    )  # scoped: ``qs`` is the actor's for_actor queryset
    total: dict[str, Any] = {}
    stores: dict[Any, Any] = {}
    advisors: dict[Any, Any] = {}
    names = ("ros", "vehicles", "billed", "revenue", "shop_time", "comebacks")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for g_store, g_advisor, s, a, *values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if g_store and g_advisor:
                total = row
            elif g_advisor:
                stores[s] = {"store_id": s, **row}
            else:
                advisors[a] = {"advisor_id": a, **row}
    return total, (stores if by_store else {}), advisors


def _line_rows(
    mine: QuerySet[RepairOrder], delivered: Q, received: Q, *, with_cost: bool
) -> tuple[dict[tuple[int, int | None], dict[str, Decimal]], dict[tuple[int, int | None], dict[str, int]]]:
    """Per (store, advisor): approved labour hours and parts' cost of the ROs ``delivered`` in the
    period (``with_cost``), and the lines the owner answered (approved or declined) on the ROs
    ``received`` in it — one grouped query over the jobs and one over the part lines of both."""
    costs: dict[tuple[int, int | None], dict[str, Decimal]] = defaultdict(
        lambda: {"hours": Decimal(0), "parts": Decimal(0)}
    )
    approvals: dict[tuple[int, int | None], dict[str, int]] = defaultdict(lambda: {"answered": 0, "approved": 0})
    keys = ("repair_order__store_id", "repair_order__advisor_id")
    on = {"delivered": _on_ro(delivered), "received": _on_ro(received)}
    ros = mine.filter(delivered | received) if with_cost else mine.filter(received)
    answered = Q(approval__in=(Approval.APPROVED, Approval.DECLINED)) & on["received"]
    approved = Q(approval=Approval.APPROVED)
    for model, cost in ((Job, Sum("hours", filter=approved & on["delivered"])),
                        (PartLine, Sum(PART_COST, filter=approved & on["delivered"] & Q(part__cost__isnull=False)))):  # fmt: skip
        sums: dict[str, Any] = {"n": Count("id", filter=answered), "ok": Count("id", filter=answered & approved)}
        if with_cost:
            sums["c"] = cost
        rows = (model.objects.filter(repair_order__in=ros)  # scoped: the lines of in-scope ROs
                .order_by().values(*keys).annotate(**sums))  # fmt: skip
        for row in rows:
            key = (row[keys[0]], row[keys[1]])
            if row["n"]:
                approvals[key]["answered"] += row["n"]
                approvals[key]["approved"] += row["ok"]
            if with_cost and row["c"]:
                costs[key]["hours" if model is Job else "parts"] += Decimal(row["c"])
    return costs, approvals


def _on_ro(condition: Q) -> Q:
    """``condition`` on a repair order's fields, as seen from its lines (``repair_order__…``)."""
    pairs: list[tuple[str, Any]] = [child for child in condition.children if isinstance(child, tuple)]
    return Q(*((f"repair_order__{k}", v) for k, v in pairs), _connector=condition.connector)


def _retention(visits_qs: QuerySet[RepairOrder], period: Period, *, now: dt.datetime,
               advisor_id: int | None) -> dict[str, Any]:  # fmt: skip
    """Retention over the cars' delivered, non-comeback visits, in one grouped query: the visits
    of the cars with a visit in the cohort (their whole history, to number the visits) are
    numbered and paired with the car's next visit by window functions (``ROW_NUMBER``, ``LEAD``
    over the car's visits by delivery), then the cohort's rows are counted per visit bucket and
    store; overall, by visit number and by store (``by_store``: store id → rate)."""
    last = min(period.end, now)
    visits = visits_qs.filter(status=RoStatus.DELIVERED, is_comeback=False, closed_at__isnull=False, closed_at__lt=last)
    cohort = visits.filter(closed_at__gte=period.start - RETURN_WINDOW, closed_at__lt=last - RETURN_WINDOW)
    by_car, in_order = [F("vehicle_id")], [F("closed_at").asc(), F("pk").asc()]
    numbered = (
        visits.filter(vehicle_id__in=cohort.values("vehicle_id"))
        .order_by()
        .annotate(
            k_n=Window(RowNumber(), partition_by=by_car, order_by=in_order),
            k_next=Window(Lead("closed_at"), partition_by=by_car, order_by=in_order),
            k_deadline=ExpressionWrapper(F("closed_at") + RETURN_WINDOW, output_field=DateTimeField()),
        )
        .values("store_id", "advisor_id", "closed_at", "k_n", "k_next", "k_deadline")
    )
    inner, params = _sql(numbered)
    adapt = connection.ops.adapt_datetimefield_value
    where = "v.closed_at >= %s AND v.closed_at < %s" + (" AND v.advisor_id = %s" if advisor_id is not None else "")
    bounds = (adapt(period.start - RETURN_WINDOW), adapt(last - RETURN_WINDOW))
    sql = (
        f"SELECT CASE WHEN v.k_n > {VISIT_BUCKETS} THEN {VISIT_BUCKETS} ELSE v.k_n END, v.store_id, COUNT(*), "
        f"SUM(CASE WHEN v.k_next IS NOT NULL AND v.k_next <= v.k_deadline THEN 1 ELSE 0 END) "
        f"FROM ({inner}) v WHERE {where} GROUP BY 1, 2"
    )  # scoped: ``visits_qs`` is the actor's for_actor queryset
    due = [0] * (VISIT_BUCKETS + 1)
    kept = [0] * (VISIT_BUCKETS + 1)
    per_store: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *bounds, *(() if advisor_id is None else (advisor_id,))))
        for bucket, s, n, back in cursor.fetchall():
            due[bucket] += n
            kept[bucket] += back or 0
            per_store[s][0] += n
            per_store[s][1] += back or 0
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
    was_delivered = Q(status=RoStatus.DELIVERED, closed_at__gte=period.start, closed_at__lt=period.end)
    was_received = Q(received_at__gte=period.start, received_at__lt=period.end)
    delivered = mine.filter(was_delivered)

    own_store: int = actor.store_id or 0  # sees_service_kpis: never None here
    if not group:
        store_ids = [own_store]
    else:  # every store of the group (one without repair orders shows zeros), never a scan of the ROs
        store_ids = [store_id] if store_id is not None else sorted(actor.organization_store_ids)
    cost_rows = {c.store_id: c for c in ServiceCosts.objects.filter(store_id__in=store_ids)}  # scoped: stores in scope
    labour = {pk: (c.labour_cost_per_hour if c else Decimal(0)) for pk, c in ((s, cost_rows.get(s)) for s in store_ids)}
    costs, approvals = _line_rows(mine, was_delivered, was_received, with_cost=with_gp)

    def gp_costs(keep: Any) -> tuple[dict[str, Decimal], Decimal]:
        """Parts' cost and labour cost (hours × each store's rate) of the cells kept."""
        parts, labour_total = Decimal(0), Decimal(0)
        for (s, a), cell in costs.items():
            if keep((s, a)):
                parts += cell["parts"]
                labour_total += cell["hours"] * labour.get(s, Decimal(0))
        return {"hours": Decimal(0), "parts": parts + labour_total}, Decimal(0)

    redone = _redone_rows(delivered, period.start)

    def first_fixed(row: dict[str, Any], keep: Any) -> dict[str, Any]:
        """``row`` with ``fixed``: its delivered ROs less those redone (the cells kept)."""
        again = sum(n for key, n in redone.items() if keep(key))
        return {**row, "fixed": (row.get("ros") or 0) - again} if row else row

    total_counts, store_counts, advisor_counts = _ro_count_sets(delivered, by_store=group or with_gp)
    total_row = first_fixed(total_counts, lambda k: True)
    c, lc = gp_costs(lambda k: True)
    totals = _figures(total_row, c, _sum_cells(approvals, lambda k: True), with_gp=with_gp, labour_cost=lc)
    totals["in_shop"] = mine.filter(status__in=IN_SHOP).count()
    retention = _retention(ros, period, now=now, advisor_id=advisor_id)
    store_retention = retention.pop("by_store")
    totals["retention_rate"] = retention["rate"]

    stores: list[dict[str, Any]] = []
    by_store = store_counts
    days = Decimal((period.end - period.start).total_seconds()) / Decimal(86400)
    absorbed_gp, absorbed_cost = Decimal(0), Decimal(0)
    names = dict(Store.objects.filter(pk__in=store_ids).values_list("pk", "name"))  # scoped: stores in scope
    for s in store_ids:
        row = first_fixed(by_store.get(s, {}), lambda k, s=s: k[0] == s)
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

    adv_rows = advisor_counts
    advisor_ids = sorted({*adv_rows, *(a for _s, a in approvals)} - {None})
    people = {pk: d or u for pk, d, u in User.objects.filter(pk__in=advisor_ids)  # scoped: advisors of in-scope ROs
              .values_list("pk", "display_name", "username")}  # fmt: skip
    advisors = []
    for a in advisor_ids:
        c, lc = gp_costs(lambda k, a=a: k[1] == a)
        advisors.append({"id": a, "name": people.get(a, str(a)),
                         **_figures(first_fixed(adv_rows.get(a, {}), lambda k, a=a: k[1] == a), c, _sum_cells(approvals, lambda k, a=a: k[1] == a),
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
