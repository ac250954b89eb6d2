"""Parts: what one stock write costs (issue, reserve, receive) in CPU time and queries, and how the
ledger holds under contention — ``--workers`` processes issuing one unit each from the same part
until it runs out: the balance must end at exactly zero, with one issue row per unit and every
other attempt a 409.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/<your db> AUTOCRM_DATA_DIR=/tmp/acrm_bench_parts
    .venv/bin/python benchmarks/parts_stock.py [--ops 300] [--units 200] [--workers 2]

Migrates the database and creates the demo organization when missing. Prints CPU ms and queries
per operation (stable under load), the wall-clock rates and the load average."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def _setup() -> None:
    import django

    django.setup()


def _actors():  # type: ignore[no-untyped-def]
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build

    keeper = actor_build(user=User.objects.get(username="service_manager_a"))
    advisor = actor_build(user=User.objects.get(username="advisor_a1"))
    return keeper, advisor


def _part(keeper, number: str, on_hand: int):  # type: ignore[no-untyped-def]
    from autocrm.parts import services
    from autocrm.parts.models import Part

    Part.objects.filter(part_number=number).update(part_number=f"{number}-{time.time_ns()}")
    part = services.part_create(actor=keeper, data={"part_number": number, "name": "基准机滤", "cost": "20"})
    if on_hand:
        services.stock_receive(actor=keeper, part=part, qty=on_hand)
    part.refresh_from_db()
    return part


def _measure(label: str, n: int, fn) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn(0)
    queries = len(ctx.captured_queries)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(1, n + 1):
        fn(i)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"{label:<28} {cpu / n * 1000:7.2f} ms CPU/op  {queries:3d} queries/op  {n / wall:8.0f} ops/s wall")


def _hammer(args: tuple[int, int]) -> tuple[int, int]:
    part_id, attempts = args
    _setup()
    from autocrm.core.errors import Conflict
    from autocrm.parts import services
    from autocrm.parts.models import Part

    _, advisor = _actors()
    won = lost = 0
    for i in range(attempts):
        part = Part.objects.get(pk=part_id)
        try:
            services.stock_issue(
                actor=advisor, part=part, qty=1, reference=("bench.repairorder", os.getpid() * 10**6 + i)
            )
            won += 1
        except Conflict:
            lost += 1
    return won, lost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args()
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import User
    from autocrm.demo.services import demo_create

    if not User.objects.filter(username="service_manager_a").exists():
        demo_create()
    from django.db import connection

    from autocrm.parts import services
    from autocrm.parts.models import StockMovement

    keeper, advisor = _actors()
    print(f"database: {connection.vendor}; load average: {os.getloadavg()}")
    part = _part(keeper, "BENCH-ISSUE", opts.ops * 2 + 10)
    _measure("stock_issue", opts.ops, lambda i: services.stock_issue(
        actor=advisor, part=part, qty=1, reference=("bench.repairorder", i + 1)))  # fmt: skip
    part = _part(keeper, "BENCH-RESERVE", opts.ops * 2 + 10)
    _measure("stock_reserve (new ref)", opts.ops, lambda i: services.stock_reserve(
        actor=advisor, part=part, qty=1, reference=("bench.repairorder", i + 1)))  # fmt: skip
    _measure("stock_issue (reserved)", opts.ops, lambda i: services.stock_issue(
        actor=advisor, part=part, qty=1, reference=("bench.repairorder", i + 1)))  # fmt: skip
    _measure("stock_receive", opts.ops, lambda i: services.stock_receive(actor=keeper, part=part, qty=1))

    connection.close()
    contested = _part(keeper, "BENCH-LAST", opts.units)
    connection.close()
    per = opts.units  # each worker alone would try to take everything
    wall0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(opts.workers) as pool:
        results = pool.map(_hammer, [(contested.pk, per)] * opts.workers)
    wall = time.perf_counter() - wall0
    contested.refresh_from_db()
    won, lost = sum(r[0] for r in results), sum(r[1] for r in results)
    issues = StockMovement.objects.filter(part=contested, kind="issue").count()
    ok = contested.on_hand == 0 and won == opts.units == issues
    print(f"contention: {opts.workers} workers, {opts.units} units: {won} issued, {lost} refused (409), "
          f"{issues} ledger rows, on hand {contested.on_hand} — {'OK' if ok else 'BROKEN'}; "
          f"{(won + lost) / wall:.0f} attempts/s wall")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
