"""The voice of customer in a period (ADR 0035), in a fixed number of grouped queries whatever
the number of texts: the sentiment per week or month, the top praised and criticised phrases and
their trend, the phrases rising against the period before, per staff member and per store."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from autocrm.accounts.models import User
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.periods import PERIOD_LABELS, Period, period_parse
from autocrm.core.permissions import Scope, require_model, restrict
from autocrm.tenancy.models import Store

from .analysis import phrase_label
from .choices import Sentiment
from .models import VocPhrase, VocText

TOP = 8  # phrases shown per side
TREND_PHRASES = 5  # phrases whose trend is drawn per side
RISING_MIN = 3  # a phrase needs this many mentions in the period to count as rising
MONTHLY_AFTER_DAYS = 93  # longer periods are drawn per month


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


def voc_stores(actor: Actor) -> list[dict[str, Any]]:
    rows = Store.objects.filter(pk__in=actor.organization_store_ids).order_by("code").values("pk", "name")
    return [dict(row) for row in rows]  # scoped: the stores of the actor's own organization


def _bucket(period: Period) -> tuple[str, Any]:
    days = (period.end - period.start).days
    if days > MONTHLY_AFTER_DAYS:
        return "month", TruncMonth("at", tzinfo=timezone.get_current_timezone())
    return "week", TruncWeek("at", tzinfo=timezone.get_current_timezone())


def _bucket_starts(period: Period, unit: str) -> list[dt.date]:
    local = timezone.localtime(period.start).date()
    last = timezone.localtime(period.end - dt.timedelta(microseconds=1)).date()
    if unit == "month":
        day = local.replace(day=1)
        out = []
        while day <= last:
            out.append(day)
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return out
    day = local - dt.timedelta(days=local.weekday())
    out = []
    while day <= last:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value  # type: ignore[no-any-return]


def _phrase(code: str, positive: bool) -> str:
    return f"{code}{'+' if positive else '-'}"


def voc_summary(*, actor: Actor, period: Period, store: Any = None, staff: Any = None) -> dict[str, Any]:
    """What customers said in ``period`` in the actor's scope: ``store`` narrows a director's
    group to one store, ``staff`` to one staff member (an advisor or consultant sees their own)."""
    scope = require_model(actor, "view", VocText)
    store_id, staff_id = _int_param(store, "store"), _int_param(staff, "staff")
    group = scope is Scope.ORGANIZATION
    if store_id is not None:
        allowed = actor.organization_store_ids if group else (actor.store_id,)
        if store_id not in allowed:
            raise ValidationError(fields={"store": [_("Choose a store you may see.")]})
    texts: QuerySet[VocText] = VocText.objects.for_actor(actor, "view")
    phrases: QuerySet[VocPhrase] = restrict(VocPhrase.objects.all(), actor, "view")
    if store_id is not None:
        texts, phrases = texts.filter(store_id=store_id), phrases.filter(store_id=store_id)
    if staff_id is not None:
        texts, phrases = texts.filter(staff_id=staff_id), phrases.filter(staff_id=staff_id)
    in_period = {"at__gte": period.start, "at__lt": period.end}
    texts_now, phrases_now = texts.filter(**in_period), phrases.filter(**in_period)
    unit, trunc = _bucket(period)
    starts = _bucket_starts(period, unit)

    # 1. sentiment per bucket
    by_bucket: dict[dt.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(Sentiment.values, 0))
    for bucket, sentiment, n in (
        texts_now.annotate(b=trunc).values_list("b", "sentiment").annotate(n=Count("id")).order_by()
    ):  # fmt: skip
        by_bucket[_day(bucket)][sentiment] += n
    zero = dict.fromkeys(Sentiment.values, 0)
    totals = {s: sum(by_bucket.get(d, zero)[s] for d in starts) for s in Sentiment.values}
    trend: list[dict[str, Any]] = [{"start": d, **by_bucket.get(d, zero)} for d in starts]
    count = sum(totals.values())
    average = texts_now.aggregate(a=Avg("score"))["a"]

    # 2. phrases: counts in the period, per bucket, and in the period before
    counts: dict[str, int] = defaultdict(int)
    per_bucket: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for code, positive, bucket, n in (
        phrases_now.annotate(b=trunc).values_list("code", "positive", "b").annotate(n=Count("id")).order_by()
    ):  # fmt: skip
        key = _phrase(code, positive)
        counts[key] += n
        per_bucket[key][_day(bucket)] += n
    length = period.end - period.start
    before: dict[str, int] = defaultdict(int)
    for code, positive, n in (
        phrases.filter(at__gte=period.start - length, at__lt=period.start)
        .values_list("code", "positive").annotate(n=Count("id")).order_by()
    ):  # fmt: skip
        before[_phrase(code, positive)] += n

    def top(sign: str) -> list[dict[str, Any]]:
        rows = sorted(((k, n) for k, n in counts.items() if k.endswith(sign)), key=lambda kn: (-kn[1], kn[0]))[:TOP]
        return [{"code": k, "label": phrase_label(k), "count": n, "previous": before.get(k, 0)} for k, n in rows]

    top_positive, top_negative = top("+"), top("-")
    phrase_trend = [
        {"code": p["code"], "label": p["label"], "counts": [per_bucket[p["code"]].get(d, 0) for d in starts]}
        for p in (*top_negative[:TREND_PHRASES], *top_positive[:TREND_PHRASES])
    ]
    growing = sorted(
        ((k, n, before.get(k, 0)) for k, n in counts.items() if n >= RISING_MIN and n > before.get(k, 0)),
        key=lambda r: (-((r[1] - r[2]) / (r[2] + 1)), -r[1], r[0]),
    )[:TOP]
    rising = [{"code": k, "label": phrase_label(k), "count": n, "previous": prev, "change": n - prev}
              for k, n, prev in growing]  # fmt: skip

    # 3. per staff member and per store
    staff_rows: dict[int, dict[str, Any]] = {}
    for sid, sentiment, n in (
        texts_now.filter(staff__isnull=False).values_list("staff_id", "sentiment").annotate(n=Count("id")).order_by()
    ):  # fmt: skip
        row = staff_rows.setdefault(sid, {"id": sid, "texts": 0, **dict.fromkeys(Sentiment.values, 0)})
        row[sentiment] += n
        row["texts"] += n
    staff_phrases: dict[int, dict[str, int]] = defaultdict(dict)
    for sid, code, positive, n in (
        phrases_now.filter(staff__isnull=False).values_list("staff_id", "code", "positive").annotate(n=Count("id"))
        .order_by()
    ):  # fmt: skip
        staff_phrases[sid][_phrase(code, positive)] = n
    names = dict(User.objects.filter(pk__in=list(staff_rows)).values_list("pk", "display_name"))
    for sid, row in staff_rows.items():
        row["name"] = names.get(sid) or f"#{sid}"
        row["positive_rate"] = round(row["positive"] / row["texts"], 4) if row["texts"] else None
        mine = staff_phrases.get(sid, {})
        for sign, key in (("+", "top_positive"), ("-", "top_negative")):
            best = sorted(((k, n) for k, n in mine.items() if k.endswith(sign)), key=lambda kn: (-kn[1], kn[0]))[:3]
            row[key] = [{"code": k, "label": phrase_label(k), "count": n} for k, n in best]
    store_rows: list[dict[str, Any]] = []
    if group and store_id is None:
        names_by_store = {s["pk"]: s["name"] for s in voc_stores(actor)}
        per_store: dict[int, dict[str, Any]] = {}
        for sid, sentiment, n in texts_now.values_list("store_id", "sentiment").annotate(n=Count("id")).order_by():
            row = per_store.setdefault(sid, {"id": sid, "name": names_by_store.get(sid, ""), "texts": 0,
                                             **dict.fromkeys(Sentiment.values, 0)})  # fmt: skip
            row[sentiment] += n
            row["texts"] += n
        store_rows = sorted(per_store.values(), key=lambda r: r["name"])
    return {
        "period": {"key": period.key, "label": str(PERIOD_LABELS[period.key]), "start": period.start,
                   "end": period.end},
        "scope": str(scope),
        "unit": unit,
        "totals": {"texts": count, **totals, "positive_rate": round(totals["positive"] / count, 4) if count else None,
                   "negative_rate": round(totals["negative"] / count, 4) if count else None,
                   "average_score": round(average, 3) if average is not None else None},
        "trend": trend,
        "top_positive": top_positive,
        "top_negative": top_negative,
        "phrase_trend": phrase_trend,
        "rising": rising,
        "staff": sorted(staff_rows.values(), key=lambda r: (-r["texts"], r["name"])),
        "stores": store_rows,
    }  # fmt: skip


def summary_for(actor: Actor, params: dict[str, Any]) -> dict[str, Any]:
    """:func:`voc_summary` from the page's or the API's query parameters."""
    period = period_parse(params.get("period"), start=params.get("start"), end=params.get("end"))
    return voc_summary(actor=actor, period=period, store=params.get("store"), staff=params.get("staff"))
