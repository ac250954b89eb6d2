"""What users and integrations meet over HTTP (issue 11): gunicorn with 4 workers and production
settings on PostgreSQL, driven by wrk from a second process on loopback with real API tokens and
real form-login sessions, against a bare Django view of the same project (the floor).

    .venv/bin/python benchmarks/http_load.py                      # 20,000 customers per store, 3 runs
    .venv/bin/python benchmarks/http_load.py --customers 500000   # the issue's 1,000,000 (~30 min to load)
    .venv/bin/python benchmarks/http_load.py --quick              # CI: small data, 2 s per endpoint, no timing asserted
    .venv/bin/python benchmarks/http_load.py --db autocrm_bench --reuse --data-dir var/bench   # an already loaded database
    .venv/bin/python benchmarks/http_load.py --redis redis://127.0.0.1:6379/5   # REDIS_URL set, as in production

What it does:

1. creates a fresh database ``autocrm_httpbench`` (``--db``) on ``--pg``, migrates it and loads the
   demo with ``autocrm demo --customers N --seed S`` (development settings: the demo refuses
   production). The secret key and data key are read from, or written to, ``--data-dir`` (the
   files ``secret_key`` and ``data_key`` the settings generate), so the loader and the server agree
   and a loaded database can be reused;
2. serves it with gunicorn (4 sync workers, ``AUTOCRM_ENV=production``) on 127.0.0.1:8401, with
   ``AUTOCRM_BENCH_FLOOR=1`` (mounts the floor view) and the per-token rate limit raised so that
   one token may make the benchmark's calls (the limit is still counted on every call);
3. gets one API token per connection (``POST /api/v1/auth/token`` as manager_a) and one form-login
   session per connection (GET the login page, POST it with its CSRF token), and writes, per
   endpoint, a file of requests rotating over values sampled from store a (mobiles, plates, VIN
   tails, names, customer ids) and over the tokens or sessions;
4. counts the queries of one warm request per endpoint, in this process, through Django's test
   client under the same settings (``CaptureQueriesContext``): the server is not instrumented;
5. runs wrk (``benchmarks/http_load.lua``) for each endpoint back to back, the floor first and
   last, ``--runs`` times, and prints per run: req/s, p50/p95/p99, non-2xx answers, queries per
   request, the largest worker RSS (``/proc``), CPU per request of the workers and the database
   backends, the CPU every other process used meanwhile (``/proc/stat`` less ours), the 1-minute
   load, and each endpoint's throughput as a ratio to the floor's (the mean of the two floor
   runs of the same round); then the median over the runs.

Every request carries ``X-Forwarded-Proto: https``, as the TLS-terminating proxy a production
deployment sits behind sends (``SECURE_PROXY_SSL_HEADER``): the production settings stay as they
are — HTTPS redirect, secure cookies, HSTS, CSRF's referer check — and nothing is switched off.

Stops gunicorn and drops the database it created when done (``--keep-db`` keeps it). With
``--quick`` it exits 1 when any answer was not 2xx or wrk saw socket errors (a broken benchmark),
never because of a time.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "http_load.lua"
MARK = "HTTPBENCH "
USER = "manager_a"
PASSWORD = "autocrm-demo"  # noqa: S105 (the documented demo password)
HOST = "127.0.0.1"
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}

# The endpoints, in the order they run (the floor first and again last).
ENDPOINTS = ("floor", "mobile", "plate", "vin6", "name", "detail", "c360", "list", "mixed", "floor2")
LABELS = {
    "floor": "floor (bare view, 1 row)",
    "mobile": "API search: mobile",
    "plate": "API search: plate",
    "vin6": "API search: VIN last 6",
    "name": "API search: name",
    "detail": "API customer detail",
    "c360": "page: customer 360",
    "list": "page: customer list",
    "mixed": "mixed blend",
    "floor2": "floor again (end)",
}
# The mixed blend: what a store's staff and integrations do in a day, by share of requests.
MIX = {"mobile": 15, "plate": 10, "vin6": 10, "name": 10, "detail": 25, "c360": 20, "list": 10}


# --- pure helpers (tested in benchmarks/tests/test_http_load.py) ----------------------------


def parse_wrk(output: str) -> dict[str, Any]:
    """The figures of one wrk run from its output (the JSON line http_load.lua prints), with
    req/s computed and latencies in milliseconds."""
    for line in output.splitlines():
        if line.startswith(MARK):
            raw = json.loads(line[len(MARK) :])
            break
    else:
        raise ValueError("no HTTPBENCH line in wrk's output:\n" + output[-2000:])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": seconds,
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50": raw["p50_us"] / 1000,
        "p95": raw["p95_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "max": raw["max_us"] / 1000,
        "mean": raw["mean_us"] / 1000,
        "non2xx": raw["non2xx"],
        "last_bad_status": raw["last_bad_status"],
        "socket_errors": sum(raw["errors"].values()),
    }


def cpu_busy_ticks(proc_stat: str) -> int:
    """Busy clock ticks of the whole machine from /proc/stat (everything but idle and iowait)."""
    fields = proc_stat.splitlines()[0].split()
    assert fields[0] == "cpu"
    values = [int(v) for v in fields[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def process_ticks(pid_stat: str) -> int:
    """utime + stime of one process from /proc/<pid>/stat (the name may hold spaces)."""
    rest = pid_stat.rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])  # fields 14 and 15 of the man page


def rss_mb(pid_status: str) -> float:
    match = re.search(r"^VmRSS:\s+(\d+) kB", pid_status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def pss_uss_mb(smaps_rollup: str) -> tuple[float, float]:
    """PSS and USS of one process from /proc/<pid>/smaps_rollup. With ``preload_app`` the
    workers share the master's pages copy-on-write and RSS counts them in every worker; PSS
    charges each shared page to its sharers in equal parts (the workers' PSS and the master's
    add up to what the server uses) and USS is what the process alone holds."""
    kb = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", smaps_rollup, re.MULTILINE)}
    return kb.get("Pss", 0) / 1024, (kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024


def memory_figures(pids: Sequence[int]) -> dict[str, float]:
    """The largest worker's RSS, PSS and USS (MB); 0 for a process gone meanwhile."""
    rss, pss, uss = [0.0], [0.0], [0.0]
    for pid in pids:
        try:
            rss.append(rss_mb(read(f"/proc/{pid}/status")))
            p, u = pss_uss_mb(read(f"/proc/{pid}/smaps_rollup"))
        except OSError:
            continue
        pss.append(p)
        uss.append(u)
    return {"rss_mb": max(rss), "pss_mb": max(pss), "uss_mb": max(uss)}


