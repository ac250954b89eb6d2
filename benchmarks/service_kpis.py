"""Service KPIs over long periods (issue 14 item 10, ADR 0026): CPU, wall time and queries of
``service.kpis.service_kpis`` (what ``/service/kpis/``, its chart data and ``GET
/api/v1/service-kpis`` answer) for the store (``service_manager_a``) and the group
(``director``) over this month, the last 12 months and the last two years; then the page itself
through the test client; and ``EXPLAIN ANALYZE`` of the two heaviest statements (first-time fix,
retention) on PostgreSQL with ``--explain``.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/h4_kpi AUTOCRM_DATA_DIR=/tmp/acrm_kpi
    .venv/bin/python benchmarks/service_kpis.py [--customers 33000] [--repeat 5] [--explain]

Migrates and runs ``autocrm demo --customers N`` when the database has no demo repair orders
(33,000 customers a store make ≈ 200,000 delivered repair orders over the years, with jobs,
parts and bills: ``demo.service_history``). Prints the repair orders in the database and the load
average: wall-clock figures move with the machine's load, CPU time and query counts do not
(PostgreSQL's own CPU is not in this process's CPU: read the wall on a quiet machine)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=33000, help="demo customers a store when none are loaded")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the statements (PostgreSQL)")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.core.periods import period_parse
    from autocrm.service import kpis
    from autocrm.service.models import RepairOrder

    if not RepairOrder.objects.exists():
        wall = time.perf_counter()
        call_command("demo", customers=args.customers, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"autocrm demo --customers {args.customers}: {time.perf_counter() - wall:.0f} s wall")
    total = RepairOrder.objects.count()  # scoped: the benchmark's own database
    delivered = RepairOrder.objects.filter(status="delivered").count()  # scoped: the benchmark's own database
    print(f"repair orders in the database: {total:,} ({delivered:,} delivered), {connection.vendor}")
    today = timezone.localdate()
    periods = (
        ("month", period_parse("this_month")),
        ("12 months", period_parse("custom", start=today - dt.timedelta(days=364), end=today)),
        ("2 years", period_parse("custom", start=today - dt.timedelta(days=729), end=today)),
    )
    for username in ("service_manager_a", "director"):
        actor = actor_build(user=User.objects.get(username=username))
        for name, period in periods:
            cpus, walls = [], []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as q:
                    c, w = time.process_time(), time.perf_counter()
                    data = kpis.service_kpis(actor=actor, period=period)
                    cpus.append(time.process_time() - c)
                    walls.append(time.perf_counter() - w)
            slowest = max(q.captured_queries, key=lambda x: float(x["time"]))
            t = data["totals"]
            print(f"{username:17} {name:9}: {t['repair_orders']:7,} ROs, {len(q.captured_queries):2} queries, "
                  f"CPU {statistics.median(cpus) * 1000:6.1f} ms, wall {statistics.median(walls) * 1000:7.1f} ms "
                  f"(median of {args.repeat}; slowest query {float(slowest['time']) * 1000:.0f} ms); first-time fix "
                  f"{t['first_time_fix_rate']}, comeback {t['comeback_rate']}, retention {t['retention_rate']}")  # fmt: skip
        client = Client()
        client.force_login(User.objects.get(username=username))
        for name, query in (("page, 2 years", {"period": "custom", "start": str(periods[2][1].start.date()),
                                                "end": str(today)}),):  # fmt: skip
            walls = []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as q:
                    w = time.perf_counter()
                    response = client.get("/service/kpis/data/", query)
                    walls.append(time.perf_counter() - w)
            assert response.status_code == 200, response.status_code
            print(
                f"{username:17} {name}: {len(q.captured_queries)} queries, wall {statistics.median(walls) * 1000:.1f} ms"
            )
    if args.explain and connection.vendor == "postgresql":
        actor = actor_build(user=User.objects.get(username="director"))
        with CaptureQueriesContext(connection) as q:
            kpis.service_kpis(actor=actor, period=periods[2][1])
        for query in sorted(q.captured_queries, key=lambda x: -float(x["time"]))[:3]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print(f"--- {float(query['time']) * 1000:.0f} ms: {query['sql'][:160]}…")
                print("\n".join(row[0] for row in cursor.fetchall()))
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
