"""Lookup and search latency through the real selectors (issue 4 targets, on PostgreSQL with
1,000,000 customers and 1,200,000 vehicles: mobile / plate / VIN p95 < 20 ms; name substring and
pinyin initials p95 < 150 ms).

    # once: a database with the demo at scale (500,000 customers per store, ~20 min)
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench AUTOCRM_DATA_DIR=/tmp/acrm_bench
    .venv/bin/autocrm migrate && .venv/bin/autocrm demo --customers 500000
    # then
    .venv/bin/python benchmarks/lookup.py [--queries 300] [--seed 1] [--explain]

Every query runs as ``manager_a`` (an Actor from ``accounts.selectors.actor_build``) through
``customers.selectors.customer_list`` / ``vehicles.selectors.vehicle_list`` and fetches the first
page (20 rows, newest first) with ``core.pagination.paginate`` — what the list pages and the API
do. Query values are drawn at random from store a's own rows, so most queries find something.
``AUTOCRM_DATA_DIR`` must hold the data key the demo was loaded with (blind indexes use it).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")

PAGE = 20
COMMON_SURNAMES = ("王", "李", "张", "刘", "陈")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=300, help="queries per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--user", default="manager_a")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each kind")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, reset_queries

    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.core.identifiers import mobile_national
    from autocrm.core.pagination import paginate
    from autocrm.customers.models import Customer
    from autocrm.customers.selectors import customer_list
    from autocrm.customers.services import customer_duplicates
    from autocrm.vehicles.models import Vehicle
    from autocrm.vehicles.selectors import vehicle_list

    actor = actor_build(user=User.objects.get(username=args.user))
    rng = random.Random(args.seed)
    n = args.queries
    store_customers = Customer.objects.filter(store_id=actor.store_id)
    store_vehicles = Vehicle.objects.filter(store_id=actor.store_id)
    total_customers = Customer.objects.count()
    total_vehicles = Vehicle.objects.count()
    store_count = store_customers.count()

    def sample(qs, count: int, fields: tuple[str, ...]) -> list:
        lo = qs.order_by("id").values_list("id", flat=True).first()
        hi = qs.order_by("-id").values_list("id", flat=True).first()
        ids = [rng.randint(lo, hi) for _ in range(count * 2)]
        rows = list(qs.filter(id__in=ids).only(*fields)[:count])
        rng.shuffle(rows)
        return rows

    customers = sample(store_customers, n, ("id", "name", "name_initials", "name_pinyin", "mobile", "district"))
    vehicles = sample(store_vehicles, n, ("id", "plate", "vin"))

    def first_customers(q: str) -> tuple[list, object]:
        qs = customer_list(actor=actor, filters={"q": q})
        return paginate(qs, ordering=("-id",), limit=PAGE).items, qs

    def first_vehicles(q: str) -> tuple[list, object]:
        qs = vehicle_list(actor=actor, filters={"q": q})
        return paginate(qs, ordering=("-id",), limit=PAGE).items, qs

    def duplicates_on_entry(entry: tuple[str, str, str]) -> tuple[list, object]:
        """What saving a new customer checks first: same mobile, or same name in the same district."""
        name, district, mobile = entry
        return customer_duplicates(actor=actor, cleaned={"name": name, "district": district, "mobile": mobile}), None

    kinds: list[tuple[str, str, Callable[[Any], tuple[list, object]], list[Any], float]] = [
        ("mobile (blind index)", "lookup", first_customers, [mobile_national(c.mobile) for c in customers], 20),
        ("plate", "lookup", first_vehicles, [v.plate for v in vehicles], 20),
        ("VIN", "lookup", first_vehicles, [v.vin for v in vehicles], 20),
        ("VIN last 6", "lookup", first_vehicles, [v.vin[-6:] for v in vehicles], 20),
        ("plate tail (5)", "search", first_vehicles, [v.plate[-5:] for v in vehicles], 150),
        ("customer by plate tail", "search", first_customers,
         [v.plate[-5:] for v in vehicles if v.plate[-5:].isdigit()][:n] or ["12345"], 150),
        ("customer by plate", "lookup", first_customers, [v.plate for v in vehicles if v.plate], 20),
        ("customer by VIN", "lookup", first_customers, [v.vin for v in vehicles], 20),
        ("customer by VIN last 6", "lookup", first_customers, [v.vin[-6:] for v in vehicles], 20),
        ("customer by plate w/o 沪", "lookup", first_customers, [v.plate[1:].lower() for v in vehicles if v.plate], 20),
        ("name (full)", "search", first_customers, [c.name for c in customers], 150),
        ("name (2 chars)", "search", first_customers, [c.name[:2] for c in customers], 150),
        ("name (common surname)", "search", first_customers, [rng.choice(COMMON_SURNAMES) for _ in range(n)], 150),
        ("pinyin initials", "search", first_customers, [c.name_initials for c in customers], 150),
        ("pinyin full", "search", first_customers, [c.name_pinyin for c in customers], 150),
        # A new mobile, so the name and district find the match (the same person typed again).
        ("duplicate check on entry", "check", duplicates_on_entry,
         [(c.name, c.district, f"+86139{rng.randrange(10**8):08d}") for c in customers], 150),
    ]  # fmt: skip

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; customers {total_customers:,}, "
          f"vehicles {total_vehicles:,}; store of {args.user}: {store_count:,} customers")  # fmt: skip
    print(f"{'query':26} {'n':>5} {'found':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>8}  ok")
    failures = 0
    for label, _kind, fn, values, target in kinds:
        fn(values[0])  # warm the plan cache and connection
        timings: list[tuple[float, str]] = []
        found = 0
        for value in values:
            reset_queries()
            started = time.perf_counter()
            items, _qs = fn(value)
            timings.append(((time.perf_counter() - started) * 1000, value))
            found += bool(items)
        ms = [t for t, _ in timings]
        p50, p95 = statistics.median(ms), percentile(ms, 95)
        ok = p95 < target
        failures += not ok
        print(f"{label:26} {len(ms):5d} {found:6d} {p50:8.1f} {p95:8.1f} {max(ms):8.1f} {'<' + str(int(target)):>8}  "
              f"{'yes' if ok else 'NO'}")  # fmt: skip
        if args.explain and connection.vendor == "postgresql" and _qs is not None:
            slow_ms, slow_value = max(timings)
            _items, qs = fn(slow_value)
            page_qs = qs.order_by("-id")[: PAGE + 1]
            print(f"  slowest: {slow_value!r} {slow_ms:.1f} ms")
            print("    " + page_qs.explain(analyze=True, buffers=True).replace("\n", "\n    "))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
