"""The back-test of the prediction engine: for each vehicle, hide its last service visit, predict
the next visit from what was known right after the visit before, and compare with the day the
owner actually came. Pure functions over histories (the benchmark reads them from the database,
the test generates them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median

from . import engine


@dataclass(frozen=True)
class History:
    delivered: dt.date
    fuel_type: str
    visits: Sequence[tuple[dt.date, int, tuple[str, ...]]]  # (day, km, items done), in order


@dataclass(frozen=True)
class BacktestResult:
    vehicles: int
    median_abs_days: float | None
    mean_abs_days: float | None
    p90_abs_days: float | None
    errors: tuple[int, ...]  # predicted − actual, in days


def error_days(
    history: History, plan: Sequence[engine.PlanItem], *, fallback: tuple[float, str] | None = None
) -> int | None:
    """Predicted minus actual day of the last visit (None: fewer than two visits)."""
    if len(history.visits) < 2:
        return None
    *known, hidden = history.visits
    readings = [engine.Reading(engine.day_number(day), km) for day, km, _items in known]
    done: dict[str, tuple[dt.date, int | None]] = {}
    for day, km, items in known:
        for item in items:
            done[item] = (day, km)
    rate = engine.mileage_rate(readings, delivered=history.delivered, fallback=fallback)
    prediction = engine.predict(plan, rate=rate, delivered=history.delivered, last_done=done,
                                fuel_type=history.fuel_type, today=known[-1][0], detail=False)  # fmt: skip
    if prediction.next_due_on is None:
        return None
    return (prediction.next_due_on - hidden[0]).days


def backtest(histories: Iterable[History], plan: Sequence[engine.PlanItem]) -> BacktestResult:
    errors = [e for h in histories if (e := error_days(h, plan)) is not None]
    if not errors:
        return BacktestResult(0, None, None, None, ())
    absolute = sorted(abs(e) for e in errors)
    return BacktestResult(
        vehicles=len(errors), median_abs_days=float(median(absolute)), mean_abs_days=sum(absolute) / len(absolute),
        p90_abs_days=float(absolute[min(len(absolute) - 1, int(0.9 * len(absolute)))]), errors=tuple(errors),
    )  # fmt: skip


def plan_following_fleet(n: int, *, seed: int, today: dt.date | None = None) -> list[History]:
    """``n`` generated cars over four years whose owners come when the plan says (the engine run
    with the car's true mileage), give or take: most within three weeks, one in six a month or two
    late; each visit's odometer is what the car really drove (its own rate ±15 % per stretch)."""
    import random

    from .defaults import plan_item_rows

    rng = random.Random(seed)
    plan = [engine.PlanItem(**row) for row in plan_item_rows()]
    today = today or dt.date(2026, 6, 30)
    out: list[History] = []
    for _ in range(n):
        per_day = rng.lognormvariate(3.5, 0.45)  # a median of 33 km a day, 12,000 km a year
        fuel = rng.choice(("petrol", "petrol", "hybrid", "electric"))
        delivered = today - dt.timedelta(days=rng.randint(500, 1800))
        day, km = delivered, 0
        visits: list[tuple[dt.date, int, tuple[str, ...]]] = []
        done: dict[str, tuple[dt.date, int | None]] = {}
        while True:
            true_rate = engine.Rate(per_day, "readings", 2, engine.day_number(day), km)
            p = engine.predict(plan, rate=true_rate, delivered=delivered, last_done=done, fuel_type=fuel, today=day)
            if p.next_due_on is None:
                break
            slip = rng.gauss(0, 12) if rng.random() > 1 / 6 else rng.uniform(30, 75)
            visit = max(p.next_due_on + dt.timedelta(days=int(slip)), day + dt.timedelta(days=20))
            if visit > today:
                break
            km += int((visit - day).days * per_day * rng.uniform(0.85, 1.15))
            day = visit
            items = tuple(d.item for d in p.items)
            for item in items:
                done[item] = (day, km)
            visits.append((day, km, items))
        out.append(History(delivered, fuel, visits))
    return out