def blend(lines: dict[str, list[str]], weights: dict[str, int], count: int, rng: random.Random) -> list[str]:
    """``count`` request lines drawn from each endpoint's lines in proportion to ``weights``."""
    names = sorted(weights)
    picks = rng.choices(names, weights=[weights[n] for n in names], k=count)
    return [rng.choice(lines[name]) for name in picks]


def with_ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each endpoint's figures plus ``ratio``: its req/s over the floor's (the mean of the floor's
    first and last runs when both ran)."""
    floors = [results[k]["rps"] for k in ("floor", "floor2") if k in results]
    floor = statistics.fmean(floors) if floors else 0.0
    return {name: {**row, "ratio": row["rps"] / floor if floor else float("nan")} for name, row in results.items()}


def median_over_runs(runs: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per endpoint, the median of every numeric figure over the runs, plus ``<figure>_range``
    (min, max) for req/s, p95, p99 and the ratio."""
    out: dict[str, dict[str, Any]] = {}
    for name in runs[0]:
        rows = [run[name] for run in runs if name in run]
        merged: dict[str, Any] = {}
        for key, value in rows[0].items():
            if isinstance(value, (int, float)):
                values = [row[key] for row in rows]
                merged[key] = statistics.median(values)
                if key in ("rps", "p95", "p99", "ratio"):
                    merged[key + "_range"] = (min(values), max(values))
            else:
                merged[key] = value
        out[name] = merged
    return out


COLUMNS = (
    ("endpoint", 26, "{label}"),
    ("req/s", 7, "{rps:.0f}"),
    ("p50 ms", 7, "{p50:.1f}"),
    ("p95 ms", 7, "{p95:.1f}"),
    ("p99 ms", 7, "{p99:.1f}"),
    ("non2xx", 6, "{non2xx:.0f}"),
    ("queries", 7, "{queries}"),
    ("RSS MB", 6, "{rss_mb:.0f}"),
    ("PSS MB", 6, "{pss_mb:.0f}"),
    ("CPU ms/req", 10, "{cpu_ms:.1f}"),
    ("others", 6, "{other_cores:.2f}"),
    ("load", 5, "{load:.2f}"),
    ("÷ floor", 7, "{ratio:.2f}"),
)


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """The table printed after each run (and for the medians): one line per endpoint. ``RSS MB``
    and ``PSS MB`` are the largest worker's (PSS: shared pages split among their sharers), ``CPU ms/req`` the workers' and database backends' CPU per request,
    ``others`` the cores every other process used meanwhile, ``load`` the 1-minute load after."""
    header = " ".join(f"{title:>{width}}" if i else f"{title:{width}}" for i, (title, width, _) in enumerate(COLUMNS))
    lines = [header]
    for name, row in results.items():
        values = {"label": LABELS.get(name, name), "queries": "-", **row}
        cells = []
        for i, (_title, width, fmt) in enumerate(COLUMNS):
            try:
                text = fmt.format(**values)
            except (KeyError, ValueError):
                text = "-"
            cells.append(f"{text:>{width}}" if i else f"{text:{width}}")
        lines.append(" ".join(cells))
    return "\n".join(lines)


