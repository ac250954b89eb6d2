"""The forecast arithmetic (ADR 0027), plain Python over numbers so that the page, the API and
the back-test compute the same thing.

For each part and each of the next ``weeks`` weeks::

    plan demand   = show rate × Σ (vehicles due that week × the part's quantity for each due item)
    other demand  = the smoothed level of the part's weekly issues that no plan item explains
                    (issues − Σ items done that week × their quantity, floored at 0), simple
                    exponential smoothing over the last 12 weeks (α = 0.3)
    need          = Σ weeks (plan + other)
    suggested     = max(0, ⌈need − (on hand + on order − reserved)⌉)

Quantities are Decimals to two places (litres of oil); the suggestion is rounded up to whole
units, the way parts are ordered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

ALPHA = Decimal("0.3")
CENT = Decimal("0.01")
HISTORY_WEEKS = 12
WEEKS = 4

Mapping_ = Mapping[str, Sequence[tuple[int, Decimal]]]  # item → [(part id, quantity)]


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def week_of(day: dt.date, start: dt.date) -> int:
    """The week index of ``day`` counted from ``start`` (negative: before it)."""
    return (day - start).days // 7


def plan_demand(
    due: Iterable[tuple[dt.date, Sequence[str], int]], mapping: Mapping_, *, start: dt.date, weeks: int,
    show_rate: Decimal,
) -> dict[int, list[Decimal]]:  # fmt: skip
    """Per part, the expected quantity of each week from the vehicles due: (date, items, how
    many cars are due that day for those items)."""
    counts: dict[tuple[int, str], int] = {}  # (week, item) → cars: a count per car, the Decimals per item
    for day, items, cars in due:
        w = week_of(day, start)
        if not 0 <= w < weeks:
            continue
        for item in items:
            counts[(w, item)] = counts.get((w, item), 0) + cars
    raw: dict[int, list[Decimal]] = {}
    for (w, item), n in counts.items():
        for part_id, qty in mapping.get(item, ()):
            raw.setdefault(part_id, [Decimal(0)] * weeks)[w] += qty * n
    return {p: [q2(v * show_rate) for v in values] for p, values in raw.items()}


def explained(done: Iterable[tuple[int, str, int]], mapping: Mapping_) -> dict[tuple[int, int], Decimal]:
    """(part, week) → the quantity that plan items done that week used: ``done`` holds
    (week, item, count) rows."""
    out: dict[tuple[int, int], Decimal] = {}
    for w, item, count in done:
        for part_id, qty in mapping.get(item, ()):
            out[(part_id, w)] = out.get((part_id, w), Decimal(0)) + qty * count
    return out


def smoothed(history: Sequence[Decimal], alpha: Decimal = ALPHA) -> Decimal:
    """Simple exponential smoothing, oldest week first, started at the first week's value."""
    if not history:
        return Decimal(0)
    level = history[0]
    for value in history[1:]:
        level = alpha * value + (1 - alpha) * level
    return q2(level)


def other_history(
    issued: Mapping[int, Decimal], used: Mapping[tuple[int, int], Decimal], part_id: int, *, weeks: int
) -> list[Decimal]:
    """The part's weekly issues that no plan item explains, weeks ``-weeks`` … ``-1``."""
    return [max(Decimal(0), issued.get(w, Decimal(0)) - used.get((part_id, w), Decimal(0))) for w in range(-weeks, 0)]


def suggested(need: Decimal, *, on_hand: Decimal, on_order: Decimal, reserved: Decimal) -> Decimal:
    gap = need - (on_hand + on_order - reserved)
    if gap <= 0:
        return Decimal(0)
    return gap.quantize(Decimal(1), rounding=ROUND_CEILING)


@dataclass
class PartForecast:
    part_id: int
    plan: list[Decimal]
    other: Decimal  # per week
    on_hand: Decimal = Decimal(0)
    on_order: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    weeks: list[Decimal] = field(default_factory=list)
    need: Decimal = Decimal(0)
    suggested: Decimal = Decimal(0)

    def finish(self) -> PartForecast:
        self.weeks = [q2(p + self.other) for p in self.plan]
        self.need = q2(sum(self.weeks, Decimal(0)))
        self.suggested = suggested(self.need, on_hand=self.on_hand, on_order=self.on_order, reserved=self.reserved)
        return self


def forecast(
    *, plan: Mapping[int, list[Decimal]], other: Mapping[int, Sequence[Decimal]], weeks: int,
    stock: Mapping[int, tuple[Decimal, Decimal, Decimal]],
) -> dict[int, PartForecast]:  # fmt: skip
    """Every part with plan demand, other demand or stock: ``stock`` is (on hand, on order, reserved)."""
    out: dict[int, PartForecast] = {}
    for part_id in set(plan) | set(other) | set(stock):
        on_hand, on_order, reserved = stock.get(part_id, (Decimal(0), Decimal(0), Decimal(0)))
        out[part_id] = PartForecast(
            part_id=part_id, plan=list(plan.get(part_id, [Decimal(0)] * weeks)),
            other=smoothed(list(other.get(part_id, ()))), on_hand=on_hand, on_order=on_order, reserved=reserved,
        ).finish()  # fmt: skip
    return out
