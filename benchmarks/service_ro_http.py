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
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import http_load as hl  # noqa: E402  (server, wrk, CPU sampling)

USER = "service_manager_a"


def ensure_demo(env: dict[str, str], pg: str, db: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')
    subprocess.run([str(hl.BIN / "autocrm"), "migrate", "--no-input", "-v0"], env=env, check=True)
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
    data_dir = (args.data_dir or ROOT / "var" / "robench").resolve()
    secret_key, data_key = hl.keys_in(data_dir)
    base_env = {**os.environ, "DATABASE_URL": f"{args.pg}/{args.db}", "AUTOCRM_DATA_DIR": str(data_dir),
                "SECRET_KEY": secret_key, "AUTOCRM_DATA_KEY": data_key, "LOG_LEVEL": "WARNING"}  # fmt: skip
    base_env.pop("AUTOCRM_ENV", None)
    base_env.pop("DJANGO_SETTINGS_MODULE", None)
    prod_env = {**base_env, "AUTOCRM_ENV": "production", "ALLOWED_HOSTS": f"{hl.HOST},localhost",
                "AUTOCRM_BENCH_FLOOR": "1", "DJANGO_SETTINGS_MODULE": "autocrm.config.settings"}  # fmt: skip
    print(f"uptime at the start: {hl.read('/proc/loadavg').strip()}; {os.cpu_count()} CPUs", flush=True)
    ensure_demo(base_env, args.pg, args.db)
    subprocess.run([str(hl.BIN / "autocrm"), "collectstatic", "--no-input", "-v0"], env=prod_env, check=True)
    os.environ.clear()
    os.environ.update(prod_env)
    import django

    django.setup()
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

    server: hl.Server | None = None
    pg_conn = None
    try:
        log = data_dir / "gunicorn.log"
        proc = subprocess.Popen(
            [str(hl.BIN / "gunicorn"), "autocrm.config.wsgi:application", "--workers", str(args.workers),
             "--bind", f"{hl.HOST}:{args.port}", "--log-level", "warning", "--timeout", "60",
             "--config", str(ROOT / "scripts" / "gunicorn.conf.py")],
            env=prod_env, cwd=str(data_dir), stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = hl.Server(proc=proc, port=args.port, log=log)
        hl.wait_healthy(server)
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
        work = Path(tempfile.mkdtemp(prefix="robench_", dir=data_dir))
        files = {}
        for name, (kind, urls) in endpoints.items():
            files[name] = work / f"{name.replace(' ', '_').replace(',', '')}.tsv"
            lines = hl.request_lines(kind, urls, [token], sessions, max(len(urls), args.connections * 4))
            files[name].write_text("\n".join(lines) + "\n")
        pg_conn = hl.pg_connect(args.pg, args.db)
        for name in endpoints:  # warm every worker (imports, templates, plans); not counted
            hl.run_wrk(files[name], args.port, 1, args.connections, args.threads)
        order = [*endpoints, "floor again"]
        print(f"\ngunicorn {args.workers} workers on :{args.port}; wrk {args.threads} threads, {args.connections} "
              f"connections, {args.seconds:.0f} s per endpoint; signed in as {USER}", flush=True)  # fmt: skip
        runs: list[dict[str, dict[str, Any]]] = []
        for run in range(1, args.runs + 1):
            results: dict[str, dict[str, Any]] = {}
            for name in order:
                key = "floor" if name == "floor again" else name
                figures = hl.measure(files[key], server, pg_conn, args.db, args)
                figures["queries"] = queries[key]
                results[name] = figures
            floor = statistics.fmean([results["floor"]["rps"], results["floor again"]["rps"]])
            print(f"\n-- run {run} of {args.runs} (load average: {hl.read('/proc/loadavg').strip()})")
            print(
                "| endpoint | req/s | p50 ms | p95 ms | p99 ms | ÷ floor | CPU ms/req | queries | other cores | non-2xx |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|")
            for name, f in results.items():
                print(f"| {name} | {f['rps']:.0f} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | "
                      f"{f['rps'] / floor:.2f} | {f['cpu_ms']:.1f} | {f['queries']} | {f['other_cores']:.2f} | "
                      f"{f['non2xx'] + f['socket_errors']} |", flush=True)  # fmt: skip
            runs.append(results)
        if len(runs) > 1:
            print(f"\n-- p95 ms, median of {len(runs)} runs: " + ", ".join(
                f"{name} {statistics.median(r[name]['p95'] for r in runs):.1f}" for name in order))  # fmt: skip
            print(f"-- CPU ms/req, median of {len(runs)} runs: " + ", ".join(
                f"{name} {statistics.median(r[name]['cpu_ms'] for r in runs):.1f}" for name in order))  # fmt: skip
    finally:
        if pg_conn is not None:
            pg_conn.close()
        if server is not None:
            server.stop()
    print(f"\nload average at the end: {hl.read('/proc/loadavg').strip()}")


if __name__ == "__main__":
    main()