def format_ranges(results: dict[str, dict[str, Any]]) -> str:
    """req/s, p95, p99 and ratio as ``median (min–max)`` over the runs, for docs/benchmarks.md."""
    lines = ["| endpoint | req/s | p95 ms | p99 ms | ÷ floor | queries |", "|---|---|---|---|---|---|"]
    for name, row in results.items():

        def cell(key: str, fmt: str, row: dict[str, Any] = row) -> str:
            lo, hi = row.get(key + "_range", (row[key], row[key]))
            return f"{row[key]:{fmt}} ({lo:{fmt}}–{hi:{fmt}})"

        lines.append(
            f"| {LABELS.get(name, name)} | {cell('rps', '.0f')} | {cell('p95', '.1f')} | {cell('p99', '.1f')} "
            f"| {cell('ratio', '.2f')} | {row.get('queries', '-')} |"
        )
    return "\n".join(lines)


# --- the machinery ----------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={**PROXY_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def cookies_of(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            found[key.strip()] = val.strip()
    return found


def api_token(port: int) -> str:
    body = json.dumps({"username": USER, "password": PASSWORD}).encode()
    status, _headers, data = request(port, "POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    if status != 200:
        raise SystemExit(f"POST /api/v1/auth/token answered {status}: {data[:300]!r}")
    return json.loads(data)["token"]


def form_login(port: int) -> str:
    """A signed-in session the way a browser gets one: the login page, then its form posted
    with the CSRF token. Returns the Cookie header value."""
    status, headers, page = request(port, "GET", "/accounts/login/")
    if status != 200:
        raise SystemExit(f"GET /accounts/login/ answered {status}")
    cookies = cookies_of(headers)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match or "csrftoken" not in cookies:
        raise SystemExit("the login page has no CSRF token")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "username": USER, "password": PASSWORD, "next": ""}
    ).encode()
    status, headers, data = request(
        port,
        "POST",
        "/accounts/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Referer": f"https://{HOST}:{port}/accounts/login/",
        },
    )
    cookies.update(cookies_of(headers))
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"signing in through the form answered {status}: {data[:300]!r}")
    return f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}"


def wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.proc.returncode}); see {server.log}")
        try:
            status, _h, _b = request(server.port, "GET", "/api/v1/health")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer /api/v1/health within {timeout:.0f} s; see {server.log}")


def read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


class CpuTracker:
    """CPU ticks of a changing set of processes over an interval (PostgreSQL backends come and go:
    ``CONN_MAX_AGE`` closes a worker's connection after a minute). A process seen at the start
    counts from its ticks then, one that appears later from zero (it started within the
    interval), one that exits up to its last sample — so sample often."""

    def __init__(self, ticks: dict[int, int]) -> None:
        self.start = dict(ticks)
        self.last = dict(ticks)
        self.banked = 0

    def sample(self, ticks: dict[int, int]) -> None:
        for pid, value in ticks.items():
            if pid not in self.start:
                self.start[pid] = self.last[pid] = 0
            elif value < self.last[pid]:  # the pid was reused by a new process
                self.banked += self.last[pid] - self.start[pid]
                self.start[pid] = 0
            self.last[pid] = value

    def total(self) -> int:
        return self.banked + sum(self.last[pid] - self.start[pid] for pid in self.last)


def ticks_of(pids: Iterable[int]) -> dict[int, int]:
    out = {}
    for pid in pids:
        text = read(f"/proc/{pid}/stat")
        if text:
            out[pid] = process_ticks(text)
    return out


