"""Reads of sales, always from the actor's scope."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import Scope, get_in_scope, require_model, rule_table, scope_for, store_ids_for
from autocrm.leads.models import Lead

from .choices import STAGE_ORDER, DealStatus, Sensitivity, StockStatus
from .models import Deal, DealDocument, NeedsAnalysis, Quote, SalesScript, SalesSettings, StockVehicle, TestDrive

MAX_ID = 2**63 - 1


def _id(value: Any, field: str) -> int:
    """An id filter: a whole number a database column can hold (else 400, on every database)."""
    try:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(fields={field: [_("Enter a whole number.")]}) from None
    return number


def settings_for(store_id: int) -> SalesSettings:
    """The store's sales rules; an unsaved row with the defaults when the store never set them."""
    found = SalesSettings.objects.filter(store_id=store_id).first()  # scoped: the caller's store, rules not data
    return found if found is not None else SalesSettings(store_id=store_id)


def deal_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[Deal]:
    """Deals the actor may see, newest change first; ``stage``, ``status``, ``consultant`` and
    ``q`` (the customer's name, the model) narrow it."""
    filters = filters or {}
    qs: QuerySet[Deal] = Deal.objects.for_actor(actor, "view").select_related("stock_vehicle", "consultant")
    if filters.get("stage"):
        if filters["stage"] not in STAGE_ORDER:
            raise ValidationError(fields={"stage": [_("Choose one of the listed values.")]})
        qs = qs.filter(stage=filters["stage"])
    if filters.get("status"):
        if filters["status"] not in DealStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=filters["status"])
    if filters.get("consultant"):
        qs = qs.filter(consultant_id=_id(filters["consultant"], "consultant"))
    if filters.get("customer"):
        qs = qs.filter(customer_id=_id(filters["customer"], "customer"))
    if filters.get("q"):
        q = str(filters["q"])[:100]
        qs = qs.filter(Q(name__icontains=q) | Q(model_interest__icontains=q))
    return qs


def deal_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(deal_list(actor=actor, filters=filters), ordering=("-updated_at", "-id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def deal_get(*, actor: Actor, pk: Any, action: str = "view") -> Deal:
    return get_in_scope(Deal.objects.select_related("stock_vehicle", "lead", "customer"), actor, pk, action)


def document_get(*, actor: Actor, deal: Deal, pk: Any) -> DealDocument:
    """One document of a deal the actor already sees (404 otherwise)."""
    return get_in_scope(DealDocument.objects.filter(deal=deal), actor, pk)


def test_drive_page(*, actor: Actor, deal_id: Any = None, limit: Any = None, cursor: Any = None) -> Page:
    qs = TestDrive.objects.for_actor(actor, "view").select_related("vehicle")
    if deal_id:
        qs = qs.filter(deal_id=_id(deal_id, "deal"))
    return paginate(qs, ordering=("-starts_at", "-id"), limit=limit, cursor=cursor)


def test_drive_get(*, actor: Actor, pk: Any, action: str = "view") -> TestDrive:
    return get_in_scope(TestDrive.objects.select_related("deal", "vehicle"), actor, pk, action)


def quote_page(
    *, actor: Actor, deal_id: Any = None, status: str | None = None, limit: Any = None, cursor: Any = None
) -> Page:
    qs = Quote.objects.for_actor(actor, "view")
    if deal_id:
        qs = qs.filter(deal_id=_id(deal_id, "deal"))
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, ordering=("-created_at", "-id"), limit=limit, cursor=cursor)


def quote_get(*, actor: Actor, pk: Any, action: str = "view") -> Quote:
    return get_in_scope(Quote.objects.select_related("deal"), actor, pk, action)


def stock_get(*, actor: Actor, pk: Any, action: str = "view") -> StockVehicle:
    return get_in_scope(StockVehicle, actor, pk, action)


def ageing_level(age_days: int, thresholds: list[int]) -> int | None:
    """The highest alert threshold ``age_days`` has reached (库龄 60/90/120 …), else None."""
    reached = [t for t in sorted(thresholds) if age_days >= t]
    return reached[-1] if reached else None


def stock_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[StockVehicle]:
    """Stock the actor may see, oldest arrival first (the ageing cars on top); ``status``,
    ``q`` (model, VIN tail) and ``min_age`` (days) narrow it."""
    require_model(actor, "view", StockVehicle)
    filters = filters or {}
    qs: QuerySet[StockVehicle] = StockVehicle.objects.for_actor(actor, "view")
    if filters.get("status"):
        if filters["status"] not in StockStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=filters["status"])
    if filters.get("q"):
        q = str(filters["q"])[:100]
        qs = qs.filter(Q(model_name__icontains=q) | Q(vin__endswith=q.upper()))
    if filters.get("min_age") not in (None, ""):
        try:
            days = int(filters["min_age"])
            if not 0 <= days <= 36500:
                raise ValueError
        except (TypeError, ValueError):
            raise ValidationError(fields={"min_age": [_("Enter a whole number of days.")]}) from None
        qs = qs.filter(arrival_date__lte=timezone.localdate() - dt.timedelta(days=days))
    return qs


