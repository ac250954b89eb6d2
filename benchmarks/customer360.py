"""Customer 360 latency (issue 4 target: p95 < 150 ms with a bounded number of queries).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench AUTOCRM_DATA_DIR=/tmp/acrm_bench
    .venv/bin/python benchmarks/customer360.py [--customers 200] [--seed 1]

For random customers of store a, as ``manager_a``:
- ``customer_360``: ``customers.selectors.customer_360`` (profile, household, consents in force,
  first timeline page, panels other apps registered — vehicles with their readings…), with
  every lazy part evaluated;
- ``360 page``: the whole page ``GET /customers/<id>/`` through the Django test client
  (middleware, actor, selectors, template), when the customers UI is installed.
p50/p95 and the number of SQL queries per call (min–max) are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def _touch(value: object) -> None:
    """Evaluate whatever the template would iterate (querysets, pages, panel contexts)."""
    if isinstance(value, dict):
        for v in value.values():
            _touch(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _touch(v)
    elif hasattr(value, "items") and hasattr(value, "next_cursor"):
        _touch(list(value.items))
    elif hasattr(value, "_fetch_all"):
        list(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--user", default="manager_a")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.customers.models import Customer
    from autocrm.customers.selectors import customer_360

    user = User.objects.get(username=args.user)
    actor = actor_build(user=user)
    rng = random.Random(args.seed)
    qs = Customer.objects.filter(store_id=actor.store_id, merged_into__isnull=True)
    lo = qs.order_by("id").values_list("id", flat=True).first()
    hi = qs.order_by("-id").values_list("id", flat=True).first()
    ids = list(qs.filter(id__in=[rng.randint(lo, hi) for _ in range(args.customers * 2)]).values_list("id", flat=True))
    ids = ids[: args.customers]
    rng.shuffle(ids)

    def run_selector(pk: int) -> None:
        _touch(customer_360(actor=actor, pk=pk))

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    try:
        reverse("customers:customer_detail", args=[ids[0]])
        page_available = True
    except NoReverseMatch:
        page_available = False

    def run_page(pk: int) -> None:
        response = client.get(reverse("customers:customer_detail", args=[pk]))
        assert response.status_code == 200, response.status_code

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; customers {Customer.objects.count():,}; "
          f"sample of {len(ids)} customers of {args.user}'s store")  # fmt: skip
    print(f"{'measure':16} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>9} {'target':>8}  ok")
    failures = 0
    for label, fn, enabled in (("customer_360", run_selector, True), ("360 page", run_page, page_available)):
        if not enabled:
            print(f"{label:16} (no customers:customer_detail URL installed)")
            continue
        fn(ids[0])
        timings, counts = [], []
        for pk in ids:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                fn(pk)
                timings.append((time.perf_counter() - started) * 1000)
            counts.append(len(captured))
        p95 = percentile(timings, 95)
        ok = p95 < 150
        failures += not ok
        print(f"{label:16} {len(timings):5d} {statistics.median(timings):8.1f} {p95:8.1f} {max(timings):8.1f} "
              f"{min(counts):>4}–{max(counts):<4} {'<150':>8}  {'yes' if ok else 'NO'}")  # fmt: skip
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