def own_seconds() -> float:
    """CPU seconds of this process and its waited-for children (wrk)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime + me.ru_utime + me.ru_stime


def wrk_command(port: int, seconds: float, connections: int, threads: int) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}/",
    ]


def run_wrk(requests_file: Path, port: int, seconds: float, connections: int, threads: int) -> str:
    env = {**os.environ, "HTTPBENCH_REQUESTS": str(requests_file)}
    cmd = wrk_command(port, seconds, connections, threads)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def pg_connect(pg: str, db: str):
    import psycopg

    return psycopg.connect(f"{pg}/{db}", autocommit=True)


def backends(conn, db: str) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db]
    ).fetchall()
    return [r[0] for r in rows]


def keys_in(data_dir: Path) -> tuple[str, str]:
    """The secret key and data key of this benchmark's data (the files the settings generate in
    development), written once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for name, make in (
        ("secret_key", lambda: secrets.token_urlsafe(50)),
        ("data_key", lambda: "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()),
    ):
        path = data_dir / name
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        out.append(path.read_text().strip())
    return out[0], out[1]


def load(args: argparse.Namespace, env: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')
    started = time.monotonic()
    subprocess.run([str(BIN / "autocrm"), "migrate", "--no-input", "-v0"], env=env, check=True)
    subprocess.run(
        [str(BIN / "autocrm"), "demo", "--customers", str(args.customers), "--seed", str(args.seed), "-v0"],
        env=env,
        check=True,
    )
    print(f"loaded {args.customers:,} customers per store in {time.monotonic() - started:.0f} s", flush=True)


def sample(count: int, seed: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Values from store a's own rows: API search queries, customer ids. Django is set up."""
    from autocrm.accounts.models import User
    from autocrm.core.identifiers import mobile_national
    from autocrm.customers.models import Customer
    from autocrm.vehicles.models import Vehicle

    rng = random.Random(seed)
    store_id = User.objects.get(username=USER).memberships.values_list("store_id", flat=True).first()

    def rows(qs, fields: tuple[str, ...]) -> list[Any]:
        lo = qs.order_by("id").values_list("id", flat=True).first()
        hi = qs.order_by("-id").values_list("id", flat=True).first()
        ids = [rng.randint(lo, hi) for _ in range(count * 3)]
        found = list(qs.filter(id__in=ids).only(*fields)[:count])
        rng.shuffle(found)
        return found

    customers = rows(Customer.objects.filter(store_id=store_id), ("id", "name", "mobile"))
    vehicles = rows(Vehicle.objects.filter(store_id=store_id).exclude(plate=""), ("id", "plate", "vin"))
    values = {
        "mobile": [mobile_national(c.mobile) for c in customers if c.mobile],
        "plate": [v.plate for v in vehicles],
        "vin6": [v.vin[-6:] for v in vehicles],
        "name": [c.name for c in customers],
        "ids": [str(c.pk) for c in customers],
    }
    info = {
        "customers": Customer.objects.count(),
        "vehicles": Vehicle.objects.count(),
        "store_customers": Customer.objects.filter(store_id=store_id).count(),
    }
    return values, info


def paths(values: dict[str, list[str]]) -> dict[str, tuple[str, list[str]]]:
    """Per endpoint: the kind of credential ("token", "session" or "none") and its paths."""

    def search(qs: list[str]) -> list[str]:
        return ["/api/v1/customers?" + urllib.parse.urlencode({"q": q}) for q in qs]

    ids = values["ids"]
    return {
        "floor": ("none", [f"/_bench/floor/{pk}" for pk in ids]),
        "mobile": ("token", search(values["mobile"])),
        "plate": ("token", search(values["plate"])),
        "vin6": ("token", search(values["vin6"])),
        "name": ("token", search(values["name"])),
        "detail": ("token", [f"/api/v1/customers/{pk}" for pk in ids]),
        "c360": ("session", [f"/customers/{pk}/" for pk in ids]),
        "list": ("session", ["/customers/"]),
    }


def request_lines(kind: str, urls: list[str], tokens: list[str], sessions: list[str], count: int) -> list[str]:
    """``count`` lines for the Lua script, rotating over the paths and the credentials."""
    proxy = [f"{k}: {v}" for k, v in PROXY_HEADERS.items()]
    lines = []
    for i in range(count):
        headers = list(proxy)
        if kind == "token":
            headers.append(f"Authorization: Bearer {tokens[i % len(tokens)]}")
        elif kind == "session":
            headers.append(f"Cookie: {sessions[i % len(sessions)]}")
        lines.append("\t".join([urls[i % len(urls)], *headers]))
    return lines


def count_queries(endpoints: dict[str, tuple[str, list[str]]], token: str, show: bool = False) -> dict[str, int]:
    """Queries of one warm request per endpoint, through the test client in this process
    (``show``: print their SQL)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    page = client.get("/accounts/login/", secure=True)
    assert page.status_code == 200, page.status_code
    signed_in = client.post("/accounts/login/", {"username": USER, "password": PASSWORD}, secure=True)
    assert signed_in.status_code == 302, signed_in.status_code
    counts = {}
    for name, (kind, urls) in endpoints.items():
        headers = {"Authorization": f"Bearer {token}"} if kind == "token" else {}
        c = client if kind == "session" else Client(HTTP_HOST=HOST)
        for i, url in enumerate((urls * 2)[:2]):  # the first warms the worker's caches; the second is counted
            with CaptureQueriesContext(connection) as captured:
                response = c.get(url, secure=True, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code} through the test client")
            if i == 1:
                counts[name] = len(captured)
                if show:
                    print(f"-- {name}: {url} ({len(captured)} queries)")
                    for query in captured.captured_queries:
                        print("   ", query["sql"][:300])
    connection.close()
    return counts


def measure(requests_file: Path, server: Server, pg_conn: Any, db: str, args: argparse.Namespace) -> dict[str, Any]:
    """One wrk run, with the CPU of gunicorn and of our database's backends sampled meanwhile
    (every 0.2 s) and the machine's busy time, so the rest is what other processes used."""

    def ours() -> dict[int, int]:
        return ticks_of([server.proc.pid, *server.workers(), *backends(pg_conn, db)])

    tick = os.sysconf("SC_CLK_TCK")
    tracker = CpuTracker(ours())
    busy_before, own_before, started = cpu_busy_ticks(read("/proc/stat")), own_seconds(), time.monotonic()
    env = {**os.environ, "HTTPBENCH_REQUESTS": str(requests_file)}
    cmd = wrk_command(server.port, args.seconds, args.connections, args.threads)
    wrk = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while wrk.poll() is None:
        time.sleep(0.2)
        tracker.sample(ours())
    output, errors = wrk.communicate()
    tracker.sample(ours())
    busy_after, own_after, elapsed = cpu_busy_ticks(read("/proc/stat")), own_seconds(), time.monotonic() - started
    if wrk.returncode != 0:
        raise SystemExit(f"wrk failed ({wrk.returncode}):\n{output}\n{errors}")
    figures = parse_wrk(output)
    server_seconds = tracker.total() / tick  # gunicorn + PostgreSQL backends
    other_seconds = (busy_after - busy_before) / tick - server_seconds - (own_after - own_before)
    figures.update(
        **memory_figures(server.workers()),
        cpu_ms=server_seconds * 1000 / figures["requests"] if figures["requests"] else float("nan"),
        other_cores=max(0.0, other_seconds / elapsed),
        load=float(read("/proc/loadavg").split()[0]),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000, help="demo customers per store (default 20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load per endpoint and run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8401, help="0: any free port (parallel runs, make test)")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default=None, help="database name (default autocrm_httpbench[_quick])")
    parser.add_argument("--data-dir", type=Path, default=None, help="keys, static files, logs (default var/httpbench)")
    parser.add_argument("--reuse", action="store_true", help="use the database as loaded (no drop, no demo)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--sample", type=int, default=300, help="values sampled per kind")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of each counted request")
    parser.add_argument("--quick", action="store_true", help="CI size: 300 customers, 1 run of 2 s per endpoint")
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS"),
        metavar="URL",
        help="serve with REDIS_URL=URL, as production does (shared cache, sessions, queue); the "
        "Redis database is emptied first, since its entries describe another load of the database",
    )
    args = parser.parse_args()
    if args.quick:
        args.customers = min(args.customers, 300)
        args.runs, args.seconds, args.sample = 1, 2, 30
    args.db = args.db or ("autocrm_httpbench_quick" if args.quick else "autocrm_httpbench")
    if not args.reuse and not args.db.startswith("autocrm_httpbench"):
        raise SystemExit("a database this benchmark creates (and drops) is named autocrm_httpbench…")
    data_dir = (args.data_dir or ROOT / "var" / ("httpbench_quick" if args.quick else "httpbench")).resolve()
    if args.port == 0:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            args.port = probe.getsockname()[1]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    secret_key, data_key = keys_in(data_dir)
    base_env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "AUTOCRM_DATA_DIR": str(data_dir),
        "SECRET_KEY": secret_key,
        "AUTOCRM_DATA_KEY": data_key,
        "LOG_LEVEL": "WARNING",
    }
    base_env.pop("AUTOCRM_ENV", None)
    base_env.pop("DJANGO_SETTINGS_MODULE", None)
    prod_env = {
        **base_env,
        "AUTOCRM_ENV": "production",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "AUTOCRM_BENCH_FLOOR": "1",
        # One token makes all of a connection's calls; the limit is still counted on each.
        "AUTOCRM_API_RATE_TOKEN": "100000000/min",
        "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
    }
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        prod_env["REDIS_URL"] = args.redis

    created = False
    server: Server | None = None
    pg_conn = None
    try:
        if args.reuse:
            subprocess.run([str(BIN / "autocrm"), "migrate", "--no-input", "-v0"], env=base_env, check=True)
        else:
            created = True
            load(args, base_env)
        subprocess.run([str(BIN / "autocrm"), "collectstatic", "--no-input", "-v0"], env=prod_env, check=True)

        os.environ.clear()
        os.environ.update(prod_env)
        import django

        django.setup()
        values, info = sample(args.sample, args.seed)
        from django.db import connection

        connection.close()

        log = data_dir / "gunicorn.log"
        proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "autocrm.config.wsgi:application",
                "--workers",
                str(args.workers),
                "--bind",
                f"{HOST}:{args.port}",
                "--log-level",
                "warning",
                "--timeout",
                "60",
                # preload_app and gc.freeze() before each fork, as deployed (docs/benchmarks.md)
                "--config",
                str(ROOT / "scripts" / "gunicorn.conf.py"),
            ],
            env=prod_env,
            cwd=str(data_dir),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        server = Server(proc=proc, port=args.port, log=log)
        wait_healthy(server)
        tokens = [api_token(args.port) for _ in range(args.connections)]
        sessions = [form_login(args.port) for _ in range(args.connections)]

        endpoints = paths(values)
        queries = count_queries(endpoints, tokens[0], show=args.show_queries)
        work = Path(tempfile.mkdtemp(prefix="httpbench_", dir=data_dir))
        files: dict[str, Path] = {}
        lines_by: dict[str, list[str]] = {}
        for name, (kind, urls) in endpoints.items():
            lines_by[name] = request_lines(kind, urls, tokens, sessions, max(len(urls), args.connections * 4))
        lines_by["mixed"] = blend(lines_by, MIX, 2000, random.Random(args.seed))
        lines_by["floor2"] = lines_by["floor"]
        queries["mixed"] = round(sum(queries[k] * w for k, w in MIX.items()) / sum(MIX.values()), 1)  # type: ignore[assignment]
        queries["floor2"] = queries["floor"]
        for name, lines in lines_by.items():
            files[name] = work / f"{name}.tsv"
            files[name].write_text("\n".join(lines) + "\n")

        pg_conn = pg_connect(args.pg, args.db)
        print(
            f"database {args.db}: {info['customers']:,} customers, {info['vehicles']:,} vehicles; "
            f"store of {USER}: {info['store_customers']:,}; gunicorn {args.workers} workers on :{args.port}; "
            f"wrk {args.threads} threads, {args.connections} connections, {args.seconds:.0f} s per endpoint; "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        # Warm every worker on every endpoint (imports, template loading, plans); not counted.
        for name in ENDPOINTS[:-1]:
            run_wrk(files[name], args.port, 1, args.connections, args.threads)

        runs = []
        failures = []
        for run in range(1, args.runs + 1):
            results = {}
            for name in ENDPOINTS:
                figures = measure(files[name], server, pg_conn, args.db, args)
                figures["queries"] = queries[name]
                results[name] = figures
                if figures["non2xx"] or figures["socket_errors"]:
                    failures.append(
                        f"run {run} {name}: {figures['non2xx']} non-2xx (last {figures['last_bad_status']}), "
                        f"{figures['socket_errors']} socket errors"
                    )
            results = with_ratios(results)
            runs.append(results)
            print(f"\n-- run {run} of {args.runs}  (uptime load: {read('/proc/loadavg').strip()})")
            print(format_table(results), flush=True)
        if len(runs) > 1:
            summary = median_over_runs(runs)
            print(f"\n-- median of {len(runs)} runs")
            print(format_table(summary))
            print()
            print(format_ranges(summary))
        for failure in failures:
            print("FAILED:", failure)
        if args.quick and failures:
            sys.exit(1)
    finally:
        if pg_conn is not None:
            pg_conn.close()
        if server is not None:
            server.stop()
        if created and not args.keep_db:
            import psycopg

            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
