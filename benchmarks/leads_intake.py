"""Leads: intake + de-dup + assignment throughput, and the follow-up sweep over many open leads
(issue 13 targets: ≥ 200 leads/s sustained on 2 cores on PostgreSQL; the sweep over 100,000 open
leads < 5 s).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench_leads AUTOCRM_DATA_DIR=/tmp/acrm_bench
    .venv/bin/python benchmarks/leads_intake.py [--leads 3000] [--open 100000] [--workers 2]

Migrates the database and creates the demo organization when missing. Intake: ``--workers``
processes each call ``leads.services.lead_create`` (the one service every channel uses, one
transaction per lead, as the API does) for its share of ``--leads`` enquiries as
``sales_manager_a``: 60 % new numbers, 20 % numbers of an open lead (linked as "enquired again",
its consultant told), 10 % numbers of existing customers (linked, returning owners to their
consultant), 10 % platform retries of an external ID; three consultants on duty (round robin,
one a model specialist). Sweep: tops the store up to ``--open`` open leads (bulk insert, about
1 % due within the reminder window and 1 % past due), then times ``lead_sla_sweep`` twice (the
second run finds nothing new: idempotent)."""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def _setup() -> None:
    import django

    django.setup()


def _prepare() -> dict[str, list[str]]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.customers.models import Customer
    from autocrm.demo.services import demo_create
    from autocrm.leads.choices import OPEN_STATUSES
    from autocrm.leads.models import Lead
    from autocrm.leads.services import duty_set

    if not User.objects.filter(username="sales_manager_a").exists():
        demo_create()
    manager = actor_build(user=User.objects.get(username="sales_manager_a"))
    for name, spec in (("sales_a1", ""), ("sales_a2", ""), ("sales_manager_a", "Model Y")):
        duty_set(actor=manager, user_id=User.objects.get(username=name).pk, status="on_duty",
                 daily_capacity=1000, specialities=spec)  # fmt: skip
    from autocrm.leads.models import ConsultantDuty

    # Each run starts the day afresh: earlier runs' bookings do not count against the capacity.
    ConsultantDuty.objects.filter(store_id=manager.store_id).update(assigned_today=0)
    customers = [
        c.mobile
        for c in Customer.objects.filter(store_id=manager.store_id).exclude(mobile_index="").only("mobile")[:2000]
    ]
    open_mobiles = [
        lead.mobile
        for lead in Lead.objects.filter(store_id=manager.store_id, status__in=list(OPEN_STATUSES)).only("mobile")[:2000]
    ]
    return {"customers": customers, "open": open_mobiles}


