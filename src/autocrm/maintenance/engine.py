"""The maintenance prediction engine, in plain Python (no database): the same functions serve the
nightly recompute of every vehicle (``services.due_recompute``), the vehicle's API answer and
the back-test, so the three cannot disagree.

- :func:`mileage_rate`: a vehicle's daily kilometres from its odometer history. Readings are
  cleaned first (a correction supersedes the higher readings before it; of the rest the longest
  run that never goes backwards is kept, so a typo — 150,000 for 15,000 — or a lower reading
  without a correction drops out), then the rate is the Theil–Sen estimate: the median of the
  slopes between every pair of readings at least a week apart. One reading: the slope from the
  delivery date at 0 km. None: the caller's fleet median (the series', then the store's).
- :func:`predict`: each plan item's next due date from its last time done (or the delivery, for
  the first service 首保): by kilometres at the estimated rate, by months, or before winter,
  whichever comes first; the vehicle's next due date is the earliest, and the items due then are
  those falling within :data:`VISIT_WINDOW_DAYS` of it (one visit does them together).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import NamedTuple

MIN_GAP_DAYS = 7.0  # pairs of readings closer than this say little about the rate (and divide by ~0)
MIN_RATE = 0.5  # km/day: a car parked for years still gets its time-based services
MAX_RATE = 600.0  # km/day: a taxi at most; beyond it the readings are wrong
DEFAULT_RATE = 40.0  # km/day ≈ 14,600 km a year, a typical private car in China
VISIT_WINDOW_DAYS = 30
SEASON_GRACE_DAYS = 60  # a check before winter still owed two months into the season, then next year's


class Reading(NamedTuple):  # a tuple: millions are made every night
    day: float  # days since the epoch (a float: readings of one day keep their order)
    km: int
    correction: bool = False


class Rate(NamedTuple):
    km_per_day: float
    method: str  # choices.RateMethod
    readings: int  # how many readings the estimate used
    anchor_day: float | None  # the reading the estimate runs from (days since the epoch), None: delivery
    anchor_km: int


@dataclass(frozen=True)
class PlanItem:
    item: str
    interval_km: int | None = None
    interval_months: int | None = None
    first_km: int | None = None
    first_months: int | None = None
    season_month: int | None = None  # due each year before the 1st of this month (coolant: 10)
    fuel_types: tuple[str, ...] = ()  # empty: every fuel type
    leads_visit: bool = True  # False: done at the visit around it (a check), never calls the owner in alone


class ItemDue(NamedTuple):
    item: str
    due_on: dt.date
    by: str  # choices.DueBy
    due_km: int | None
    last_done_on: dt.date | None


@dataclass
class Prediction:
    next_due_on: dt.date | None
    items: list[ItemDue] = field(default_factory=list)  # due at the next visit
    all_items: list[ItemDue] = field(default_factory=list)
    estimated_km: int | None = None


EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()


def day_number(value: dt.date | dt.datetime) -> float:
    """Days since 1970-01-01 (a datetime keeps its time of day as a fraction)."""
    if isinstance(value, dt.datetime):
        return value.timestamp() / 86400.0
    return float(value.toordinal() - _EPOCH_ORDINAL)


def day_date(day: float) -> dt.date:
    return dt.date.fromordinal(int(day) + _EPOCH_ORDINAL)


def clean_readings(readings: Sequence[Reading]) -> list[Reading]:
    """The readings to trust, in time order (``readings`` must be in time order already).

    A correction (a lower reading with a reason) says the readings above it were wrong: they are
    dropped. Of what remains, the longest subsequence whose km never decreases is kept (ties to
    the earliest), so one wrong reading — too high or too low — falls out on its own."""
    kept: list[Reading] = []
    for r in readings:
        if r.correction:
            kept = [k for k in kept if k.km <= r.km]
        kept.append(r)
    n = len(kept)
    if n <= 1:
        return kept
    if all(kept[i].km <= kept[i + 1].km for i in range(n - 1)):
        return kept
    # Longest non-decreasing subsequence, O(n log n) (patience sorting with predecessor links).
    tails: list[int] = []  # km at the end of the best run of each length
    tail_idx: list[int] = []
    prev = [-1] * n
    for i, r in enumerate(kept):
        pos = bisect.bisect_right(tails, r.km)
        if pos == len(tails):
            tails.append(r.km)
            tail_idx.append(i)
        else:
            tails[pos] = r.km
            tail_idx[pos] = i
        prev[i] = tail_idx[pos - 1] if pos else -1
    out: list[Reading] = []
    i = tail_idx[-1]
    while i != -1:
        out.append(kept[i])
        i = prev[i]
    out.reverse()
    return out


def theil_sen(points: Sequence[tuple[float, float]]) -> float | None:
    """The median of the slopes between every pair of points at least :data:`MIN_GAP_DAYS` apart."""
    slopes = []
    for i in range(len(points)):
        di, ki = points[i]
        for j in range(i + 1, len(points)):
            dj, kj = points[j]
            gap = dj - di
            if gap >= MIN_GAP_DAYS:
                slopes.append((kj - ki) / gap)
    if not slopes:
        return None
    return median(slopes)


def _clamp(rate: float) -> float:
    return min(max(rate, MIN_RATE), MAX_RATE)


def mileage_rate(
    readings: Sequence[Reading], *, delivered: dt.date | None, fallback: tuple[float, str] | None = None
) -> Rate:
    """The daily mileage of one vehicle (see the module's docstring). ``fallback`` is the fleet
    median to use without a usable history, with its method (``series`` or ``store``)."""
    kept = clean_readings(readings)
    last = kept[-1] if kept else None
    if len(kept) >= 2:
        slope = theil_sen([(r.day, float(r.km)) for r in kept])
        if slope is not None and slope > 0:
            return Rate(_clamp(slope), "readings", len(kept), last.day if last else None, last.km if last else 0)
    if last is not None and delivered is not None:
        gap = last.day - day_number(delivered)
        if gap >= MIN_GAP_DAYS and last.km > 0:
            return Rate(_clamp(last.km / gap), "delivery", 1, last.day, last.km)
    rate, method = fallback if fallback is not None else (DEFAULT_RATE, "default")
    if last is not None:
        return Rate(_clamp(rate), method, len(kept), last.day, last.km)
    return Rate(_clamp(rate), method, 0, None, 0)


@functools.lru_cache(maxsize=1 << 16)
def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day). Cached: a
    fleet's service dates repeat, and the nightly recompute asks millions of times."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=1 << 14)
def _before_season(after: dt.date, month: int) -> dt.date:
    """The first ``<year>-<month>-01`` after ``after`` (coolant: the October before winter)."""
    candidate = dt.date(after.year, month, 1)
    return candidate if candidate > after else dt.date(after.year + 1, month, 1)


@functools.lru_cache(maxsize=1 << 16)
def date_of_ordinal(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


def km_on(rate: Rate, day: float, *, delivered_day: float) -> float:
    """The estimated odometer on ``day``."""
    if rate.anchor_day is None:
        return max(0.0, (day - delivered_day) * rate.km_per_day)
    return rate.anchor_km + (day - rate.anchor_day) * rate.km_per_day


_MAX_ORDINAL = dt.date(9000, 1, 1).toordinal()


def predict(
    plan: Iterable[PlanItem],
    *,
    rate: Rate,
    delivered: dt.date,
    last_done: Mapping[str, tuple[dt.date, int | None]],
    fuel_type: str = "",
    today: dt.date | None = None,
    detail: bool = True,
) -> Prediction:
    """The due date of every plan item and the vehicle's next visit (see the module's docstring).
    ``last_done`` maps an item to the date and km it was last done; ``delivered`` starts the
    first service's clock at 0 km. ``detail=False`` (the nightly recompute) leaves
    ``all_items`` empty. Written for speed: it runs for every vehicle every night."""
    delivered_ord = delivered.toordinal()
    today_ord = today.toordinal() if today is not None else None
    per_day = rate.km_per_day
    # The odometer is estimated from the anchor (the last trusted reading), else from the delivery at 0 km.
    if rate.anchor_day is None:
        anchor_ord, anchor_km = float(delivered_ord), 0
    else:
        anchor_ord, anchor_km = rate.anchor_day + _EPOCH_ORDINAL, rate.anchor_km
    found: list[tuple[int, str, str, int | None, dt.date | None, bool]] = []
    for p in plan:
        if p.fuel_types and fuel_type and fuel_type not in p.fuel_types:
            continue
        done = last_done.get(p.item)
        base_km: int | None
        if done is None:
            base_day, base_km = delivered, 0
            months, km = p.first_months or p.interval_months, p.first_km or p.interval_km
        else:
            base_day, base_km = done
            months, km = p.interval_months, p.interval_km
        best, by, due_km = _MAX_ORDINAL, "", None
        if months:
            best, by = add_months(base_day, months).toordinal(), "time"
        if km:
            base_ord = base_day.toordinal()
            if base_km is None:  # done without a reading: its km is the estimate on that day
                base_km = max(0, int(anchor_km + (base_ord - anchor_ord) * per_day))
            target = base_km + km
            reach = int(anchor_ord + (target - anchor_km) / per_day)
            if reach < base_ord:
                reach = base_ord
            if reach < best:
                best, by, due_km = reach, "km", target
        if p.season_month:
            season = _before_season(base_day, p.season_month).toordinal()
            if today_ord is not None and season < today_ord - SEASON_GRACE_DAYS:
                # A season missed long ago is not owed any more: the next one is.
                season = _before_season(date_of_ordinal(today_ord - SEASON_GRACE_DAYS), p.season_month).toordinal()
            if season < best:
                best, by, due_km = season, "season", None
        if by:
            found.append((best, p.item, by, due_km, None if done is None else done[0], p.leads_visit))
    if not found:
        return Prediction(None)
    found.sort()
    # The visit is set by the first item that brings the owner in; a check that rides along
    # (coolant before winter, the battery) is done at it, or sets the visit when nothing else does.
    first = next((f[0] for f in found if f[5]), found[0][0])
    until = first + VISIT_WINDOW_DAYS
    items = [ItemDue(i, date_of_ordinal(o), b, k, last) for o, i, b, k, last, _lead in found if o <= until]
    every = [ItemDue(i, date_of_ordinal(o), b, k, last) for o, i, b, k, last, _lead in found] if detail else []
    estimate = None
    if today is not None:
        estimate = int(anchor_km + (today.toordinal() - anchor_ord) * per_day)
    return Prediction(date_of_ordinal(first), items, every, estimate)
