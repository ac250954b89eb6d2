"""The scaffolding the page benchmarks over HTTP share (``leads_lists.py``, ``service_ro_http.py``):
the environments (keys, production settings), the database (created when missing, migrated), the
static files, gunicorn with the production settings, wrk's request files, the warm-up, and the
runs — each endpoint measured by ``http_load.measure`` (wrk from another process on loopback, the
CPU of gunicorn and of the database's backends sampled from /proc) with the bare floor view
before and after — and their table.

Uses ``http_load``'s lower-level pieces (server, wrk, CPU sampling, sign-in) and changes none of
them."""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import http_load as hl  # noqa: E402

Endpoints = dict[str, tuple[str, list[str]]]  # name → (credentials: none | session | token, paths)


def load_average() -> str:
    return hl.read("/proc/loadavg").strip()


@dataclass
class Setting:
    """Where a benchmark runs: its data dir and the two environments (the management commands'
    and the production settings gunicorn and the measuring process use)."""

    data_dir: Path
    base_env: dict[str, str]
    prod_env: dict[str, str]


def setting(args: argparse.Namespace, default_dir: str, prod: dict[str, str] | None = None) -> Setting:
    """The data dir (``args.data_dir`` or ``var/<default_dir>``) with its keys, and the
    environments for ``args.pg``/``args.db``; ``prod`` adds to the production one."""
    data_dir = (args.data_dir or ROOT / "var" / default_dir).resolve()
    secret_key, data_key = hl.keys_in(data_dir)
    base_env = {**os.environ, "DATABASE_URL": f"{args.pg}/{args.db}", "AUTOCRM_DATA_DIR": str(data_dir),
                "SECRET_KEY": secret_key, "AUTOCRM_DATA_KEY": data_key, "LOG_LEVEL": "WARNING"}  # fmt: skip
    base_env.pop("AUTOCRM_ENV", None)
    base_env.pop("DJANGO_SETTINGS_MODULE", None)
    prod_env = {**base_env, "AUTOCRM_ENV": "production", "ALLOWED_HOSTS": f"{hl.HOST},localhost",
                "AUTOCRM_BENCH_FLOOR": "1", "DJANGO_SETTINGS_MODULE": "autocrm.config.settings", **(prod or {})}  # fmt: skip
    return Setting(data_dir, base_env, prod_env)


def ensure_database(env: dict[str, str], pg: str, db: str) -> None:
    """Create ``db`` when missing, then migrate it (kept between runs: the data is reused)."""
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')
    subprocess.run([str(hl.BIN / "autocrm"), "migrate", "--no-input", "-v0"], env=env, check=True)


def start_django(where: Setting) -> None:
    """Collect the static files, then set this process up under the production settings."""
    subprocess.run([str(hl.BIN / "autocrm"), "collectstatic", "--no-input", "-v0"], env=where.prod_env, check=True)
    os.environ.clear()
    os.environ.update(where.prod_env)
    import django

    django.setup()


@contextlib.contextmanager
def gunicorn(where: Setting, args: argparse.Namespace) -> Iterator[hl.Server]:
    """gunicorn with ``args.workers`` workers on ``args.port``, as ``http_load.py`` serves it;
    stopped on the way out."""
    log = where.data_dir / "gunicorn.log"
    proc = subprocess.Popen(
        [str(hl.BIN / "gunicorn"), "autocrm.config.wsgi:application", "--workers", str(args.workers),
         "--bind", f"{hl.HOST}:{args.port}", "--log-level", "warning", "--timeout", "60",
         "--config", str(ROOT / "scripts" / "gunicorn.conf.py")],
        env=where.prod_env, cwd=str(where.data_dir), stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = hl.Server(proc=proc, port=args.port, log=log)
    try:
        hl.wait_healthy(server)
        yield server
    finally:
        server.stop()


def request_files(
    where: Setting,
    endpoints: Endpoints,
    tokens: list[str],
    sessions: list[str],
    args: argparse.Namespace,
    *,
    prefix: str,
    name_of: Callable[[str], str],
) -> dict[str, Path]:
    """wrk's request file per endpoint (paths rotated over the credentials), in a new directory
    of the data dir."""
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=where.data_dir))
    files = {}
    for name, (kind, urls) in endpoints.items():
        files[name] = work / f"{name_of(name)}.tsv"
        lines = hl.request_lines(kind, urls, tokens, sessions, max(len(urls), args.connections * 4))
        files[name].write_text("\n".join(lines) + "\n")
    return files


def warm(files: dict[str, Path], args: argparse.Namespace) -> None:
    """One second of every endpoint on every connection (imports, templates, plans); not counted."""
    for path in files.values():
        hl.run_wrk(path, args.port, 1, args.connections, args.threads)


def measure_runs(
    order: list[str],
    measure: Callable[[str], dict[str, Any]],
    args: argparse.Namespace,
    *,
    load_label: str,
    other_cores: bool = False,
) -> list[dict[str, dict[str, Any]]]:
    """``args.runs`` runs over the endpoints in ``order`` (``floor`` first, ``floor again``
    last), each one's table printed as it ends: req/s, p50/p95/p99, ÷ the floor's req/s, CPU ms
    a request (gunicorn + the database's backends), queries (``measure``'s ``queries``), with
    ``other_cores`` the cores the other processes used; then the medians over the runs."""
    runs: list[dict[str, dict[str, Any]]] = []
    for run in range(1, args.runs + 1):
        results = {name: measure(name) for name in order}
        floor = statistics.fmean([results["floor"]["rps"], results["floor again"]["rps"]])
        print(f"\n-- run {run} of {args.runs} ({load_label}: {load_average()})")
        other = (" other cores |", "---|") if other_cores else ("", "")
        print(f"| endpoint | req/s | p50 ms | p95 ms | p99 ms | ÷ floor | CPU ms/req | queries |{other[0]} non-2xx |")
        print(f"|---|---|---|---|---|---|---|---|{other[1]}---|")
        for name, f in results.items():
            cores = f" {f['other_cores']:.2f} |" if other_cores else ""
            print(f"| {name} | {f['rps']:.0f} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | "
                  f"{f['rps'] / floor:.2f} | {f['cpu_ms']:.1f} | {f['queries']} |{cores} "
                  f"{f['non2xx'] + f['socket_errors']} |", flush=True)  # fmt: skip
        runs.append(results)
    if len(runs) > 1:
        print(f"\n-- p95 ms, median of {len(runs)} runs: " + ", ".join(
            f"{name} {statistics.median(r[name]['p95'] for r in runs):.1f}" for name in order))  # fmt: skip
        if other_cores:
            print(f"-- CPU ms/req, median of {len(runs)} runs: " + ", ".join(
                f"{name} {statistics.median(r[name]['cpu_ms'] for r in runs):.1f}" for name in order))  # fmt: skip
    return runs
