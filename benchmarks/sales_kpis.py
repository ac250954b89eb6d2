"""Sales KPIs (issue 13 item 9) and the demo that feeds them (item 11): CPU and wall time and the
query count of the KPI data (``sales.kpis.sales_kpis``, what the page and ``GET
/api/v1/sales-kpis`` answer) and of the KPI page, for a consultant, the sales manager and the
director, over this year and over the demo's two years; and optionally the time of a fresh
``autocrm demo``.

    export AUTOCRM_DATA_DIR=/tmp/acrm_bench_kpis   # or DATABASE_URL=postgres://…
    .venv/bin/python benchmarks/sales_kpis.py [--demo] [--repeat 5]

Migrates and runs ``autocrm demo`` (2,000 customers a store: two years of leads and deals) when
the database has no demo leads; ``--demo`` times that run. Prints the load average: wall-clock
figures move with the machine's load, CPU time and query counts do not."""

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
    parser.add_argument("--demo", action="store_true", help="time a fresh `autocrm demo` (on an empty database)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.leads.models import Lead
    from autocrm.sales import kpis

    if not Lead.objects.exists():
        cpu, wall = time.process_time(), time.perf_counter()
        call_command("demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if args.demo:
            print(f"autocrm demo: {wall:.1f} s wall, {cpu:.1f} s CPU (this process; SQLite runs in it)")
    print(f"leads in the database: {Lead.objects.count()}")
    today = timezone.localdate()
    two_years = kpis.period_parse("custom", start=today - dt.timedelta(days=729), end=today)
    this_year = kpis.period_parse("this_year")
    for username in ("sales_a1", "sales_manager_a", "director"):
        user = User.objects.get(username=username)
        actor = actor_build(user=user)
        for name, period in (("this year", this_year), ("two years", two_years)):
            cpus, walls = [], []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as q:
                    c, w = time.process_time(), time.perf_counter()
                    kpis.sales_kpis(actor=actor, period=period)
                    cpus.append(time.process_time() - c)
                    walls.append(time.perf_counter() - w)
            print(f"{username:16} {name:9}: {len(q.captured_queries):2} queries, CPU {statistics.median(cpus) * 1000:6.1f} ms,"
                  f" wall {statistics.median(walls) * 1000:6.1f} ms (median of {args.repeat})")  # fmt: skip
        client = Client()
        client.force_login(user)
        walls = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as q:
                w = time.perf_counter()
                response = client.get("/sales/kpis/", {"period": "this_year"}, HTTP_HOST="localhost")
                walls.append(time.perf_counter() - w)
        assert response.status_code == 200, response.status_code
        print(
            f"{username:16} page     : {len(q.captured_queries):2} queries, wall {statistics.median(walls) * 1000:6.1f} ms"
        )
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
