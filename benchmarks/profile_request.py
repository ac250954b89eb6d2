"""CPU and Python calls per warm request, per endpoint of the HTTP benchmark (issue 11), in one
process through Django's test client under the production settings — the steady figures on a
shared machine, where wall-clock throughput moves with the neighbours' load.

    .venv/bin/python benchmarks/profile_request.py --db autocrm_bench --data-dir var/bench \\
        --redis redis://127.0.0.1:6379/6 [--requests 200] [--only detail,name] [--top 25]

For each endpoint: the requests are warmed once over the sampled values, then ``--requests``
requests are timed (the process's CPU, and the CPU of its PostgreSQL backend read from
``/proc/<pid>/stat``, which needs the server on this machine), then 20 more run under cProfile for
the call count (and ``--top`` the functions with the most own time). Values are sampled from
store a as ``http_load.py`` samples them (same seed), so the figures are comparable with its run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import http_load  # noqa: E402


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
    parser.add_argument("--db", default="autocrm_bench", help="a database on --pg, or a DATABASE_URL")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--redis", default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated endpoints (default all)")
    parser.add_argument("--top", type=int, default=0, help="print the N functions with most own time")
    parser.add_argument("--cumulative", default="", help="print the functions matching this regex by cumulative time")
    args = parser.parse_args()

    secret_key, data_key = http_load.keys_in(args.data_dir.resolve())
    env = {
        "DATABASE_URL": args.db if "://" in args.db else f"{args.pg}/{args.db}",
        "AUTOCRM_DATA_DIR": str(args.data_dir.resolve()),
        "SECRET_KEY": secret_key,
        "AUTOCRM_DATA_KEY": data_key,
        "LOG_LEVEL": "WARNING",
        "AUTOCRM_ENV": "production",
        "ALLOWED_HOSTS": f"{http_load.HOST},localhost",
        "AUTOCRM_BENCH_FLOOR": "1",
        "AUTOCRM_API_RATE_TOKEN": "100000000/min",
        "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
    }
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        env["REDIS_URL"] = args.redis
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    values, _info = http_load.sample(args.sample, args.seed)
    endpoints = http_load.paths(values)
    only = {n for n in args.only.split(",") if n}

    token_client = Client(HTTP_HOST=http_load.HOST)
    answer = token_client.post(
        "/api/v1/auth/token",
        {"username": http_load.USER, "password": http_load.PASSWORD},
        content_type="application/json",
        secure=True,
    )
    token = answer.json()["token"]
    session = Client(HTTP_HOST=http_load.HOST)
    session.get("/accounts/login/", secure=True)
    signed = session.post("/accounts/login/", {"username": http_load.USER, "password": http_load.PASSWORD}, secure=True)
    assert signed.status_code == 302, signed.status_code
    anon = Client(HTTP_HOST=http_load.HOST)
    tick = os.sysconf("SC_CLK_TCK")

    print(f"{'endpoint':10} {'app ms':>8} {'db ms':>7} {'total':>7} {'calls':>8}")
    for name, (kind, urls) in endpoints.items():
        if only and name not in only:
            continue
        client = {"token": anon, "session": session, "none": anon}[kind]
        headers = {"Authorization": f"Bearer {token}"} if kind == "token" else {}

        def get(url: str, client=client, headers=headers) -> None:
            response = client.get(url, secure=True, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")

        for url in urls:
            get(url)
        pid = 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
        run = [urls[i % len(urls)] for i in range(args.requests)]
        b0, c0 = backend_ticks(pid), time.process_time()
        for url in run:
            get(url)
        app = (time.process_time() - c0) / len(run) * 1000
        db = (backend_ticks(pid) - b0) / tick / len(run) * 1000
        profiler = cProfile.Profile()
        profiler.enable()
        for url in run[:20]:
            get(url)
        profiler.disable()
        stats = pstats.Stats(profiler)
        calls = stats.total_calls / 20  # type: ignore[attr-defined]
        print(f"{name:10} {app:8.2f} {db:7.2f} {app + db:7.2f} {calls:8.0f}", flush=True)
        if args.top:
            stats.sort_stats("tottime").print_stats(args.top)
        if args.cumulative:
            stats.sort_stats("cumulative").print_stats(args.cumulative, 60)


if __name__ == "__main__":
    main()
