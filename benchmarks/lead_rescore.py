"""Batch rescoring of a store's open leads (issue 13, h/leadui): ``leads.rules.rescore_run`` over
``--leads`` open leads (default 100,000) on PostgreSQL, every score stale (so every lead is
written) and ``--hot`` percent of them newly above the threshold (routed to the best converter).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h3 .venv/bin/python benchmarks/lead_rescore.py
    ... benchmarks/lead_rescore.py --leads 20000 --hot 1     # quicker

The database is migrated and given the demo (``autocrm demo --customers 50``) when it has none;
the store's open leads are then closed and replaced by ``--leads`` rows inserted with one
``INSERT … SELECT generate_series`` (copying one real lead's encrypted mobile). Prints the wall
and CPU time of the run, its chunks and queries, and ``/proc/loadavg`` before and after."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--hot", type=float, default=0.5, help="percent of the leads newly hot")
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")
    os.environ.setdefault("AUTOCRM_DATA_DIR", str(ROOT / "var"))
    bin_ = Path(sys.executable).parent
    subprocess.run([str(bin_ / "autocrm"), "migrate", "--no-input", "-v0"], check=True)
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from autocrm.accounts.models import User
    from autocrm.customers.tests.factories import actor_for
    from autocrm.leads import rules
    from autocrm.leads.choices import OPEN_STATUSES
    from autocrm.leads.models import Lead, LeadRescore, LeadSettings
    from autocrm.leads.services import duty_set
    from autocrm.tenancy.models import Store

    if not User.objects.filter(username="sales_manager_a").exists():
        subprocess.run([str(bin_ / "autocrm"), "demo", "--customers", "50", "--seed", "1", "-v0"], check=True)
    store = Store.objects.get(code="a")
    manager = actor_for("sales_manager_a", "a")
    a1, a2 = (User.objects.get(username=u).pk for u in ("sales_a1", "sales_a2"))
    for u in (a1, a2):
        duty_set(actor=manager, user_id=u, status="on_duty", daily_capacity=1000)
    with connection.cursor() as c:  # an earlier run's rows, by SQL (the ORM's cascade would audit each one)
        bench = "SELECT id FROM leads_lead WHERE store_id = %s AND campaign = 'bench-rescore'"
        c.execute(f"DELETE FROM leads_leadactivity WHERE lead_id IN ({bench})", [store.pk])
        c.execute(f"DELETE FROM leads_lead WHERE id IN ({bench})", [store.pk])
    Lead.objects.filter(store=store, status__in=OPEN_STATUSES).update(status="lost")  # the demo's open leads closed
    Lead.objects.create(store=store, name="模板", mobile="13900001234", status="won", consultant_id=a2)
    settings = LeadSettings.objects.get_or_create(store=store)[0]
    settings.hot_score_threshold = 80
    settings.save()
    hot_every = max(1, round(100 / args.hot)) if args.hot else 10**9
    started = time.monotonic()
    with connection.cursor() as c:
        # 10 won of 20 for sales_a2, 2 of 20 for sales_a1: a2 is the best converter
        c.execute(
            """INSERT INTO leads_lead (store_id, name, mobile, mobile_index, source_channel, campaign,
                 external_id, model_interest, status, grade, score, score_reasons, score_signals, visitor_id,
                 consultant_id, arrived_at, brand_interest, message, mobile_flag, version, enquiries,
                 marketing_consent, created_at, updated_at)
               SELECT t.store_id, '线索' || i, t.mobile, t.mobile_index, 'autohome', 'bench-rescore', '', '汉',
                 CASE WHEN i <= 40 THEN (CASE WHEN i <= 10 OR i BETWEEN 21 AND 22 THEN 'won' ELSE 'lost' END)
                      WHEN mod(i, 3) = 0 THEN 'contacted' ELSE 'new' END,
                 CASE WHEN mod(i, %s) = 0 THEN 'H' ELSE 'B' END, 0, '[]'::jsonb,
                 CASE WHEN mod(i, %s) = 0 THEN '{"text": ["price", "delivery", "loan"], "visits": 1}'::jsonb
                      ELSE '{"views": 2}'::jsonb END,
                 '', CASE WHEN i <= 20 THEN %s WHEN i <= 40 THEN %s WHEN mod(i, 2) = 0 THEN %s ELSE NULL END,
                 now() - interval '10 days', '', '', '', 0, 1, false, now(), now()
               FROM generate_series(1, %s + 40) AS i, (SELECT * FROM leads_lead WHERE store_id = %s LIMIT 1) AS t""",
            [hot_every, hot_every, a2, a1, a1, args.leads, store.pk],
        )
    LeadRescore.objects.filter(store=store).delete()
    print(f"{args.leads} open leads inserted in {time.monotonic() - started:.1f} s", flush=True)
    settings.hot_score_threshold = 60
    settings.save()
    run = LeadRescore.objects.create(store=store, threshold=60, previous_threshold=80)
    print("load before:", loadavg(), flush=True)
    wall, cpu0 = time.monotonic(), cpu()
    chunks, queries = 0, 0
    while True:
        with CaptureQueriesContext(connection) as captured:
            more = rules.rescore_chunk(run.pk, size=args.chunk)
        chunks += 1
        queries += len(captured)
        reset_queries()
        if not more:
            break
    wall, spent = time.monotonic() - wall, cpu() - cpu0
    run.refresh_from_db()
    print("load after:", loadavg())
    print(f"rescored {run.scanned} open leads in {wall:.1f} s wall, {spent:.1f} s CPU of this process; "
          f"{chunks} chunks of {args.chunk}, {queries} queries ({queries / chunks:.1f} a chunk); "
          f"changed {run.changed}, newly hot {run.newly_hot}, routed {run.routed}")  # fmt: skip


if __name__ == "__main__":
    main()