def stock_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(stock_list(actor=actor, filters=filters), ordering=("arrival_date", "id"), limit=limit,
                    cursor=cursor)  # fmt: skip


@dataclass(frozen=True)
class Prospect:
    """A customer (or a lead not yet a customer) interested in a class of car who looks price
    sensitive, with why: the signals found."""

    deal_id: int
    name: str
    consultant: str
    model_interest: str
    signals: tuple[str, ...]


def price_sensitive_prospects(*, actor: Actor, stock: StockVehicle) -> list[Prospect]:
    """For an ageing car: the open deals of the store interested in its class or model whose
    customer looks price sensitive — said so at a test drive or in the needs analysis, asked for
    a discount above the consultant's authority, or has a budget below the list price. The list
    a campaign can work (exported as CSV): whoever may export the store's stock (marketing, the
    managers) gets it, without reading the deals otherwise."""
    require_model(actor, "export", StockVehicle)
    # scoped: the export right on this store's stock (a car read in scope) is the right to this list
    deals = Deal.objects.filter(store_id=stock.store_id, status=DealStatus.OPEN)
    interest = Q(model_interest__icontains=stock.model_name.split(" ")[0])
    if stock.series_id:
        interest |= Q(series_id=stock.series_id)
    if stock.vehicle_class:
        interest |= Q(series__vehicle_class=stock.vehicle_class)
    deals = deals.filter(interest).select_related("consultant")[:5000]
    by_id = {d.pk: d for d in deals}
    signals: dict[int, set[str]] = {pk: set() for pk in by_id}
    high = (Sensitivity.HIGH, Sensitivity.MEDIUM)
    for deal_id in TestDrive.objects.filter(deal_id__in=by_id, price_sensitivity__in=high).values_list(
        "deal_id", flat=True
    ):  # scoped: deals read in scope above
        signals[deal_id].add("test_drive")
    for deal_id, budget_max, sensitivity in NeedsAnalysis.objects.filter(deal_id__in=by_id).values_list(
        "deal_id", "budget_max", "price_sensitivity"
    ):  # scoped: deals read in scope above
        if sensitivity in high:
            signals[deal_id].add("needs_analysis")
        if budget_max is not None and stock.list_price is not None and budget_max < stock.list_price:
            signals[deal_id].add("budget_below_price")
    for deal_id in Quote.objects.filter(deal_id__in=by_id, status__in=("pending_approval", "rejected")).values_list(
        "deal_id", flat=True
    ):  # scoped: deals read in scope above
        signals[deal_id].add("asked_discount")
    return [
        Prospect(
            pk,
            by_id[pk].name,
            getattr(by_id[pk].consultant, "username", ""),
            by_id[pk].model_interest,
            tuple(sorted(found)),
        )
        for pk, found in signals.items()
        if found
    ]


