"""Messaging benchmark (issue 12): planning, the send-time check and end-to-end delivery.

    .venv/bin/python benchmarks/messaging.py --pg postgres://postgres@127.0.0.1:5432 --db h4_msgbench \\
        --redis redis://127.0.0.1:6379/4 --port 18400 [--customers 1000000] [--deliver 20000] [--quick]

Builds a fresh database (dropped first) with one store of ``--customers`` customers (90 % with
marketing consent on SMS, 1 % of the numbers suppressed, 5 % already at the weekly cap of 2),
then prints, each line with its target and the load average (CPU figures stay meaningful on a
loaded machine; wall-clock figures need a quiet one):

1. **planning**: ``outbox.plan_bulk`` of one marketing SMS to every customer, consent,
   suppressions, the cap and the window decided for each: messages/s, seconds per 1,000,000
   (target < 60 s) and the planner's CPU per message;
2. **send-time check**: ``policy.check`` for one message alone as the worker's one-message path
   runs it (the first read of the rows and again warm: mean, p95, our CPU, round trips; target
   < 2 ms), and per message inside the delivery loop's batches;
3. **delivery end to end**, the production path: ``--deliver`` service messages planned
   (``plan_bulk``, whose commit enqueues one kick on the Redis queue) → 2 Huey consumer
   processes (one worker thread each, as ``HUEY_WORKERS=1`` on two hosts) run the kick
   (``tasks.message_kick_task``: ``outbox.drain`` of ``deliver_due`` batches; a full batch wakes
   the other worker) → a local fake provider (its own process, HTTP on loopback) → the provider
   posts delivered receipts back in batches to our callback endpoint (served by a WSGI process
   of the app) → every message ``delivered``; messages/s from the planning's commit to the last
   receipt applied (target ≥ 1,000/s), with the shared rate counter and the kick's mark in Redis,
   and the CPU per message of the workers, the fake provider and the callback server.

``--quick`` (CI): 20,000 customers and 2,000 deliveries. ``--reuse``: keep the database an
earlier run built (the measurements' messages are deleted first). ``BENCH_PROFILE=<file>``:
cProfile (CPU time) of the first worker's drains into ``<file>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")

# 10:00 on a Tuesday in Shanghai: inside the marketing window.
NOON = dt.datetime(2027, 1, 5, 2, 0, tzinfo=dt.UTC)
SECRET = "bench-callback-secret"  # noqa: S105 (the benchmark's own throwaway account)


def _setup_django() -> None:
    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would be the benchmark
    from autocrm.messaging.tests import fakes  # noqa: F401  (registers the fake provider's client)


def _recreate(pg: str, db: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def _build(customers: int, deliver: int, provider_url: str) -> dict:
    """The store, its customers, consents, suppressions and sent marketing (COPY, not timed)."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from autocrm.core import crypto
    from autocrm.core.bulk import RawRows
    from autocrm.customers.models import Consent, Customer
    from autocrm.demo.services import demo_create
    from autocrm.messaging.models import ChannelAccount, Message, MessageTemplate, Suppression, normalize_address
    from autocrm.messaging.planner import _defaults
    from autocrm.tenancy.models import Store

    call_command("migrate", verbosity=0)
    demo_create()
    store = Store.objects.get(code="a")
    now = timezone.now()
    account = ChannelAccount.objects.create(
        store=store, provider="test_http", channel="sms", endpoint=provider_url, callback_secret=SECRET
    )
    marketing = MessageTemplate.objects.create(
        store=store, code="winter_check", name="Winter check", purpose="marketing", channel="sms",
        body="{customer_name}您好，冬季检测开始了。", provider_template_id="1002", param_order=["customer_name"],
    )  # fmt: skip
    service = MessageTemplate.objects.create(
        store=store, code="repair_done", name="Repair done", purpose="service", channel="sms",
        body="{customer_name}您好，您的车已修好。", provider_template_id="1001", param_order=["customer_name"],
    )  # fmt: skip
    base = _defaults(Customer, now)
    base.update({"store_id": store.pk, "name": "客户"})
    cols = tuple(base)
    started = time.perf_counter()
    first_id = None
    batch = 50_000
    for start in range(0, customers, batch):
        rows = RawRows(Customer, cols)
        for i in range(start, min(customers, start + batch)):
            mobile = f"+86139{i:08d}"
            row = dict(base)
            row.update({"name": f"客户{i}", "mobile": crypto.encrypt(mobile),
                        "mobile_index": crypto.blind_index(normalize_address(mobile)), "mobile_last4": mobile[-4:]})  # fmt: skip
            rows.add(*row.values())
        with transaction.atomic():
            rows.flush()
    ids = list(Customer.objects.filter(store=store).order_by("id").values_list("id", flat=True))
    first_id = ids[0]
    cbase = _defaults(Consent, now)
    cbase.update({"store_id": store.pk, "channel": "sms", "granted": True, "at": now - dt.timedelta(days=30)})
    ccols = tuple(cbase)
    sbase = _defaults(Suppression, now)
    sbase.update({"store_id": store.pk, "channel": "sms", "reason": "unsubscribed"})
    mbase = _defaults(Message, now)
    mbase.update({"store_id": store.pk, "purpose": "marketing", "channel": "sms", "status": "sent",
                  "sent_at": NOON - dt.timedelta(days=2), "template_id": marketing.pk})  # fmt: skip
    for start in range(0, len(ids), batch):
        consents, sups, sent = (
            RawRows(Consent, ccols),
            RawRows(Suppression, tuple(sbase)),
            RawRows(Message, tuple(mbase)),
        )
        for n, cid in enumerate(ids[start : start + batch], start=start):
            if n % 10 != 9:  # 90 % marketing consent
                consents.add(*{**cbase, "customer_id": cid, "purpose": "marketing"}.values())
            if n < deliver:
                consents.add(*{**cbase, "customer_id": cid, "purpose": "service"}.values())
            if n % 100 == 50:  # 1 % unsubscribed numbers
                mobile = f"+86139{n:08d}"
                sups.add(*{**sbase, "address": crypto.encrypt(mobile), "address_index": crypto.blind_index(normalize_address(mobile)),
                           "customer_id": cid}.values())  # fmt: skip
            if n % 20 == 7:  # 5 % at the cap already
                for k in range(2):
                    sent.add(
                        *{
                            **mbase,
                            "uid": f"{n:024x}{k:08x}",
                            "idempotency_key": f"old:{n}:{k}",
                            "customer_id": cid,
                        }.values()
                    )
        with transaction.atomic():
            consents.flush()
            sups.flush()
            sent.flush()
    from autocrm.core.bulk import analyze

    for model in (Customer, Consent, Suppression, Message):
        analyze(model)
    return {"store": store.pk, "marketing": marketing.pk, "service": service.pk, "account": account.pk,
            "ids": ids, "first_id": first_id, "build_s": round(time.perf_counter() - started, 1)}  # fmt: skip


