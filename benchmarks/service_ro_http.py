"""The repair-order page over HTTP (issue 14 target: p95 < 150 ms on PostgreSQL): gunicorn with
the production settings, driven by wrk from another process on loopback, with the bare floor
view in the same run (before and after), as ``benchmarks/http_load.py`` and
``benchmarks/leads_lists.py`` do.

    .venv/bin/python benchmarks/service_ro_http.py --db h4 --data-dir /tmp/svcperf/ro_http --port 18400

On PostgreSQL database ``--db`` (created when missing and kept): migrates, loads the demo
(``autocrm demo``, years of delivered repair orders) when it has none, and adds one open repair
order in repair with ``--jobs`` jobs and a part per job (``benchmarks/service_ro_page.py``'s).
Then, signed in through the login form as ``service_manager_a`` (one session per connection):

* ``floor``: the bare view (one customer row, no middleware work beyond the stack's);
* ``RO page, delivered``: the pages of 200 of store a's delivered history repair orders, in turn;
* ``RO page, open``: the open repair order with its ``--jobs`` jobs and parts;
* ``RO list``: the repair-order list's first page;
* the floor again.

Per endpoint: req/s, p50/p95/p99, CPU ms per request of gunicorn and of the database's backends
(sampled from /proc), queries per request (test client, warm), the other processes' cores and
the load average: under load read the CPU and query figures, the wall-clock ones are the
machine's."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import _http  # noqa: E402  (gunicorn, wrk, the runs and their table: shared with leads_lists.py)
import http_load as hl  # noqa: E402  (server, wrk, CPU sampling)

USER = "service_manager_a"


def ensure_demo(env: dict[str, str], pg: str, db: str) -> None:
    import psycopg

    _http.ensure_database(env, pg, db)
    with psycopg.connect(f"{pg}/{db}", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM service_repairorder LIMIT 1").fetchone()
    if not found:
        subprocess.run([str(hl.BIN / "autocrm"), "demo", "-v0"], env=env, check=True)


def open_repair_order(jobs: int) -> int:
    """An open repair order of store a, in repair, with ``jobs`` jobs and a part each (made once)."""
    from autocrm.customers.tests.factories import actor_for
    from autocrm.service import services
    from autocrm.service.models import RepairOrder
    from autocrm.service.tests.factories import make_ro

    found = RepairOrder.objects.filter(complaint="HTTP bench").values_list("pk", flat=True).first()  # scoped: bench
    if found:
        return int(found)
    advisor = actor_for("advisor_a1")
    ro = make_ro(advisor, complaint="HTTP bench")
    for n in range(jobs):
        job = services.job_add(actor=advisor, repair_order=ro, data={"code": f"J{n}", "name": f"作业{n}", "hours": "1"})
        services.part_add(actor=advisor, repair_order=ro, data={"name": f"配件{n}", "quantity": "1",
                                                                "unit_price": "10.00", "job": job.pk})  # fmt: skip
    return ro.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="autocrm_robench")
    parser.add_argument("--data-dir", type=Path, default=None, help="keys, static files, logs (default var/robench)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="seconds of load per endpoint and run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8403)
    parser.add_argument("--jobs", type=int, default=12, help="jobs (and parts) on the open repair order")
    parser.add_argument("--show-queries", action="store_true", help="print each endpoint's SQL")
    args = parser.parse_args()
    where = _http.setting(args, "robench")
    print(f"uptime at the start: {_http.load_average()}; {os.cpu_count()} CPUs", flush=True)
    ensure_demo(where.base_env, args.pg, args.db)
    _http.start_django(where)
    from django.db import connection

    from autocrm.customers.models import Customer
    from autocrm.service.models import RepairOrder

    open_pk = open_repair_order(args.jobs)
    history = list(
        RepairOrder.objects.filter(store__code="a", status="delivered")  # scoped: the benchmark's own database
        .order_by("-closed_at")
        .values_list("pk", flat=True)[:200]
    )
    floor_ids = [str(pk) for pk in Customer.objects.order_by("id").values_list("id", flat=True)[:200]]  # scoped: bench
    total = RepairOrder.objects.count()  # scoped: the benchmark's own database
    connection.close()
    print(f"{total:,} repair orders; the open one #{open_pk} has {args.jobs} jobs and {args.jobs} parts")

    pg_conn = None
    try:
        with _http.gunicorn(where, args) as server:
            hl.USER = USER
            sessions = [hl.form_login(args.port) for _ in range(args.connections)]
            token = hl.api_token(args.port)
            endpoints = {
                "floor": ("none", [f"/_bench/floor/{pk}" for pk in floor_ids]),
                "RO page, delivered": ("session", [f"/service/{pk}/" for pk in history]),
                "RO page, open": ("session", [f"/service/{open_pk}/"]),
                "RO list": ("session", ["/service/"]),
            }
            queries = hl.count_queries(endpoints, token, show=args.show_queries)
            files = _http.request_files(where, endpoints, [token], sessions, args, prefix="robench_",
                                        name_of=lambda name: name.replace(" ", "_").replace(",", ""))  # fmt: skip
            pg_conn = hl.pg_connect(args.pg, args.db)
            _http.warm(files, args)
            order = [*endpoints, "floor again"]
            print(f"\ngunicorn {args.workers} workers on :{args.port}; wrk {args.threads} threads, {args.connections} "
                  f"connections, {args.seconds:.0f} s per endpoint; signed in as {USER}", flush=True)  # fmt: skip

            def measure(name: str) -> dict[str, Any]:
                key = "floor" if name == "floor again" else name
                figures = hl.measure(files[key], server, pg_conn, args.db, args)
                figures["queries"] = queries[key]
                return figures

            _http.measure_runs(order, measure, args, load_label="load average", other_cores=True)
    finally:
        if pg_conn is not None:
            pg_conn.close()
    print(f"\nload average at the end: {hl.read('/proc/loadavg').strip()}")


if __name__ == "__main__":
    main()
