"""The forecast's back-test on generated history (ADR 0027): a store of ``vehicles`` cars whose
due dates fall over 16 + 4 weeks; an owner due comes with probability ``show`` around the due date
(± a normal spread of a week), and the visit issues the parts of its items; each part also has
walk-in demand of its own (Poisson). The last four weeks are hidden; the forecast is made from
the 16 weeks before them (the show rate measured on them, the other demand smoothed) and the due
list of the hidden weeks, then compared with what was issued.

Reported: WAPE (Σ|forecast − actual| / Σ actual) over every part-week, and over each part's
four-week total (what the order quantity rests on), beside the naive forecast (the mean weekly
issue of the last 12 weeks). Plain Python: ``python -m autocrm.partsforecast.backtest``."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from . import engine

HISTORY = 16
HIDDEN = engine.WEEKS
START = dt.date(2026, 1, 5)  # the first hidden week (any Monday)
MAPPING = {
    "oil": [(1, Decimal("4.5"))],
    "oil_filter": [(2, Decimal("1"))],
    "cabin_filter": [(3, Decimal("1"))],
}
WALK_IN = {1: 3.0, 2: 1.0, 3: 0.5, 4: 6.0}  # per week: top-ups, wipers (part 4 is in no plan item)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class BacktestResult:
    seed: int
    wape_weeks: float
    wape_total: float
    naive_wape_weeks: float
    naive_wape_total: float
    show_measured: float


def run(*, seed: int = 1, vehicles: int = 800, show: float = 0.65, wave: float = 0.0) -> BacktestResult:
    """``wave``: the share of extra cars whose due dates fall in the first two hidden weeks (the
    first service 首保 of a strong sales month six months before), the case an average misses."""
    rng = random.Random(seed)
    first = -HISTORY * 7
    issued: dict[int, dict[int, Decimal]] = {p: {} for p in WALK_IN}
    done: dict[tuple[int, str], int] = {}
    due_hidden: list[tuple[dt.date, list[str], int]] = []
    due_in_history = came_in_history = 0
    for n in range(vehicles + round(vehicles * wave)):
        due_day = rng.randrange(first, HIDDEN * 7) if n < vehicles else rng.randrange(0, 14)
        items = ["service", "oil", "oil_filter"] + (["cabin_filter"] if rng.random() < 1 / 3 else [])
        if due_day >= 0:
            due_hidden.append((START + dt.timedelta(days=due_day), items, 1))
        comes = rng.random() < show
        if first + 14 <= due_day < -14:  # due well inside the history: counts for the show rate
            due_in_history += 1
            came_in_history += comes
        if not comes:
            continue
        visit = due_day + round(rng.gauss(0, 7))
        week = visit // 7
        if not -HISTORY <= week < HIDDEN:
            continue
        for item in items:
            if week < 0:
                done[(week, item)] = done.get((week, item), 0) + 1
            for part, qty in MAPPING.get(item, ()):
                issued[part][week] = issued[part].get(week, Decimal(0)) + qty
    for part, mean in WALK_IN.items():
        for week in range(-HISTORY, HIDDEN):
            issued[part][week] = issued[part].get(week, Decimal(0)) + _poisson(rng, mean)
    rate = engine.q2(Decimal(came_in_history) / Decimal(max(due_in_history, 1)))
    plan = engine.plan_demand(due_hidden, MAPPING, start=START, weeks=HIDDEN, show_rate=rate)
    used = engine.explained([(w, i, n) for (w, i), n in done.items()], MAPPING)
    other = {p: engine.other_history(issued[p], used, p, weeks=engine.HISTORY_WEEKS) for p in issued}
    result = engine.forecast(plan=plan, other=other, weeks=HIDDEN, stock={})
    err_w = err_t = naive_w = naive_t = actual_sum = Decimal(0)
    for part in WALK_IN:
        actual = [issued[part].get(w, Decimal(0)) for w in range(HIDDEN)]
        naive = sum((issued[part].get(w, Decimal(0)) for w in range(-12, 0)), Decimal(0)) / 12
        f = result[part].weeks
        err_w += sum((abs(f[w] - actual[w]) for w in range(HIDDEN)), Decimal(0))
        naive_w += sum((abs(naive - actual[w]) for w in range(HIDDEN)), Decimal(0))
        err_t += abs(sum(f, Decimal(0)) - sum(actual, Decimal(0)))
        naive_t += abs(naive * HIDDEN - sum(actual, Decimal(0)))
        actual_sum += sum(actual, Decimal(0))
    return BacktestResult(
        seed=seed, wape_weeks=float(err_w / actual_sum), wape_total=float(err_t / actual_sum),
        naive_wape_weeks=float(naive_w / actual_sum), naive_wape_total=float(naive_t / actual_sum),
        show_measured=float(rate),
    )  # fmt: skip


def summary(seeds: range = range(1, 21), *, wave: float = 0.0) -> dict[str, float]:
    runs = [run(seed=s, wave=wave) for s in seeds]
    n = len(runs)
    return {
        "runs": n,
        "wape_weeks": sum(r.wape_weeks for r in runs) / n,
        "wape_total": sum(r.wape_total for r in runs) / n,
        "naive_wape_weeks": sum(r.naive_wape_weeks for r in runs) / n,
        "naive_wape_total": sum(r.naive_wape_total for r in runs) / n,
    }


if __name__ == "__main__":  # pragma: no cover
    for wave in (0.0, 0.25):
        print(f"wave {wave}:", ", ".join(f"{k} {v:.3f}" for k, v in summary(wave=wave).items()))
