"""CPU per warm request of the leads pages (issue 13), in one process through Django's test
client under the production settings, on the database ``leads_lists.py`` builds — the steady
figure on a shared machine — and where it goes (cProfile or pyinstrument).

    .venv/bin/python benchmarks/profile_leads.py --db h8_leadbench --data-dir /tmp/leadperf/data \\
        [--requests 100] [--only list,open,home] [--user bench_a01] [--top 30] [--pyinstrument]

Endpoints: ``floor`` (the bare view), ``list`` (``/leads/``), ``open`` (``/leads/?status=open``),
``home`` (``/``, the to-do list), ``api`` (``GET /api/v1/leads?limit=50``). ``--intake N`` also
times N ``lead_create`` calls as ``sales_manager_a`` (new numbers; CPU and queries a lead).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import http_load  # noqa: E402

ENDPOINTS = {
    "floor": ("none", None),
    "list": ("session", "/leads/"),
    "open": ("session", "/leads/?status=open"),
    "home": ("session", "/"),
    "api": ("token", "/api/v1/leads?limit=50"),
}


def backend_ticks(pid: int) -> int:
    if not pid:
        return 0
    try:
        return http_load.process_ticks(http_load.read(f"/proc/{pid}/stat"))
    except OSError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="h8_leadbench")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/leadperf/data"))  # noqa: S108
    parser.add_argument("--redis", default=None)
    parser.add_argument("--user", default="bench_a01")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--only", default="", help="comma-separated endpoints (default all)")
    parser.add_argument("--top", type=int, default=0, help="print the N functions with most own time")
    parser.add_argument("--cumulative", default="", help="print the functions matching this regex by cumulative time")
    parser.add_argument("--pyinstrument", action="store_true", help="print a pyinstrument tree of 20 requests")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the warmed objects to the collector (gunicorn's pre_fork freezes the imports)",
    )
    parser.add_argument("--intake", type=int, default=0, help="time N lead_create calls too")
    args = parser.parse_args()

    secret_key, data_key = http_load.keys_in(args.data_dir.resolve())
    env = {
        "DATABASE_URL": f"{args.pg}/{args.db}", "AUTOCRM_DATA_DIR": str(args.data_dir.resolve()),
        "SECRET_KEY": secret_key, "AUTOCRM_DATA_KEY": data_key, "LOG_LEVEL": "WARNING",
        "AUTOCRM_ENV": "production", "ALLOWED_HOSTS": f"{http_load.HOST},localhost", "AUTOCRM_BENCH_FLOOR": "1",
        "AUTOCRM_API_RATE_TOKEN": "100000000/min", "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
    }  # fmt: skip
    if args.redis:
        env["REDIS_URL"] = args.redis
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from autocrm.customers.models import Customer

    floor_ids = list(Customer.objects.order_by("id").values_list("id", flat=True)[:50])  # scoped: benchmark
    token_client = Client(HTTP_HOST=http_load.HOST)
    answer = token_client.post("/api/v1/auth/token", {"username": args.user, "password": http_load.PASSWORD},
                               content_type="application/json", secure=True)  # fmt: skip
    token = answer.json()["token"]
    session = Client(HTTP_HOST=http_load.HOST)
    session.get("/accounts/login/", secure=True)
    signed = session.post("/accounts/login/", {"username": args.user, "password": http_load.PASSWORD}, secure=True)
    assert signed.status_code == 302, signed.status_code
    anon = Client(HTTP_HOST=http_load.HOST)
    tick = os.sysconf("SC_CLK_TCK")
    only = {n for n in args.only.split(",") if n}
    pid = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    print(f"{args.user}; uptime {http_load.read('/proc/loadavg').strip()}")
    print(f"{'endpoint':10} {'app ms':>8} {'median':>8} {'db ms':>7} {'total':>7} {'queries':>8} {'calls':>8}")
    for name, (kind, url) in ENDPOINTS.items():
        if only and name not in only:
            continue
        client = {"token": anon, "session": session, "none": anon}[kind]
        headers = {"Authorization": f"Bearer {token}"} if kind == "token" else {}
        urls = [f"/_bench/floor/{pk}" for pk in floor_ids] if url is None else [url]

        def get(url: str, client: Client = client, headers: dict[str, str] = headers) -> None:
            response = client.get(url, secure=True, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")

        for u in urls * 3:
            get(u)
        if not args.no_freeze:
            gc.collect()
            gc.freeze()  # as a gunicorn worker is, after its warm-up (scripts/gunicorn.conf.py freezes at fork)
        connection.force_debug_cursor = True
        with CaptureQueriesContext(connection) as captured:
            get(urls[0])
        run = [urls[i % len(urls)] for i in range(args.requests)]
        b0, c0 = backend_ticks(pid), time.process_time()
        each = []
        for u in run:
            t0 = time.process_time()
            get(u)
            each.append(time.process_time() - t0)
        app = (time.process_time() - c0) / len(run) * 1000
        db = (backend_ticks(pid) - b0) / tick / len(run) * 1000
        median = statistics.median(each) * 1000
        profiler = cProfile.Profile()
        profiler.enable()
        for u in run[:20]:
            get(u)
        profiler.disable()
        stats = pstats.Stats(profiler)
        calls = stats.total_calls / 20  # type: ignore[attr-defined]
        print(
            f"{name:10} {app:8.2f} {median:8.2f} {db:7.2f} {app + db:7.2f} {len(captured):8} {calls:8.0f}", flush=True
        )
        if args.top:
            stats.sort_stats("tottime").print_stats(args.top)
        if args.cumulative:
            stats.sort_stats("cumulative").print_stats(args.cumulative, 60)
        if args.pyinstrument:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0002)
            prof.start()
            for u in run[:20]:
                get(u)
            prof.stop()
            print(prof.output_text(unicode=True, color=False, show_all=False))
    if args.intake:
        intake(args.intake, args.top, pid, tick)


def intake(n: int, top: int, pid: int, tick: int) -> None:
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.leads.services import lead_create

    actor = actor_build(user=User.objects.get(username="sales_manager_a"))
    rng = random.Random(time.time_ns())
    numbers = [f"+86139{rng.randrange(10**8):08d}" for _ in range(n + 80)]
    run = rng.randrange(10**9)
    lead_create(actor=actor, data={"name": "预热", "mobile": numbers.pop()}, source="autohome")
    b0, c0 = backend_ticks(pid), time.process_time()
    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as captured:
        for i in range(n):
            lead_create(actor=actor, data={"name": "基准客户", "model_interest": "Model Y", "mobile": numbers.pop(),
                                           "external_id": f"prof-{run}-{i}"}, source="autohome")  # fmt: skip
    app = (time.process_time() - c0) / n * 1000
    db = (backend_ticks(pid) - b0) / tick / n * 1000
    print(f"intake     {app:8.2f} {db:7.2f} {app + db:7.2f} {len(captured) / n:8.1f}")
    if top:
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(min(n, 50)):
            lead_create(actor=actor, data={"name": "基准客户", "model_interest": "Model Y", "mobile": numbers.pop(),
                                           "external_id": f"prof-{run}-p{i}"}, source="autohome")  # fmt: skip
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
