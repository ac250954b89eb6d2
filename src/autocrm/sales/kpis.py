"""Sales KPIs (销售指标, issue 13 item 9): reads over leads and deals in the actor's scope, each
an aggregate computed by the database (no rows are brought back to count them).

Scope is the rule table's: a consultant's figures are their own leads and deals, the sales
manager's, store manager's and finance specialist's the store's, the director's the group's
(with a per-store breakdown). ``store`` narrows a director to one store, ``consultant`` a
manager to one consultant. Lead figures are by the month a lead *arrived* (a cohort: the visit
and order rates of March's leads); deal figures by the day a car was *delivered*.

Definitions (what the page's tooltips say):

* first response: ``first_contact_at − arrived_at`` (wall-clock minutes) of the period's
  contacted leads, median and 90th percentile (the row at that rank, ordered in the database);
  "on time" is a first contact by ``first_contact_due`` (the business-hours target).
* lead-to-visit (线索到店率): leads with a store visit (a visit activity, or a deal that reached
  the visit stage) ÷ leads. Visit-to-order: of those, leads whose deal reached the order ÷ visits.
  Test-drive rate: visited leads whose deal has a test drive not cancelled ÷ visits.
* deal cycle (成交周期): median days from the lead's arrival to delivery.
* gross profit per vehicle (单车毛利): agreed price − stock cost, averaged over the period's
  deliveries with both known; ``None`` for roles without cost access (``sales.permissions``).
* finance penetration: deliveries whose finance was approved ÷ deliveries; insurance: deliveries
  with an insurer or an accepted quote that includes insurance ÷ deliveries.
* repurchase rate: of the customers who took delivery in the period, those with two or more
  won deals (any time up to the period's end).
* lost reasons: approved lost requests decided in the period, by reason.
* radar (0–100 per consultant): response speed = share of first contacts on time; follow-up
  discipline = of the next actions set by the period's activities that fell due (a day's grace),
  the share kept — the lead touched again by then, or closed; conversion = won ÷
  leads, full marks at 10 %; gross profit = GP per vehicle, full marks at ¥10,000 (hidden without
  cost access); satisfaction ``None`` until surveys exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
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
from autocrm.core.periods import MAX_CUSTOM_DAYS, PERIOD_LABELS, PERIODS, Period, period_parse  # noqa: F401  (re-exported)
from autocrm.core.periods import midnight as _midnight
from autocrm.core.permissions import Scope, can, scope_for
from autocrm.leads.choices import CONTACT_KINDS, ActivityKind, LeadSource, LeadStatus
from autocrm.leads.models import Lead, LeadActivity, LostRequest
from autocrm.tenancy.models import Store

from .choices import STAGE_ORDER, DealStatus, QuoteStatus, Stage, TestDriveStatus
from .models import Deal, DealStageChange, Quote, TestDrive
from .permissions import KPI_ROLES, sees_gross_profit

# The default lost reasons (leads.choices.DEFAULT_LOST_REASONS) by name; a store's own reasons show as typed.
LOST_REASON_LABELS = {
    "bought_competitor": _("Bought a competitor's car"),
    "bought_elsewhere": _("Bought from another dealer"),
    "price": _("Price"),
    "no_longer_buying": _("No longer buying"),
    "unreachable": _("Unreachable"),
    "finance_refused": _("Finance refused"),
    "other": _("Other"),
}
VISIT_OR_LATER = STAGE_ORDER[STAGE_ORDER.index(Stage.VISIT) :]
ORDER_OR_LATER = STAGE_ORDER[STAGE_ORDER.index(Stage.ORDER) :]
CONVERSION_FULL_MARKS = 0.10
GROSS_PROFIT_FULL_MARKS = Decimal("10000")
FOLLOW_UP_GRACE = dt.timedelta(days=1)


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


def kpi_scope(actor: Actor) -> Scope:
    """The widest scope the actor's KPIs cover (403 for a role without KPIs)."""
    if actor is None or actor.role not in KPI_ROLES or actor.store_id is None:
        raise PermissionDenied()
    scopes = [s for s in (scope_for(actor, Lead, "view"), scope_for(actor, Deal, "view")) if s is not None]
    if not scopes:
        raise PermissionDenied()
    for wide in (Scope.ORGANIZATION, Scope.STORE):
        if wide in scopes:
            return wide
    return scopes[0]