def _forget_measurements(world: dict) -> None:
    """A reused database: the messages (and their attempts and timeline rows) of the last run's
    planning and deliveries go, the built world stays."""
    from django.db import connection, transaction

    from autocrm.core.bulk import analyze
    from autocrm.customers.models import TimelineEvent
    from autocrm.messaging.models import Message

    with transaction.atomic(), connection.cursor() as cursor:
        ids = "SELECT id FROM messaging_message WHERE idempotency_key LIKE 'winter:2027:%%' OR idempotency_key LIKE 'repair:%%'"
        for table, column in _dependents(Message):
            cursor.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({ids})')
        cursor.execute(
            "DELETE FROM messaging_message WHERE idempotency_key LIKE 'winter:2027:%%' OR idempotency_key LIKE 'repair:%%'"
        )
        cursor.execute(f"DELETE FROM {TimelineEvent._meta.db_table} WHERE kind = 'message.suppressed'")
    # Dead rows and index entries would slow the next COPY down: the tables as a fresh build has them.
    with connection.cursor() as cursor:
        for model in (Message, TimelineEvent):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    analyze(Message)


def _dependents(model: Any) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to ``model``."""
    out = []
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            continue
        out.append((rel.related_model._meta.db_table, rel.field.column))
    return out


def _provider(port: int, receipt_url: str, expected: int, ready: mp.Event) -> None:  # type: ignore[valid-type]
    """The fake provider's process: accepts sends, pushes delivered receipts back in batches."""
    import httpx

    _setup_django()
    from autocrm.messaging.tests.fakes import FakeProvider

    pushed = 0
    with FakeProvider(port) as provider:
        ready.set()  # type: ignore[attr-defined]
        client = httpx.Client(timeout=60)
        deadline = time.time() + 600
        last_push = time.time()
        while pushed < expected and time.time() < deadline:
            with provider.lock:
                fresh = provider.accepted[pushed : pushed + 500]
            if 0 < len(fresh) < 200 and time.time() - last_push < 0.1 and pushed + len(fresh) < expected:
                fresh = []  # providers push receipts in batches: wait up to 0.1 s for a fuller one
            if not fresh:
                provider.got_one.wait(0.05)
                provider.got_one.clear()
                continue
            body = json.dumps(
                [{"id": a["id"], "provider_id": a["serial"], "status": "delivered", "code": "DELIVRD"} for a in fresh]
            )
            r = client.post(receipt_url, content=body, headers={"X-Secret": SECRET, "Content-Type": "application/json"})
            if r.status_code != 200:
                print("receipt refused", r.status_code, r.text[:200], file=sys.stderr)
                return
            pushed += len(fresh)
            last_push = time.time()


