"""A business-hours clock: deadlines that only run while the store is open.

``Store.opening_hours`` is text such as ``"08:30-18:00"`` (every day) or several ranges
``"08:30-12:00,13:30-18:00"``. :func:`add_business_minutes` moves a moment forward by minutes of
opening time: with 08:30-18:00, 30 minutes from 17:50 is 08:50 the next day, and a lead arriving at
22:00 is due at 09:00. Times are read in the local time zone (``settings.TIME_ZONE``) and returned
aware. Leads, service and care use it for their first-response and follow-up targets.

Text that does not parse falls back to the whole day open (a deadline is never lost because
the opening hours were typed badly)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence

from django.utils import timezone

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*$")
Ranges = tuple[tuple[int, int], ...]  # (start minute, end minute) of the day, sorted
ALL_DAY: Ranges = ((0, 24 * 60),)


@functools.lru_cache(maxsize=256)
def parse_opening_hours(text: str | None) -> Ranges:
    """``"08:30-18:00"`` → ``((510, 1080),)``; bad or empty text → the whole day."""
    out = []
    for part in re.split(r"[,，;；]", text or ""):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if not m:
            return ALL_DAY
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < end <= 24 * 60) or m1 > 59 or m2 > 59:
            return ALL_DAY
        out.append((start, end))
    return tuple(sorted(out)) or ALL_DAY


def add_business_minutes(
    start: dt.datetime, minutes: int, hours: str | Sequence[tuple[int, int]] | None, tz: dt.tzinfo | None = None
) -> dt.datetime:
    """The moment ``minutes`` of opening time after ``start`` (aware, in ``tz``: the current
    time zone by default). A start outside opening hours counts from the next opening."""
    ranges = parse_opening_hours(hours) if isinstance(hours, str) or hours is None else tuple(hours)
    tz = tz or timezone.get_current_timezone()
    local = timezone.localtime(start, tz) if timezone.is_aware(start) else start.replace(tzinfo=tz)
    left = float(max(0, int(minutes)))
    day = local.date()
    minute_of_day = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60_000_000
    for _ in range(370 + int(left) // max(1, sum(e - s for s, e in ranges))):
        for s, e in ranges:
            if minute_of_day >= e:
                continue
            begin = max(s, minute_of_day)
            if begin + left <= e:
                return _at(day, begin + left, tz)
            left -= e - begin
            minute_of_day = e
        day += dt.timedelta(days=1)
        minute_of_day = 0
    return _at(day, 0, tz)  # unreachable with sane ranges


def business_minutes_between(
    start: dt.datetime, end: dt.datetime, hours: str | None, tz: dt.tzinfo | None = None
) -> int:
    """Minutes of opening time from ``start`` to ``end`` (0 when ``end`` is not later)."""
    if end <= start:
        return 0
    ranges = parse_opening_hours(hours)
    tz = tz or timezone.get_current_timezone()
    a, b = timezone.localtime(start, tz), timezone.localtime(end, tz)
    total = 0.0
    day = a.date()
    while day <= b.date():
        for s, e in ranges:
            lo = _at(day, s, tz)
            hi = _at(day, e, tz)
            lo, hi = max(lo, a), min(hi, b)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += dt.timedelta(days=1)
    return int(total)


def _at(day: dt.date, minute: float, tz: dt.tzinfo) -> dt.datetime:
    base = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return base + dt.timedelta(minutes=minute)