def _rate(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole and part is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(Decimal('0.01'))}"


def _minutes(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def _nth(qs: QuerySet[Any], expression: Any, count: int, fraction: float) -> Any:
    """The value at ``fraction`` of ``qs`` ordered by ``expression`` (nearest rank), chosen by
    the database: ordered, offset, one row."""
    if not count:
        return None
    rank = max(0, min(count - 1, round(fraction * (count - 1))))
    rows = qs.annotate(_v=expression).order_by("_v").values_list("_v", flat=True)[rank : rank + 1]
    return next(iter(rows), None)


RESPONSE = ExpressionWrapper(F("first_contact_at") - F("arrived_at"), output_field=DurationField())
CYCLE = ExpressionWrapper(F("delivered_at") - F("lead__arrived_at"), output_field=DurationField())
GROSS = ExpressionWrapper(
    F("agreed_price") - F("stock_vehicle__cost"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


def _lead_flags(qs: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads annotated with whether they visited, test-drove and ordered (EXISTS subqueries on
    the lead's own activities and deals: same store, same lead)."""
    deals = Deal.objects.filter(lead=OuterRef("pk"))  # scoped: the deals of an in-scope lead
    visit = LeadActivity.objects.filter(lead=OuterRef("pk"), kind=ActivityKind.VISIT)  # scoped: the lead's own
    drives = TestDrive.objects.filter(deal__lead=OuterRef("pk")).exclude(
        status=TestDriveStatus.CANCELLED
    )  # scoped: the lead's own
    return qs.annotate(
        k_visit=Exists(visit) | Exists(deals.filter(stage__in=VISIT_OR_LATER)),
        k_drive=Exists(drives),
        k_order=Exists(deals.filter(stage__in=ORDER_OR_LATER)),
    )


def _lead_counts(qs: QuerySet[Lead], by: str | None = None) -> Any:
    counts = {
        "leads": Count("id"),
        "contacted": Count("id", filter=Q(first_contact_at__isnull=False)),
        "on_time": Count("id", filter=Q(first_contact_at__isnull=False, first_contact_at__lte=F("first_contact_due"))),
        "visits": Count("id", filter=Q(k_visit=True)),
        "test_drives": Count("id", filter=Q(k_visit=True, k_drive=True)),
        "orders": Count("id", filter=Q(k_visit=True, k_order=True)),
        "won": Count("id", filter=Q(status=LeadStatus.WON)),
    }
    flagged = _lead_flags(qs)
    if by is None:
        return flagged.aggregate(**counts)
    return flagged.order_by().values(by).annotate(**counts)


def _deal_counts(qs: QuerySet[Deal], *, with_gp: bool, by: str | None = None) -> Any:
    insured = Quote.objects.filter(  # scoped: the deal's own quotes
        deal=OuterRef("pk"), insurance__gt=0, status__in=(QuoteStatus.DRAFT, QuoteStatus.APPROVED)
    )
    counts: dict[str, Any] = {
        "deliveries": Count("id"),
        "financed": Count("id", filter=Q(finance_approved_at__isnull=False)),
        "insured": Count("id", filter=~Q(insurer="") | Q(k_insured=True)),
    }
    if with_gp:
        known = Q(agreed_price__isnull=False, stock_vehicle__cost__isnull=False)
        counts["gp_total"] = Sum(GROSS, filter=known)
        counts["gp_count"] = Count("id", filter=known)
    annotated = qs.annotate(k_insured=Exists(insured))
    if by is None:
        return annotated.aggregate(**counts)
    return annotated.order_by().values(by).annotate(**counts)


def _gp_avg(row: dict[str, Any]) -> Decimal | None:
    total, count = row.get("gp_total"), row.get("gp_count")
    return (Decimal(total) / count).quantize(Decimal("0.01")) if count and total is not None else None


def _radar(lead: dict[str, Any], deal: dict[str, Any], follow: dict[str, Any], *, with_gp: bool) -> dict[str, Any]:
    def score(value: float | None) -> int | None:
        return None if value is None else max(0, min(100, round(value * 100)))

    conversion = _rate(lead.get("won"), lead.get("leads"))
    gp = _gp_avg(deal) if with_gp else None
    due, kept = follow.get("due") or 0, follow.get("kept") or 0
    return {
        "response_speed": score(_rate(lead.get("on_time"), lead.get("contacted"))),
        "follow_up": score(kept / due) if due else None,
        "conversion": score(conversion / CONVERSION_FULL_MARKS) if conversion is not None else None,
        "gross_profit": score(float(gp / GROSS_PROFIT_FULL_MARKS)) if gp is not None else None,
        "satisfaction": None,  # until surveys exist
    }


def _lead_figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "leads": row["leads"],
        "visits": row["visits"],
        "test_drives": row["test_drives"],
        "orders": row["orders"],
        "won": row["won"],
        "first_response_on_time_rate": _rate(row["on_time"], row["contacted"]),
        "lead_to_visit_rate": _rate(row["visits"], row["leads"]),
        "visit_to_order_rate": _rate(row["orders"], row["visits"]),
        "test_drive_rate": _rate(row["test_drives"], row["visits"]),
        "lead_to_deal_rate": _rate(row["won"], row["leads"]),
    }


def _deal_figures(row: dict[str, Any], *, with_gp: bool) -> dict[str, Any]:
    return {
        "deliveries": row["deliveries"],
        "finance_penetration": _rate(row["financed"], row["deliveries"]),
        "insurance_penetration": _rate(row["insured"], row["deliveries"]),
        **({"gross_profit_per_vehicle": _money(_gp_avg(row))} if with_gp else {}),
    }


_EMPTY_LEADS = {"leads": 0, "contacted": 0, "on_time": 0, "visits": 0, "test_drives": 0, "orders": 0, "won": 0}
_EMPTY_DEALS = {"deliveries": 0, "financed": 0, "insured": 0, "gp_total": None, "gp_count": 0}


def sales_kpis(
    *,
    actor: Actor,
    period: Period,
    store: Any = None,
    consultant: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every KPI of ``period`` in the actor's scope, as plain data (the API's answer and the
    page's context). ``gross_profit_per_vehicle`` and the radar's ``gross_profit`` are absent
    or ``None`` for a role without cost access."""
    now = now or timezone.now()
    scope = kpi_scope(actor)
    with_gp = sees_gross_profit(actor)
    store_id, consultant_id = _int_param(store, "store"), _int_param(consultant, "consultant")
    if store_id is not None:
        allowed = actor.organization_store_ids if scope is Scope.ORGANIZATION else (actor.store_id,)
        if store_id not in allowed:
            raise ValidationError(fields={"store": [_("Choose a store you may see.")]})
    see_leads = can(actor, "view", Lead)
    leads = Lead.objects.for_actor(actor, "view") if see_leads else Lead.objects.none()
    deals = Deal.objects.for_actor(actor, "view")
    lost = (
        LostRequest.objects.for_actor(actor, "view") if can(actor, "view", LostRequest) else LostRequest.objects.none()
    )
    if store_id is not None:
        leads, deals, lost = (
            leads.filter(store_id=store_id),
            deals.filter(store_id=store_id),
            lost.filter(store_id=store_id),
        )
    if consultant_id is not None:
        leads, deals = leads.filter(consultant_id=consultant_id), deals.filter(consultant_id=consultant_id)
        lost = lost.filter(lead__consultant_id=consultant_id)
    arrived = leads.filter(arrived_at__gte=period.start, arrived_at__lt=period.end).exclude(status=LeadStatus.MERGED)
    delivered = deals.filter(status=DealStatus.WON, delivered_at__gte=period.start, delivered_at__lt=period.end)

    lead_row = _lead_counts(arrived) if see_leads else dict(_EMPTY_LEADS)
    deal_row = _deal_counts(delivered, with_gp=with_gp)
    contacted = arrived.filter(first_contact_at__isnull=False)
    median = _nth(contacted, RESPONSE, lead_row["contacted"], 0.5) if see_leads else None
    p90 = _nth(contacted, RESPONSE, lead_row["contacted"], 0.9) if see_leads else None
    with_lead = delivered.filter(lead__isnull=False)
    cycle_count = with_lead.count() if deal_row["deliveries"] else 0
    cycle = _nth(with_lead, CYCLE, cycle_count, 0.5)
    labels = {value: str(label) for value, label in LeadSource.choices}
    by_source = [
        {"source": r["source_channel"], "label": labels.get(r["source_channel"], r["source_channel"] or "—"),
         "count": r["n"]}
        for r in arrived.order_by().values("source_channel").annotate(n=Count("id")).order_by("-n", "source_channel")
    ] if see_leads else []  # fmt: skip
    customers = delivered.filter(customer__isnull=False)
    repeat = Deal.objects.filter(  # scoped: the won deals of a customer delivered in scope
        customer=OuterRef("customer"), status=DealStatus.WON, delivered_at__lt=period.end
    ).exclude(pk=OuterRef("pk"))
    rep = customers.annotate(k_rep=Exists(repeat)).aggregate(
        customers=Count("customer", distinct=True), repeat=Count("customer", distinct=True, filter=Q(k_rep=True))
    )
    reasons = [
        {"reason": r["reason"], "label": str(LOST_REASON_LABELS.get(r["reason"], r["reason"])), "count": r["n"]}
        for r in lost.filter(status="approved", decided_at__gte=period.start, decided_at__lt=period.end)
        .order_by().values("reason").annotate(n=Count("id")).order_by("-n", "reason")
    ]  # fmt: skip
    result: dict[str, Any] = {
        "period": {"key": period.key, "label": period.label, "start": period.start, "end": period.end},
        "scope": str(scope),
        "store": store_id,
        "consultant": consultant_id,
        "cost_visible": with_gp,
        "totals": {
            **_lead_figures(lead_row),
            **_deal_figures(deal_row, with_gp=with_gp),
            "first_response_median_minutes": _minutes(median),
            "first_response_p90_minutes": _minutes(p90),
            "deal_cycle_median_days": round(cycle.total_seconds() / 86400, 1) if cycle is not None else None,
            "repurchase_customers": rep["customers"],
            "repurchase_rate": _rate(rep["repeat"], rep["customers"]),
        },
        "by_source": by_source,
        "lost_reasons": reasons,
        "funnel": [
            {"key": "leads", "count": lead_row["leads"]},
            {"key": "visits", "count": lead_row["visits"]},
            {"key": "test_drives", "count": lead_row["test_drives"]},
            {"key": "orders", "count": lead_row["orders"]},
            {"key": "won", "count": lead_row["won"]},
        ],
    }
    activities = LeadActivity.objects.for_actor(actor, "view").filter(
        lead__in=leads, at__gte=period.start, at__lt=period.end
    )
    result["consultants"] = (
        _by_consultant(arrived, delivered, activities, now=now, with_gp=with_gp) if see_leads else []
    )
    result["stores"] = _by_store(arrived, delivered, with_gp=with_gp) if scope is Scope.ORGANIZATION else []
    return result


def _follow_ups(activities: QuerySet[LeadActivity], *, now: dt.datetime) -> Any:
    """Per consultant: the next actions that fell due (by now, with a day's grace) of the
    period's activities, and how many were kept — the lead touched again (call, WeChat, SMS,
    visit) by then, or closed by then."""
    due_by = ExpressionWrapper(F("next_action_at") + FOLLOW_UP_GRACE, output_field=DateTimeField())
    kept = LeadActivity.objects.filter(  # scoped: the same lead's later touches
        lead=OuterRef("lead"), kind__in=CONTACT_KINDS, at__gt=OuterRef("at"), at__lte=OuterRef("k_due_by")
    )
    return (
        activities.filter(next_action_at__isnull=False, next_action_at__lt=now - FOLLOW_UP_GRACE)
        .annotate(k_due_by=due_by)
        .annotate(k_kept=Exists(kept) | Q(lead__closed_at__isnull=False, lead__closed_at__lte=F("k_due_by")))
        .order_by()
        .values("lead__consultant_id")
        .annotate(due=Count("id"), kept=Count("id", filter=Q(k_kept=True)))
    )


def _by_consultant(
    arrived: QuerySet[Lead],
    delivered: QuerySet[Deal],
    activities: QuerySet[LeadActivity],
    *,
    now: dt.datetime,
    with_gp: bool,
) -> list[dict[str, Any]]:
    """One row per consultant with their figures and radar (three grouped queries and the names)."""
    lead_rows = {r["consultant_id"]: r for r in _lead_counts(arrived.filter(consultant__isnull=False), "consultant_id")}
    deal_rows = {r["consultant_id"]: r for r in _deal_counts(delivered, with_gp=with_gp, by="consultant_id")}
    follow = {r["lead__consultant_id"]: r for r in _follow_ups(activities, now=now)}
    ids = sorted({*lead_rows, *deal_rows} - {None})
    names = {
        pk: display or username
        for pk, display, username in User.objects.filter(pk__in=ids).values_list("pk", "display_name", "username")
    }  # scoped: the names of the consultants whose figures are in scope
    rows = []
    for pk in ids:
        lead, deal = lead_rows.get(pk, _EMPTY_LEADS), deal_rows.get(pk, _EMPTY_DEALS)
        rows.append({
            "id": pk, "name": names.get(pk, str(pk)), **_lead_figures(lead), **_deal_figures(deal, with_gp=with_gp),
            "radar": _radar(lead, deal, follow.get(pk, {}), with_gp=with_gp),
        })  # fmt: skip
    return rows


def _by_store(arrived: QuerySet[Lead], delivered: QuerySet[Deal], *, with_gp: bool) -> list[dict[str, Any]]:
    lead_rows = {r["store_id"]: r for r in _lead_counts(arrived, "store_id")}
    deal_rows = {r["store_id"]: r for r in _deal_counts(delivered, with_gp=with_gp, by="store_id")}
    ids = sorted({*lead_rows, *deal_rows})
    names = dict(Store.objects.filter(pk__in=ids).values_list("pk", "name"))  # scoped: stores of in-scope rows
    return [
        {"id": pk, "name": names.get(pk, str(pk)), **_lead_figures(lead_rows.get(pk, _EMPTY_LEADS)),
         **_deal_figures(deal_rows.get(pk, _EMPTY_DEALS), with_gp=with_gp)}
        for pk in ids
    ]  # fmt: skip


def kpi_stores(actor: Actor) -> list[dict[str, Any]]:
    """The stores a group-wide actor may narrow the KPIs to (its organization's)."""
    rows = Store.objects.filter(pk__in=actor.organization_store_ids).order_by("code").values("pk", "name")
    return [dict(row) for row in rows]  # scoped: the stores of the actor's own organization


def _scalar(qs: QuerySet[Any], aggregate: Any) -> Any:
    """``aggregate`` over ``qs`` (rows of one store) as a scalar subquery, 0 when there are none."""
    return Coalesce(Subquery(qs.order_by().values("store_id").annotate(n=aggregate).values("n")[:1]), 0)


def today_funnel(*, actor: Actor, now: dt.datetime | None = None) -> dict[str, int] | None:
    """Today's funnel of the actor's store for the manager's home: new leads, first contacts,
    leads that visited, test drives, orders and deliveries today — one query (a scalar subquery
    per step, each on its table's own rows of today)."""
    if not can(actor, "assign", Lead) or actor.store_id is None:
        return None
    now = now or timezone.now()
    start = _midnight(timezone.localdate(now))
    end = start + dt.timedelta(days=1)
    leads = Lead.objects.for_actor(actor, "view")
    changes = DealStageChange.objects.for_actor(actor, "view").filter(at__gte=start, at__lt=end)
    row = (
        Store.objects.filter(pk=actor.store_id)  # scoped: the actor's own store, one row to hang the counts on
        .annotate(
            new=_scalar(leads.filter(arrived_at__gte=start, arrived_at__lt=end).exclude(status=LeadStatus.MERGED),
                        Count("pk")),
            contacted=_scalar(leads.filter(first_contact_at__gte=start, first_contact_at__lt=end), Count("pk")),
            visits=_scalar(
                LeadActivity.objects.for_actor(actor, "view").filter(kind=ActivityKind.VISIT, at__gte=start, at__lt=end),
                Count("lead", distinct=True),
            ),
            test_drives=_scalar(
                TestDrive.objects.for_actor(actor, "view").filter(starts_at__gte=start, starts_at__lt=end)
                .exclude(status=TestDriveStatus.CANCELLED),
                Count("pk"),
            ),
            orders=_scalar(changes.filter(to_stage__in=ORDER_OR_LATER).exclude(from_stage__in=ORDER_OR_LATER),
                           Count("deal", distinct=True)),
            deliveries=_scalar(changes.filter(to_stage=Stage.DELIVERY), Count("deal", distinct=True)),
        )
        .values("new", "contacted", "visits", "test_drives", "orders", "deliveries")
        .first()
    )  # fmt: skip
    return {k: int(v) for k, v in (row or {}).items()}
