"""The nightly loyalty sweep at size (issue 15, items 5–6; ADR 0034): tier re-evaluation from the
rolling 12-month spend and points expiry (first in, first out) over ``--members`` members of one
store, each with a spend row and an earning spread over the last 15 months (so that some members
go up, some get the downgrade notice and some points expire). Prints the wall and CPU time of
``loyalty.services.nightly_store`` (first run: changes; second run: the steady state).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h6_bench AUTOCRM_DATA_DIR=/tmp/acrm_loy \\
        .venv/bin/python benchmarks/loyalty_nightly.py --members 1000000

Writes the rows straight to the tables with ``INSERT … SELECT generate_series`` (PostgreSQL) in
a store of its own (code ``bench-loyalty``), which it empties first."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def _literal(field: object) -> str:
    """A SQL value for a NOT NULL column of a bulk-made customer (its default, or an empty one)."""
    from django.db import models

    assert isinstance(field, models.Field)
    if field.has_default():
        value = field.get_default()
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        if isinstance(value, dict | list):
            return "'" + __import__("json").dumps(value) + "'"
    if isinstance(field, models.BooleanField):
        return "false"
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return "0"
    if isinstance(field, models.DateTimeField):
        return "now()"
    if isinstance(field, models.DateField):
        return "current_date"
    if isinstance(field, models.JSONField):
        return "'{}'"
    return "''"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.customers.models import Customer
    from autocrm.demo.services import demo_create
    from autocrm.loyalty import services
    from autocrm.loyalty.models import Membership, PointsEntry, SpendEntry, Tier
    from autocrm.tenancy.models import Store

    assert connection.vendor == "postgresql", "the benchmark writes with generate_series: PostgreSQL"
    demo_create()
    org = Store.objects.get(code="a").organization
    store, _ = Store.objects.get_or_create(organization=org, code="bench-loyalty", defaults={"name": "会员基准店"})
    n = args.members
    t0 = time.perf_counter()
    members, spend, entries = Membership._meta.db_table, SpendEntry._meta.db_table, PointsEntry._meta.db_table
    if Membership.objects.filter(store=store).count() == n:  # made by an earlier run: put it back as it was
        silver = Tier.objects.get(store=store, code="silver").pk
        gold = Tier.objects.get(store=store, code="gold").pk
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {entries} WHERE store_id = %s AND source = 'expiry'", [store.pk])
            cur.execute(f"UPDATE {entries} SET remaining = 1000 WHERE store_id = %s", [store.pk])
            cur.execute(
                f"UPDATE {members} SET tier_id = CASE WHEN mod(customer_id, 3) = 0 THEN {silver} WHEN "
                f"mod(customer_id, 10) = 1 THEN {gold} ELSE NULL END, spend_12m = 0, points_balance = 1000, "
                f"downgrade_to_id = NULL, downgrade_on = NULL WHERE store_id = %s",
                [store.pk],
            )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        print(f"reset {n:,} members in {time.perf_counter() - t0:.1f} s", flush=True)
        return run(store, services)
    with connection.cursor() as cur:
        for model in (PointsEntry, SpendEntry, Membership):
            cur.execute(f"DELETE FROM {model._meta.db_table} WHERE store_id = %s", [store.pk])
        cur.execute(f"DELETE FROM {Customer._meta.db_table} WHERE store_id = %s", [store.pk])
    services.programme_for(store.pk)
    columns, values = [], []
    for field in Customer._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column == "store_id":
            columns.append("store_id")
            values.append(str(store.pk))
        elif field.column == "name":
            columns.append("name")
            values.append("'会员' || g")
        elif not field.null:
            columns.append(field.column)
            values.append(_literal(field))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"INSERT INTO {Customer._meta.db_table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(values)} FROM generate_series(1, %s) g", [n])  # fmt: skip
        silver = Tier.objects.get(store=store, code="silver").pk
        gold = Tier.objects.get(store=store, code="gold").pk
        # a third are silver already, a tenth gold; the rest not yet in a tier
        cur.execute(
            f"INSERT INTO {members} (store_id, customer_id, tier_id, spend_12m, points_balance, referral_code, "
            f"created_at, updated_at) SELECT %s, c.id, CASE WHEN mod(c.id, 3) = 0 THEN {silver} WHEN mod(c.id, 10) = 1 "
            f"THEN {gold} ELSE NULL END, 0, 1000, 'B' || lpad(to_hex(c.id), 11, '0'), now(), now() "
            f"FROM {Customer._meta.db_table} c WHERE c.store_id = %s",
            [store.pk, store.pk],
        )
        # one spend row each, 0–450 days old, ¥500–¥18,000
        cur.execute(
            f"INSERT INTO {spend} (store_id, membership_id, amount, category, source_ref, occurred_at, created_at, "
            f"updated_at) SELECT %s, m.id, 500 + mod(m.id * 7919, 17500), 'labour', 'bench:' || m.id, "
            f"now() - mod(m.id * 104729, 450) * interval '1 day', now(), now() FROM {members} m WHERE m.store_id = %s",
            [store.pk, store.pk],
        )
        # one earning of 1000 points each, expiring from 60 days ago to 2 years ahead
        cur.execute(
            f"INSERT INTO {entries} (store_id, membership_id, points, balance_after, source, source_ref, reason, "
            f"idempotency_key, remaining, expires_on, created_at, updated_at) SELECT %s, m.id, 1000, 1000, 'bill', "
            f"'bench', '', '', 1000, current_date + (mod(m.id * 15485863, 790) - 60)::int, now(), now() "
            f"FROM {members} m WHERE m.store_id = %s",
            [store.pk, store.pk],
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(flush=True)
    print(f"made {n:,} members, spend and earnings in {time.perf_counter() - t0:.1f} s", flush=True)
    run(store, services)


def run(store: Any, services: Any) -> None:
    from autocrm.core import events

    for label in ("first run", "second run"):
        with events.capture(execute=False):  # the notices are queued for the worker; not sent here
            wall, cpu = time.perf_counter(), time.process_time()
            result = services.nightly_store(store_id=store.pk)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU in Python — members {result.members:,}, up "
              f"{result.upgraded:,}, downgrade notices {result.notified:,}, down {result.downgraded:,}, "
              f"points expired {result.expired_points:,} of {result.expired_members:,} members")  # fmt: skip


if __name__ == "__main__":
    main()