def _backend_ticks(connection) -> int:  # type: ignore[no-untyped-def]
    """CPU ticks so far of this connection's PostgreSQL backend (same machine), 0 elsewhere."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(rest[11]) + int(rest[12])


def _worker(args: tuple[int, int, dict[str, list[str]], int]) -> tuple[int, float, dict[str, int]]:
    index, count, pools, seed = args
    _setup()
    from django.db import connection

    queries = [0]

    def counting(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries[0] += 1
        return execute(sql, params, many, context)

    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.leads.services import lead_create

    actor = actor_build(user=User.objects.get(username="sales_manager_a"))
    rng = random.Random(seed + index)
    prefix = f"139{seed % 100:02d}{index % 10}"
    kinds = {"created": 0, "linked": 0, "repeated": 0}
    made: list[str] = []
    ext: list[str] = []
    backend_before = _backend_ticks(connection)
    cpu_before = time.process_time()
    started = time.perf_counter()
    for i in range(count):
        roll = rng.random()
        data: dict[str, object] = {
            "name": "基准客户",
            "model_interest": rng.choice(["Model Y", "Model 3", "卡罗拉", ""]),
        }
        if roll < 0.2 and (made or pools["open"]):
            data["mobile"] = rng.choice(made or pools["open"])
        elif roll < 0.3 and pools["customers"]:
            data["mobile"] = pools["customers"][rng.randrange(len(pools["customers"]))]
        elif roll < 0.4 and ext:
            data["mobile"], data["external_id"] = f"{prefix}{i:05d}", rng.choice(ext)
        else:
            data["mobile"] = f"{prefix}{i:05d}"
            data["external_id"] = f"bench-{seed}-{index}-{i}"
            ext.append(str(data["external_id"]))
            made.append(str(data["mobile"]))
        with connection.execute_wrapper(counting):
            intake = lead_create(actor=actor, data=data, source="autohome")
        kinds["created" if intake.created else "linked" if intake.linked else "repeated"] += 1
    elapsed = time.perf_counter() - started
    kinds["app_cpu_ms"] = round((time.process_time() - cpu_before) * 1000)
    kinds["db_cpu_ms"] = round((_backend_ticks(connection) - backend_before) * 1000 / os.sysconf("SC_CLK_TCK"))
    kinds["queries"] = queries[0]
    connection.close()
    return count, elapsed, kinds


def run_intake(leads: int, workers: int, seed: int) -> dict[str, float]:
    """``leads`` enquiries through ``lead_create`` by ``workers`` processes (Django set up, the
    database migrated); prints and returns the figures: leads/s, CPU ms per lead of the workers
    and of their PostgreSQL backends, queries per lead, the load average."""
    from django.db import connection

    pools = _prepare()
    connection.close()
    share = leads // workers
    load_before = Path("/proc/loadavg").read_text().split()[0]
    started = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        results = pool.map(_worker, [(i, share, pools, seed) for i in range(workers)])
    wall = time.perf_counter() - started
    done = sum(r[0] for r in results)
    kinds = {k: sum(r[2][k] for r in results) for k in ("created", "linked", "repeated", "app_cpu_ms", "db_cpu_ms",
                                                         "queries")}  # fmt: skip
    rate = done / wall
    app_ms, db_ms, per_lead = kinds["app_cpu_ms"] / done, kinds["db_cpu_ms"] / done, kinds["queries"] / done
    load_after = Path("/proc/loadavg").read_text().split()[0]
    print(f"intake+dedup+assignment: {done} enquiries by {workers} workers in {wall:.2f} s = {rate:.0f} leads/s "
          f"(created {kinds['created']}, linked to an open lead {kinds['linked']}, repeats {kinds['repeated']}); "
          f"target ≥ 200/s: {'yes' if rate >= 200 else 'NO'}")  # fmt: skip
    print(f"  per lead: {app_ms:.2f} ms app CPU + {db_ms:.2f} ms PostgreSQL CPU = {app_ms + db_ms:.2f} ms "
          f"(⇒ {2000 / (app_ms + db_ms):.0f} leads/s on 2 idle cores), {per_lead:.1f} queries "
          f"(BEGIN/COMMIT included); load average {load_before} → {load_after}")  # fmt: skip
    return {"rate": rate, "app_ms": app_ms, "db_ms": db_ms, "queries": per_lead}


def _fill_open(target: int, now: dt.datetime) -> int:
    from autocrm.accounts.models import User
    from autocrm.leads.choices import OPEN_STATUSES, LeadStatus
    from autocrm.leads.models import Lead
    from autocrm.tenancy.models import Store

    store = Store.objects.get(code="a")
    have = Lead.objects.filter(store=store, status__in=list(OPEN_STATUSES)).count()
    consultants = list(User.objects.filter(username__in=["sales_a1", "sales_a2"]).values_list("pk", flat=True))
    rng = random.Random(7)
    batch: list[Lead] = []
    for i in range(max(0, target - have)):
        roll = rng.random()
        # 1 % due within the reminder window, 1 % past due, the rest hours or days away.
        offset = (
            dt.timedelta(minutes=5)
            if roll < 0.01
            else -dt.timedelta(minutes=5)
            if roll < 0.02
            else dt.timedelta(hours=rng.randint(3, 400))
        )
        new = rng.random() < 0.3
        batch.append(Lead(
            store=store, name="存量线索", mobile=f"16{i:09d}", consultant_id=consultants[i % 2], source_channel="import",
            status=LeadStatus.NEW if new else LeadStatus.CONTACTED, arrived_at=now - dt.timedelta(days=3),
            first_contact_due=now + offset if new else now - dt.timedelta(days=3),
            first_contact_at=None if new else now - dt.timedelta(days=3),
            next_action_at=None if new else now + offset,
        ))  # fmt: skip
        if len(batch) >= 5000:
            Lead.objects.bulk_create(batch)
            batch = []
    if batch:
        Lead.objects.bulk_create(batch)
    return Lead.objects.filter(store=store, status__in=list(OPEN_STATUSES)).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    _setup()
    from django.db import connection
    from django.utils import timezone

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    figures = run_intake(args.leads, args.workers, args.seed)
    rate = figures["rate"]
    if args.skip_sweep:
        sys.exit(0 if rate >= 200 else 1)
    from autocrm.leads.services import lead_sla_sweep

    now = timezone.now()
    total = _fill_open(args.open, now)
    connection.cursor().execute("ANALYZE leads_lead") if connection.vendor == "postgresql" else None
    timings = []
    for run in range(2):
        t0 = time.perf_counter()
        result = lead_sla_sweep(now=now)
        timings.append(time.perf_counter() - t0)
        print(f"sweep run {run + 1} over {total:,} open leads: {timings[-1]:.2f} s — reminded {result.reminded}+"
              f"{result.follow_up_reminded}, escalated {result.escalated}+{result.follow_up_escalated}")  # fmt: skip
    ok = rate >= 200 and timings[0] < 5
    print(f"sweep target < 5 s: {'yes' if timings[0] < 5 else 'NO'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