@dataclass(frozen=True)
class PurchaseHistory:
    """A customer's cars bought from the store: how many, and the years between one and the next
    (the replacement cycle, for the repurchase rate)."""

    count: int
    delivered: tuple[dt.datetime, ...]
    years_between: tuple[float, ...]


def customer_purchases(*, actor: Actor, customer_id: int) -> PurchaseHistory:
    dates = tuple(
        at
        for at in Deal.objects.for_actor(actor, "view")
        .filter(customer_id=customer_id, status=DealStatus.WON, delivered_at__isnull=False)
        .order_by("delivered_at")
        .values_list("delivered_at", flat=True)
        if at is not None
    )
    gaps = tuple(round((b - a).days / 365.25, 1) for a, b in itertools.pairwise(dates))
    return PurchaseHistory(len(dates), dates, gaps)


def lead_for_deal(*, actor: Actor, pk: Any) -> Lead:
    """The lead a new deal starts from. Through the leads rule table once the leads app declares
    one; until then the actor's store's lead, and for a consultant only their own or an
    unassigned one (404 otherwise, like a missing one)."""
    if "leads.lead" in rule_table():
        return get_in_scope(Lead, actor, pk)
    scope = require_model(actor, "add", Deal)
    try:
        lead = Lead.objects.get(pk=int(pk), store_id=actor.require_store_id())  # scoped: store, then owner below
    except (Lead.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    if scope is Scope.OWN and lead.consultant_id not in (None, actor.user_id):
        raise NotFound()
    return lead


def script_list(*, actor: Actor, q: str = "", model: str = "", competitor: str = "") -> QuerySet[SalesScript]:
    """The store's sales scripts, narrowed by ``q`` (a substring of the objection, the answer,
    the model, the competitor or a tag: Chinese is matched as typed), ``model`` and ``competitor``."""
    qs: QuerySet[SalesScript] = SalesScript.objects.for_actor(actor, "view")
    text = " ".join(str(q or "").split())[:100]
    for word in text.split(" ")[:5] if text else ():
        qs = qs.filter(
            Q(objection__icontains=word) | Q(answer__icontains=word) | Q(model_name__icontains=word)
            | Q(competitor__icontains=word) | Q(tag_text__icontains=word)
        )  # fmt: skip
    if model:
        qs = qs.filter(Q(model_name__icontains=str(model)[:100]) | Q(model_name=""))
    if competitor:
        qs = qs.filter(competitor__icontains=str(competitor)[:100])
    return qs


def script_page(
    *, actor: Actor, q: str = "", model: str = "", competitor: str = "", limit: Any = None, cursor: str | None = None
) -> Page:
    require_model(actor, "view", SalesScript)
    qs = script_list(actor=actor, q=q, model=model, competitor=competitor)
    return paginate(qs, ordering=("-updated_at", "-id"), limit=limit, cursor=cursor)


def script_get(*, actor: Actor, pk: Any, action: str = "view") -> SalesScript:
    return get_in_scope(SalesScript.objects.all(), actor, pk, action)


def lead_deals(*, actor: Actor, lead: Lead) -> list[Deal]:
    """The deals opened from a lead that the actor may see (the lead page's sales panel)."""
    return list(Deal.objects.for_actor(actor, "view").filter(lead=lead).order_by("-id")[:10])


@dataclass(slots=True)
class DayLine:
    """One line of the consultant's day panel (a test drive or a delivery), read as values."""

    kind: str  # "drive" or "delivery"
    pk: int  # the test drive's or the deal's id
    deal_id: int
    name: str  # the deal's
    model: str  # the drive's car, the deal's model of interest
    starts_at: dt.datetime | None = None
    planned_delivery: dt.date | None = None
    stage: str = ""
    stage_label: str = ""


_DAY_SQL: dict[tuple[str, int], str] = {}


def _day_sql(stores: int) -> str:
    """Test drives booked from now on and deliveries due by the week's end, the consultant's own,
    in one UNION ALL of two LIMITed selects; written once per database and number of stores (the
    ORM's two querysets, compiled on every home page, were most of the panel's CPU)."""
    key = (connection.vendor, stores)
    sql = _DAY_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        drive, deal, car = (q(m._meta.db_table) for m in (TestDrive, Deal, StockVehicle))
        within = ", ".join(["%s"] * stores)
        sql = _DAY_SQL[key] = (
            f"SELECT * FROM (SELECT 'drive' AS kind, t.id, t.deal_id, d.name, v.model_name, t.starts_at, "
            f"CAST(NULL AS DATE) AS planned_delivery, '' AS stage FROM {drive} t JOIN {deal} d ON d.id = t.deal_id "
            f"JOIN {car} v ON v.id = t.vehicle_id WHERE t.store_id IN ({within}) AND d.consultant_id = %s "
            f"AND t.status = %s AND t.ends_at >= %s ORDER BY t.starts_at, t.id LIMIT %s) AS {q('day_drives')} "
            f"UNION ALL SELECT * FROM (SELECT 'delivery' AS kind, d.id, d.id, d.name, d.model_interest, "
            f"CAST(NULL AS TIMESTAMP WITH TIME ZONE), "
            f"d.planned_delivery, d.stage FROM {deal} d WHERE d.store_id IN ({within}) AND d.consultant_id = %s "
            f"AND d.status = %s AND (d.planned_delivery < %s OR (d.planned_delivery IS NULL AND d.stage = %s)) "
            f"ORDER BY d.planned_delivery, d.id LIMIT %s) AS {q('day_deliveries')}"
        )
    return sql


def consultant_day(*, actor: Actor, now: dt.datetime | None = None, limit: int = 20) -> dict[str, list[Any]]:
    """The sales part of a consultant's to-do list: test drives booked from now on (their own
    deals) and deliveries due this week (open deals planned for delivery by Sunday, late ones
    included, and those at the finance stage with no date yet) — one statement of two indexed
    selects, in the stores the role sees test drives and deals in, the consultant's own only."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    week_end = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    week_end += dt.timedelta(days=7)
    out: dict[str, list[Any]] = {"test_drives": [], "deliveries": [], "week_end": [week_end]}
    drive_scope, deal_scope = scope_for(actor, TestDrive, "view"), scope_for(actor, Deal, "view")
    if drive_scope is None or deal_scope is None or actor.user_id is None:
        return out
    stores = tuple(sorted(set(store_ids_for(actor, drive_scope)) & set(store_ids_for(actor, deal_scope))))
    if not stores:
        return out
    ops = connection.ops
    params = [
        *stores, actor.user_id, "booked", ops.adapt_datetimefield_value(now), limit,
        *stores, actor.user_id, DealStatus.OPEN.value, ops.adapt_datefield_value(week_end.date()), "finance", limit,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_day_sql(len(stores)), params)
        rows = cursor.fetchall()
    stages = dict(Deal._meta.get_field("stage").choices or [])
    for kind, pk, deal_id, name, model, starts_at, planned, stage in rows:
        if kind == "drive":
            if starts_at is not None and not isinstance(starts_at, dt.datetime):
                starts_at = parse_datetime(str(starts_at))
            if starts_at is not None and timezone.is_naive(starts_at):
                starts_at = timezone.make_aware(starts_at, dt.UTC)
            out["test_drives"].append(DayLine(kind, pk, deal_id, name or "", model or "", starts_at=starts_at))
        else:
            if planned is not None and not isinstance(planned, dt.date):
                planned = dt.date.fromisoformat(str(planned)[:10])
            out["deliveries"].append(DayLine(kind, pk, deal_id, name or "", model or "", planned_delivery=planned,
                                             stage=stage, stage_label=str(stages.get(stage, stage))))  # fmt: skip
    return out


def quotes_to_approve(*, actor: Actor, limit: int = 20) -> list[Quote]:
    """Quotes of the store waiting for a manager's approval, oldest first."""
    return list(
        Quote.objects.for_actor(actor, "approve")
        .filter(status="pending_approval")
        .select_related("deal", "created_by")
        .order_by("created_at", "id")[:limit]
    )
