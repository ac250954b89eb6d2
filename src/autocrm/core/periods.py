"""The period a KPI page or API request names (sales and service KPIs share the picker): this
month, last month, the last 90 days, this year, or custom dates (both inclusive, at most three
years); bad input → 400 naming the field. Times are aware, in the current time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ValidationError

PERIODS = ("this_month", "last_month", "last_90_days", "this_year", "custom")
PERIOD_LABELS = {
    "this_month": _("This month"),
    "last_month": _("Last month"),
    "last_90_days": _("Last 90 days"),
    "this_year": _("This year"),
    "custom": _("Custom"),
}
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    key: str
    start: dt.datetime  # inclusive, aware
    end: dt.datetime  # exclusive, aware

    @property
    def label(self) -> str:
        return str(PERIOD_LABELS[self.key])


def midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _date(value: Any, name: str, errors: dict[str, list[Any]]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def period_parse(key: Any = None, *, start: Any = None, end: Any = None, now: dt.datetime | None = None) -> Period:
    """The period a KPI request names (default this month); ``custom`` takes ``start`` and
    ``end`` dates (both inclusive, at most three years). Bad input → 400 naming the field."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    key = str(key or "this_month")
    if key not in PERIODS:
        raise ValidationError(fields={"period": [_("Choose one of the listed values.")]})
    tomorrow = midnight(today + dt.timedelta(days=1))
    first = today.replace(day=1)
    if key == "this_month":
        return Period(key, midnight(first), tomorrow)
    if key == "last_month":
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        return Period(key, midnight(previous), midnight(first))
    if key == "last_90_days":
        return Period(key, midnight(today - dt.timedelta(days=89)), tomorrow)
    if key == "this_year":
        return Period(key, midnight(today.replace(month=1, day=1)), tomorrow)
    errors: dict[str, list[Any]] = {}
    since, until = _date(start, "start", errors), _date(end, "end", errors)
    if since and until and until < since:
        errors["end"] = [_("The end is before the start.")]
    elif since and until and (until - since).days > MAX_CUSTOM_DAYS:
        errors["end"] = [_("Choose at most three years.")]
    if errors or since is None or until is None:
        raise ValidationError(fields=errors)
    return Period(key, midnight(since), midnight(until + dt.timedelta(days=1)))