def _app_server(port: int, ready: mp.Event) -> None:  # type: ignore[valid-type]
    """Our callback endpoint: the app's WSGI handler on loopback (one thread, batched pushes)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    _setup_django()
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = make_server("127.0.0.1", port, get_wsgi_application(), handler_class=Quiet)
    ready.set()  # type: ignore[attr-defined]
    server.serve_forever()


def _worker(name: str, periodic: bool, ready: mp.Event) -> None:  # type: ignore[valid-type]
    """One production worker: a Huey consumer (one worker thread) on the Redis queue, running
    whatever is queued — the kicks ``message_queue``/``plan_bulk`` enqueue on commit, each
    draining ``outbox.deliver_due`` batches (``tasks.message_kick_task``) — until SIGINT."""
    _setup_django()
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    from autocrm.messaging import outbox

    autodiscover_modules("tasks")  # what `autocrm run_huey` does: every app's tasks registered
    profile = None
    if os.environ.get("BENCH_PROFILE") and name.endswith("0"):
        import cProfile

        profile = cProfile.Profile(time.process_time)
        real = outbox.drain

        def profiled(**kwargs: Any) -> Any:  # the consumer's worker thread runs the drains
            profile.enable()  # type: ignore[union-attr]
            try:
                return real(**kwargs)
            finally:
                profile.disable()  # type: ignore[union-attr]

        outbox.drain = profiled  # type: ignore[assignment]
    consumer = HUEY.create_consumer(workers=1, worker_type="thread", periodic=periodic, check_worker_health=False)
    ready.set()  # type: ignore[attr-defined]
    consumer.run()  # SIGINT: finish the running task, then return
    if profile is not None:
        profile.dump_stats(os.environ["BENCH_PROFILE"])


def _proc_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a child process so far (Linux ``/proc``), 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class _Backends:
    """CPU of the database's other backends (the planner's reader thread opens its own connection
    and closes it at the end): each backend of ``db`` seen in ``/proc`` is sampled every 0.2 s and
    its last figure kept, so a connection gone before the end still counts."""

    def __init__(self, db: str, exclude: int) -> None:
        import threading

        self.db, self.exclude, self.seen = db, exclude, {}
        self.start = self._sample()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _sample(self) -> dict[int, float]:
        out = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.exclude:
                continue
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {self.db} ".encode() in title:
                out[int(entry.name)] = _proc_cpu(int(entry.name))
        return out

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.seen.update(self._sample())

    def cpu(self) -> float:
        self.stop.set()
        self.thread.join()
        self.seen.update(self._sample())
        return sum(c - self.start.get(pid, 0.0) for pid, c in self.seen.items())


def _uptime() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="h4_msgbench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--port", type=int, default=18400, help="two ports from this one: provider, app")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--deliver", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "msgbench"))
    parser.add_argument("--quick", action="store_true", help="20,000 customers, 2,000 deliveries")
    parser.add_argument("--plan-only", action="store_true", help="measure the planning only (no check, no delivery)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database a previous run built (same --db, --customers, --deliver): only the "
        "messages the measurements wrote are deleted first",
    )
    args = parser.parse_args()
    if args.quick:
        args.customers, args.deliver, args.checks = 20_000, 2_000, 500
    os.environ["DATABASE_URL"] = f"{args.pg}/{args.db}"
    os.environ["REDIS_URL"] = args.redis
    os.environ["AUTOCRM_DATA_DIR"] = args.data_dir
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    world_file = Path(args.data_dir) / f"world-{args.db}-{args.customers}-{args.deliver}.json"
    reuse = args.reuse and world_file.exists()
    if not reuse:
        _recreate(args.pg, args.db)
    _setup_django()
    from django.core.cache import caches
    from django.db import connection

    caches["shared"].clear()
    print(f"uptime at the start: {_uptime()}", flush=True)
    provider_port, app_port = args.port, args.port + 1
    provider_url = f"http://127.0.0.1:{provider_port}"
    if reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # the tree's migrations since the build
        world = json.loads(world_file.read_text())
        _forget_measurements(world)
        print(f"reusing the {args.customers:,} customers of {world_file.name}", flush=True)
    else:
        print(f"building {args.customers:,} customers …", flush=True)
        world = _build(args.customers, args.deliver, provider_url)
        world_file.write_text(json.dumps(world))
        print(f"  built in {world['build_s']} s", flush=True)

    from autocrm.messaging import outbox, policy
    from autocrm.messaging.models import Message, MessageTemplate

    # 1. planning
    marketing = MessageTemplate.objects.get(pk=world["marketing"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        writer = cursor.fetchone()[0]  # the connection whose COPYs write the messages
    db_cpu0 = _proc_cpu(writer)
    others = _Backends(args.db, exclude=writer)
    cpu0 = time.process_time()
    counts = outbox.plan_bulk(store_id=world["store"], purpose="marketing", template=marketing,
                              key_prefix="winter:2027", now=NOON)  # fmt: skip
    plan_cpu = time.process_time() - cpu0
    db_cpu = _proc_cpu(writer) - db_cpu0
    reader_cpu = others.cpu()
    rate = counts["planned"] / counts["seconds"] if counts["seconds"] else 0
    per_million = 1_000_000 / rate if rate else 0
    print(f"planning: {counts['planned']:,} messages in {counts['seconds']} s ({rate:,.0f}/s, "
          f"≈ {per_million:.0f} s per 1,000,000) [target 1,000,000 < 60 s]; queued {counts['queued']:,}, "
          f"suppressed {counts['suppressed']:,} {dict(counts['reasons'])}; planner CPU {plan_cpu:.1f} s "
          f"({plan_cpu * 1e6 / max(1, counts['planned']):.1f} µs a message), the writing backend's CPU {db_cpu:.1f} s "
          f"({db_cpu * 1e6 / max(1, counts['planned']):.1f} µs a message), the reading backend's CPU {reader_cpu:.1f} s "
          f"({reader_cpu * 1e6 / max(1, counts['planned']):.1f} µs a message); load average {os.getloadavg()[0]:.1f}",
          flush=True)  # fmt: skip
    if args.plan_only:
        print(f"uptime at the end: {_uptime()}", flush=True)
        return

    # 2. the send-time check, one message at a time as the worker runs it
    sample = list(
        Message.objects.select_related("customer").filter(idempotency_key__startswith="winter:2027:", status="queued")
        .order_by("?")[: args.checks]
    )  # fmt: skip
    from django.test.utils import CaptureQueriesContext

    def one_at_a_time() -> tuple[list[float], list[float]]:
        wall, ours = [], []
        for m in sample:
            t0, c0 = time.perf_counter(), time.process_time()
            policy.check(m, now=NOON)
            wall.append((time.perf_counter() - t0) * 1000)
            ours.append((time.process_time() - c0) * 1000)
        return sorted(wall), ours

    cold, cold_cpu = one_at_a_time()  # first read of these rows: index pages from disk, plans not cached
    warm, warm_cpu = one_at_a_time()  # the same messages again: what a worker pays with warm caches
    queries = []
    for m in sample[:100]:
        with CaptureQueriesContext(connection) as captured:
            policy.check(m, now=NOON)
        queries.append(len(captured.captured_queries))

    def p95(values: list[float]) -> float:
        return values[int(len(values) * 0.95)]

    print(f"send-time check, one message alone: mean {statistics.mean(warm):.3f} ms wall (p95 {p95(warm):.3f}), "
          f"{statistics.mean(warm_cpu):.3f} ms of our CPU, {statistics.mean(queries):.1f} round trip(s); "
          f"first read of the rows: mean {statistics.mean(cold):.3f} ms (p95 {p95(cold):.3f}, "
          f"{statistics.mean(cold_cpu):.3f} ms CPU) over {len(warm)} messages [target < 2 ms]; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    # The same check as the delivery loop runs it: the batch's facts preloaded (four queries per
    # 200 messages), then each message decided in memory.
    batch_ms = []
    for start_at in range(0, len(sample), 200):
        chunk = sample[start_at : start_at + 200]
        t0 = time.perf_counter()
        ctx = policy.PolicyContext()
        ctx.load(store_id=world["store"], customer_ids=[m.customer_id for m in chunk],
                 addresses=[(m.channel, m.to_index) for m in chunk], now=NOON)  # fmt: skip
        for m in chunk:
            policy.check(m, now=NOON, context=ctx)
        batch_ms.append((time.perf_counter() - t0) * 1000 / len(chunk))
    print(f"send-time check in the delivery loop (batches of 200, four queries a batch): "
          f"{statistics.mean(batch_ms):.3f} ms a message", flush=True)  # fmt: skip
    # Out of the delivery's way: the planned marketing waits for another day.
    Message.objects.filter(idempotency_key__startswith="winter:2027:").update(
        status="held", not_before=NOON + dt.timedelta(days=365)
    )

    # 3. delivery end to end, through the production path: two Huey consumers on the Redis
    # queue; planning's commit enqueues one kick, whose worker drains batches and wakes the other.
    from huey.contrib.djhuey import HUEY

    from autocrm.messaging.tasks import KICK_KEY

    HUEY.flush()  # the planning's kick above (its messages are held now) is not part of this
    caches["shared"].delete(KICK_KEY)
    service = MessageTemplate.objects.get(pk=world["service"])
    connection.close()
    ctx = mp.get_context("spawn")
    ready_p, ready_a = ctx.Event(), ctx.Event()
    receipt_url = f"http://127.0.0.1:{app_port}/api/v1/channels/test_http/callback?account={world['account']}"
    expected = args.deliver
    procs = [ctx.Process(target=_provider, args=(provider_port, receipt_url, expected, ready_p), daemon=True),
             ctx.Process(target=_app_server, args=(app_port, ready_a), daemon=True)]  # fmt: skip
    for p in procs:
        p.start()
    ready_p.wait(120)
    ready_a.wait(120)
    ready_w = [ctx.Event() for _ in range(2)]
    workers = [ctx.Process(target=_worker, args=(f"bench-w{i}", i == 0, ready_w[i])) for i in range(2)]
    for w in workers:
        w.start()
    for r in ready_w:
        r.wait(120)
    time.sleep(1)  # the consumers' threads waiting on the queue
    cpu_before = [_proc_cpu(w.pid) for w in workers]
    now = dt.datetime.now(dt.UTC)
    t_plan = time.perf_counter()
    plan = outbox.plan_bulk(store_id=world["store"], purpose="service", template=service, key_prefix="repair",
                            customer_ids=world["ids"][: args.deliver], now=now)  # fmt: skip
    t0 = time.perf_counter()  # the commit is behind us: its kick is in the queue
    expected = plan["queued"]
    delivered = 0
    while time.perf_counter() - t0 < 600:
        delivered = Message.objects.filter(idempotency_key__startswith="repair:", status="delivered").count()
        if delivered >= expected:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - t0
    worker_cpu = sum(_proc_cpu(w.pid) - c for w, c in zip(workers, cpu_before, strict=True))
    helpers_cpu = [_proc_cpu(p.pid) for p in procs]  # the fake provider's and the callback server's
    for w in workers:
        os.kill(w.pid, signal.SIGINT)  # graceful: the running task ends first
    for w in workers:
        w.join(30)
        if w.is_alive():
            w.terminate()
    for p in procs:
        p.terminate()
    from django.db.models import Count

    from autocrm.messaging.models import MessageAttempt

    statuses = dict(
        Message.objects.filter(idempotency_key__startswith="repair:").values_list("status").annotate(n=Count("id"))
    )
    tries = dict(
        Message.objects.filter(idempotency_key__startswith="repair:")
        .exclude(provider_id="")
        .values_list("attempts")
        .annotate(n=Count("id"))
    )
    outcomes = dict(
        MessageAttempt.objects.filter(message__idempotency_key__startswith="repair:")
        .values_list("outcome")
        .annotate(n=Count("id"))
    )
    sent = max(1, outcomes.get("accepted", 0))
    print(f"delivery end to end (production path: Huey consumers, coalesced kicks, batch drains): "
          f"{delivered:,}/{expected:,} delivered (receipts applied) in {elapsed:.2f} s from the planning's commit = "
          f"{delivered / elapsed:,.0f} messages/s with 2 workers [target ≥ 1,000/s] (planning the {expected:,} took "
          f"{t0 - t_plan:.2f} s before that); worker CPU {worker_cpu * 1000 / sent:.3f} ms a message "
          f"({worker_cpu:.2f} s over {sent:,} sends), fake provider {helpers_cpu[0] * 1000 / sent:.3f} ms, callback "
          f"server {helpers_cpu[1] * 1000 / sent:.3f} ms a message; attempts {outcomes}; tries a message {tries}; "
          f"statuses {statuses}; load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    print(f"uptime at the end: {_uptime()}", flush=True)


if __name__ == "__main__":
    main()
