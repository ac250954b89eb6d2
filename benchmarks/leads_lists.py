"""Leads at 1,000,000 rows (issue 13): a consultant's lead list and to-do page p95 < 100 ms, and
lead intake (≥ 200 leads/s on 2 cores) in-process and over HTTP — every figure in one run.

    .venv/bin/python benchmarks/leads_lists.py                                 # 1,000,000 leads, 3 runs
    .venv/bin/python benchmarks/leads_lists.py --db h8_leadbench --data-dir /tmp/leadbench   # another database
    .venv/bin/python benchmarks/leads_lists.py --quick                         # 20,000 leads, 1 short run

What it does, on PostgreSQL (``--pg``, database ``--db``, created when missing and kept: a second
run reuses the data):

1. migrates and loads the demo (``autocrm demo --customers 500``: two stores, their staff) when
   the database has none; adds 20 consultants per store (``bench_a01`` … ``bench_b20``, on duty)
   and tops the leads up to ``--leads`` with one ``INSERT … SELECT generate_series`` (a pool of
   50,000 encrypted mobiles with their blind indexes; 95 % closed — 7 % of them won, the rest
   lost — spread over two years; 5 % open, of the last 60 days: new with a first-contact
   deadline, contacted/visited/negotiating with a next action within ± 7 days; half the leads in
   each store, evenly over its consultants: 25,000 a consultant at 1,000,000, 1,250 open);
2. in this process, for ``bench_a01``: the queries (``CaptureQueriesContext``) and the median and
   p95 time of ``leads.selectors.lead_page`` (first page, the next keyset page, ``status=open``)
   and ``lead_todo``, with ``EXPLAIN ANALYZE`` of each one's SQL (the plan's first lines);
3. the intake service: ``benchmarks/leads_intake.run_intake`` (``--intake-workers`` processes
   calling ``lead_create``: leads/s, CPU ms per lead of the processes and of their PostgreSQL
   backends, queries per lead);
4. gunicorn (``--workers``, production settings, as ``benchmarks/http_load.py`` serves it) driven
   by wrk from another process on loopback: the bare floor view, the consultant's lead list page
   (``/leads/``, a form-login session), the list of open leads, the home page (the to-do list),
   ``GET /api/v1/leads`` (API token), ``POST /api/v1/leads`` (a platform's token, sales_manager_a:
   new people and repeated numbers, ``benchmarks/leads_post.lua``), the floor again; per endpoint
   req/s, p50/p95/p99, CPU ms per request of gunicorn and the database, queries per request.

Prints ``uptime`` before and after: on a loaded machine read the CPU figures and query counts,
which hold under load, beside the wall-clock ones."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import _http  # noqa: E402  (gunicorn, wrk, the runs and their table: shared with service_ro_http.py)
import http_load as hl  # noqa: E402  (the HTTP benchmark's machinery: server, wrk, CPU sampling)

CONSULTANTS = 20  # per store
CONSULTANT = "bench_a01"
POOL = 50_000
POST_LUA = HERE / "leads_post.lua"


def uptime() -> str:
    return hl.read("/proc/loadavg").strip()


# --- the data -----------------------------------------------------------------------------------


def ensure_demo(env: dict[str, str], pg: str, db: str) -> None:
    import psycopg

    _http.ensure_database(env, pg, db)
    with psycopg.connect(f"{pg}/{db}", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM accounts_user WHERE username = 'sales_manager_a'").fetchone()
    if not found:
        started = time.monotonic()
        subprocess.run([str(hl.BIN / "autocrm"), "demo", "--customers", "500", "--seed", "1", "-v0"], env=env,
                       check=True)  # fmt: skip
        print(f"demo loaded in {time.monotonic() - started:.0f} s", flush=True)


def ensure_consultants() -> dict[str, list[int]]:
    """20 consultants per store, on duty; only the measured ones can sign in."""
    from django.conf import settings

    from autocrm.accounts.models import Membership, User
    from autocrm.accounts.services import membership_set, user_create
    from autocrm.core.roles import Role
    from autocrm.leads.models import ConsultantDuty
    from autocrm.tenancy.models import Store

    ids: dict[str, list[int]] = {}
    for store in Store.objects.filter(code__in=["a", "b"]).order_by("code"):  # scoped: benchmark set-up
        ids[store.code] = []
        for n in range(1, CONSULTANTS + 1):
            name = f"bench_{store.code}{n:02d}"
            user = User.objects.filter(username=name).first()
            if user is None:
                user = user_create(
                    organization_id=store.organization_id, username=name, display_name=f"顾问{store.code}{n:02d}",
                    password=settings.AUTOCRM_DEMO_PASSWORD if n == 1 else None,
                )  # fmt: skip
            if not Membership.objects.filter(user=user, store=store, role=Role.SALES).exists():
                membership_set(user=user, role=Role.SALES, store_id=store.pk)
            ConsultantDuty.objects.get_or_create(store=store, user=user)  # scoped: benchmark set-up
            ids[store.code].append(user.pk)
    return ids


def scores() -> list[tuple[int, list[dict[str, Any]], dict[str, Any]]]:
    """The score, reasons and signals of the 24 kinds of generated lead (``g % 24``: the grade and
    source follow ``g % 8``; none, one or two text signals follow ``g % 3``), as intake computes
    them, so the lists render real reasons."""
    from types import SimpleNamespace

    from autocrm.leads import scoring

    sources = ["autohome", "dongchedi", "yiche", "walk_in", "phone", "web_form", "wechat", "oem"]
    texts = [[], ["price"], ["loan", "price"]]
    out = []
    for g in range(24):
        signals: dict[str, Any] = {"text": texts[g % 3]} if texts[g % 3] else {}
        lead = SimpleNamespace(score_signals=signals, customer_id=None, grade="HABC"[g % 4],
                               source_channel=sources[g % 8], enquiries=1, mobile_flag="")  # fmt: skip
        score, reasons = scoring.compute(lead)
        out.append((score, reasons, signals))
    return out


def fill_leads(target: int, consultants: dict[str, list[int]]) -> int:
    """Top the leads table up to ``target`` rows in one INSERT … SELECT (see the module's text)."""
    from django.db import connection

    from autocrm.leads.models import Lead
    from autocrm.tenancy.models import Store

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        have = cursor.fetchone()[0]
    missing = target - have
    if missing <= 0:
        return have
    started = time.monotonic()
    mobile = Lead._meta.get_field("mobile")
    index = Lead._meta.get_field("mobile_index")
    rng = random.Random(13)
    scored = scores()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_mobiles")
        cursor.execute("CREATE TEMP TABLE bench_mobiles (n int PRIMARY KEY, mobile text, mobile_index text)")
        raw = connection.connection.cursor()  # the same session: the temporary table is there
        with raw.copy("COPY bench_mobiles (n, mobile, mobile_index) FROM STDIN") as copy:
            for n in range(POOL):
                number = f"+86{rng.choice(['135', '138', '150', '186', '199'])}{rng.randrange(10**8):08d}"
                copy.write_row((n, mobile.get_prep_value(number), index.compute(number)))
        stores = {s.code: s.pk for s in Store.objects.filter(code__in=["a", "b"])}  # scoped: benchmark set-up
        cursor.execute(
            """
            INSERT INTO leads_lead (created_at, updated_at, name, mobile, mobile_index, source_channel, campaign,
                external_id, model_interest, status, grade, score, arrived_at, assigned_at, first_contact_due,
                first_contact_at, last_touch_at, next_action_at, closed_at, consultant_id, customer_id, store_id,
                brand_interest, enquiries, marketing_consent, message, mobile_flag, version, score_reasons,
                score_signals, scored_at, visitor_id, referral_code)
            SELECT t.at, t.at, '客户' || g, m.mobile, m.mobile_index,
                (ARRAY['autohome','dongchedi','yiche','walk_in','phone','web_form','wechat','oem'])[1 + g %% 8], '',
                '', (ARRAY['Model Y','Model 3','卡罗拉','凯美瑞','雅阁','思域'])[1 + g %% 6], t.status,
                (ARRAY['H','A','B','C'])[1 + g %% 4], (%(scores)s::int[])[1 + g %% 24], t.at, t.at,
                t.at + interval '30 minutes',
                CASE WHEN t.status = 'new' THEN NULL ELSE t.at + interval '20 minutes' END,
                CASE WHEN t.status = 'new' THEN NULL ELSE t.at + interval '2 days' END,
                CASE WHEN t.status IN ('contacted','visited','negotiating')
                     THEN now() + ((g %% 337) - 168) * interval '1 hour' END,
                CASE WHEN t.status IN ('won','lost') THEN t.at + interval '20 days' END,
                CASE WHEN g %% 2 = 0 THEN (%(a)s::bigint[])[1 + (g / 2) %% %(k)s]
                     ELSE (%(b)s::bigint[])[1 + (g / 2) %% %(k)s] END,
                NULL, CASE WHEN g %% 2 = 0 THEN %(store_a)s ELSE %(store_b)s END,
                '', 1, false, '', '', 0, (%(reasons)s::jsonb[])[1 + g %% 24], (%(signals)s::jsonb[])[1 + g %% 24],
                t.at, '', ''
            FROM generate_series(%(first)s, %(last)s) AS g
            CROSS JOIN LATERAL (
                SELECT CASE WHEN (g / 40) %% 20 = 3
                            THEN (ARRAY['new','contacted','contacted','visited','negotiating'])[1 + (g / 20) %% 5]
                            WHEN g %% 100 < 7 THEN 'won' ELSE 'lost' END AS status,
                       CASE WHEN (g / 40) %% 20 = 3 THEN now() - ((g::bigint * 7919) %% (60 * 1440)) * interval '1 minute'
                            ELSE now() - ((g::bigint * 7919) %% (730 * 1440)) * interval '1 minute' END AS at
            ) AS t
            JOIN bench_mobiles m ON m.n = g %% %(pool)s
            """,
            {"a": consultants["a"], "b": consultants["b"], "k": CONSULTANTS, "store_a": stores["a"],
             "store_b": stores["b"], "first": have + 1, "last": target, "pool": POOL,
             "scores": [s for s, _r, _s in scored], "reasons": [json.dumps(r) for _s, r, _g in scored],
             "signals": [json.dumps(g) for _s, _r, g in scored]},
        )  # fmt: skip
        cursor.execute("DROP TABLE bench_mobiles")
        cursor.execute("ANALYZE leads_lead")
    print(f"inserted {missing:,} leads in {time.monotonic() - started:.0f} s", flush=True)
    return target


# --- in-process figures ---------------------------------------------------------------------------


def timed(fn: Any, runs: int) -> tuple[float, float, int]:
    """Median and p95 ms of ``fn()`` over ``runs`` calls (after one warm call), and its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], len(captured)


def selector_figures(runs: int) -> None:
    from django.db import connection

    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.leads import selectors
    from autocrm.leads.models import Lead

    actor = actor_build(user=User.objects.get(username=CONSULTANT))
    total = Lead.objects.count()  # scoped: benchmark figures
    mine = Lead.objects.for_actor(actor, "view").count()
    open_ = Lead.objects.for_actor(actor, "view").filter(status__in=["new", "contacted", "visited",
                                                                     "negotiating"]).count()  # fmt: skip
    print(f"\n{total:,} leads in the database; {CONSULTANT} sees {mine:,}, {open_:,} of them open")
    first = selectors.lead_page(actor=actor, limit=25)
    cases = {
        "lead_page (first 25)": lambda: list(selectors.lead_page(actor=actor, limit=25).items),
        "lead_page (next page)": lambda: list(selectors.lead_page(actor=actor, limit=25,
                                                                  cursor=first.next_cursor).items),
        "lead_page status=open": lambda: list(selectors.lead_page(actor=actor, filters={"status": "open"},
                                                                  limit=25).items),
        "lead_todo": lambda: selectors.lead_todo(actor=actor),
    }  # fmt: skip
    plans = {
        "lead_page (first 25)": selectors.lead_list(actor=actor).order_by("-arrived_at", "-id")[:26],
        "lead_page status=open": selectors.lead_list(actor=actor, filters={"status": "open"}).order_by(
            "-arrived_at", "-id")[:26],
    }  # fmt: skip
    print("| selector | median ms | p95 ms | queries |\n|---|---|---|---|")
    for name, fn in cases.items():
        median, p95, queries = timed(fn, runs)
        print(f"| {name} | {median:.2f} | {p95:.2f} | {queries} |")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        selectors.lead_todo(actor=actor)
    todo_sql = captured.captured_queries[-1]["sql"]
    for name, qs in plans.items():
        plan = qs.explain(analyze=True).splitlines()
        print(f"EXPLAIN ANALYZE {name}: {plan[0].strip()[:150]} … {plan[-1].strip()}")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + todo_sql)
        plan = [r[0] for r in cursor.fetchall()]
    print(f"EXPLAIN ANALYZE lead_todo: {plan[0].strip()[:150]} … {plan[-1].strip()}")


# --- over HTTP ------------------------------------------------------------------------------------


def measure_post(server: hl.Server, pg_conn: Any, db: str, args: argparse.Namespace, token: str) -> dict[str, Any]:
    """One wrk run of POST /api/v1/leads, with the CPU of gunicorn and the backends sampled."""
    old = hl.LUA
    os.environ["LEADBENCH_TOKEN"] = token
    os.environ["LEADBENCH_RUN"] = str(int(time.time()) % 100)
    hl.LUA = POST_LUA
    try:
        return hl.measure(Path(os.devnull), server, pg_conn, db, args)
    finally:
        hl.LUA = old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="autocrm_leadbench")
    parser.add_argument("--data-dir", type=Path, default=None, help="keys, static files, logs (default var/leadbench)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load per endpoint and run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8402)
    parser.add_argument("--intake", type=int, default=3000, help="enquiries for the in-process intake")
    parser.add_argument("--intake-workers", type=int, default=2)
    parser.add_argument("--selector-runs", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="20,000 leads, 1 run of 3 s, 300 enquiries")
    args = parser.parse_args()
    if args.quick:
        args.leads, args.runs, args.seconds, args.intake, args.selector_runs = 20_000, 1, 3, 300, 10
    where = _http.setting(args, "leadbench", {"AUTOCRM_API_RATE_TOKEN": "100000000/min"})
    print(f"uptime at the start: {uptime()}; {os.cpu_count()} CPUs", flush=True)
    ensure_demo(where.base_env, args.pg, args.db)
    _http.start_django(where)
    from django.db import connection

    consultants = ensure_consultants()
    fill_leads(args.leads, consultants)
    selector_figures(args.selector_runs)

    import leads_intake

    print()
    leads_intake.run_intake(args.intake, args.intake_workers, int(time.time()) % 100_000)
    from autocrm.customers.models import Customer

    floor_ids = [str(pk) for pk in Customer.objects.order_by("id").values_list("id", flat=True)[:200]]  # scoped: bench
    connection.close()

    pg_conn = None
    try:
        with _http.gunicorn(where, args) as server:
            hl.USER = CONSULTANT
            sessions = [hl.form_login(args.port) for _ in range(args.connections)]
            tokens = [hl.api_token(args.port) for _ in range(args.connections)]
            hl.USER = "sales_manager_a"
            platform = hl.api_token(args.port)
            hl.USER = CONSULTANT
            endpoints = {
                "floor": ("none", [f"/_bench/floor/{pk}" for pk in floor_ids]),
                "leads page": ("session", ["/leads/"]),
                "leads page, open": ("session", ["/leads/?status=open"]),
                "home (to-do)": ("session", ["/"]),
                "GET /api/v1/leads": ("token", ["/api/v1/leads?limit=50"]),
            }
            queries = hl.count_queries(endpoints, tokens[0])
            files = _http.request_files(where, endpoints, tokens, sessions, args, prefix="leadbench_",
                                        name_of=lambda name: name.replace(" ", "_").replace("/", "_"))  # fmt: skip
            pg_conn = hl.pg_connect(args.pg, args.db)
            _http.warm(files, args)
            order = [*endpoints, "POST /api/v1/leads", "floor again"]
            print(f"\ngunicorn {args.workers} workers on :{args.port}; wrk {args.threads} threads, {args.connections} "
                  f"connections, {args.seconds:.0f} s per endpoint; signed in as {CONSULTANT}", flush=True)  # fmt: skip

            def measure(name: str) -> dict[str, Any]:
                if name == "POST /api/v1/leads":
                    figures = measure_post(server, pg_conn, args.db, args, platform)
                    figures["queries"] = "≈ intake"
                    return figures
                key = "floor" if name == "floor again" else name
                figures = hl.measure(files[key], server, pg_conn, args.db, args)
                figures["queries"] = queries[key]
                return figures

            _http.measure_runs(order, measure, args, load_label="uptime")
    finally:
        if pg_conn is not None:
            pg_conn.close()
    print(f"\nuptime at the end: {uptime()}")


if __name__ == "__main__":
    main()
