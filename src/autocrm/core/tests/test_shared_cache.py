"""Rate limits count across processes: the shared cache is Redis or a table of the database,
never memory local to a worker, and its ``incr`` loses no hit when two processes count at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import override_settings

from autocrm.core import ratelimit
from autocrm.core.cache import SharedDatabaseCache, create_cache_tables
from autocrm.core.errors import RateLimited

TABLE = "autocrm_cache_test"
DB_CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {"BACKEND": "autocrm.core.cache.SharedDatabaseCache", "LOCATION": TABLE},
}
SRC = str(Path(__file__).resolve().parents[3])

# One "worker": its own process, its own database connection, counting into the shared table.
WORKER = """
import json, sys
import django
from django.conf import settings
db, caches, mode, hits = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
settings.configure(DATABASES={"default": db}, CACHES=caches, USE_TZ=True, INSTALLED_APPS=[])
django.setup()
from django.core.cache import caches as all_caches
from django.core.management import call_command
from autocrm.core import ratelimit
from autocrm.core.errors import RateLimited
from autocrm.core.cache import counter_hit
if mode == "setup":
    if "Database" in caches["shared"]["BACKEND"]:
        call_command("createcachetable", verbosity=0)
    all_caches["shared"].clear()
if mode == "lockout":  # the sign-in lock-out's counter: failures of one username
    for _ in range(hits):
        counter_hit("autocrm:lockout:x", timeout=900, sliding=True, cache=all_caches["shared"])
    print(0)
    raise SystemExit(0)
limited = 0
for _ in range(hits):
    try:
        ratelimit.hit("auth:10.0.0.1", limit=50, window=3600, now=7200.0, cache=all_caches["shared"])
    except RateLimited:
        limited += 1
print(limited)
"""
REDIS = "redis://127.0.0.1:6379/5"


def _redis_caches() -> dict:
    """The shared cache on Redis (database 5 of this machine's Redis), or skip when none runs."""
    import uuid

    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "autocrm.core.cache.SharedRedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        },
    }


def test_production_settings_count_in_a_shared_cache():
    """Without REDIS_URL the counters live in the database, not in each process's memory."""
    from autocrm.config import settings as real

    assert real.CACHES["shared"]["BACKEND"] == "autocrm.core.cache.SharedDatabaseCache"
    assert "locmem" not in real.CACHES["shared"]["BACKEND"]


def test_ratelimit_counts_in_the_shared_alias(settings):
    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    from django.core.cache import caches

    assert ratelimit.counter_cache() is caches["shared"]


@pytest.mark.django_db
def test_migrate_creates_the_table_and_two_workers_share_one_count():
    """Two cache connections, as two gunicorn workers build them from the settings: the limit
    is reached by their hits together. ``create_cache_tables`` is what ``migrate`` runs."""
    with override_settings(CACHES=DB_CACHES):
        create_cache_tables(using="default")
        assert TABLE in connection.introspection.table_names()
        one, two = SharedDatabaseCache(TABLE, {}), SharedDatabaseCache(TABLE, {})
        for i in range(4):
            ratelimit.hit("login:1.2.3.4", limit=5, window=60, now=120.0, cache=one if i % 2 else two)
        assert ratelimit.hit("login:1.2.3.4", limit=5, window=60, now=120.0, cache=two) == 5
        with pytest.raises(RateLimited):
            ratelimit.hit("login:1.2.3.4", limit=5, window=60, now=130.0, cache=one)
        # a cache local to each process would not have seen the other's hits
        local_one, local_two = LocMemCache("a", {}), LocMemCache("b", {})
        ratelimit.hit("k", limit=1, window=60, now=120.0, cache=local_one)
        assert ratelimit.hit("k", limit=1, window=60, now=120.0, cache=local_two) == 1


def _worker_db(tmp_path: Path) -> dict:
    s = connection.settings_dict
    if connection.vendor == "sqlite":  # the test database is in memory: share a file instead
        return {
            "ENGINE": s["ENGINE"],
            "NAME": str(tmp_path / "shared.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    return {k: s[k] for k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}


def _run(db: dict, mode: str, hits: int, caches: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", WORKER, json.dumps(db), json.dumps(caches or DB_CACHES), mode, str(hits)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    )


def _two_workers(db: dict, mode: str, caches: dict | None = None) -> int:
    setup = _run(db, "setup", 0, caches)
    out, err = setup.communicate(timeout=120)
    assert setup.returncode == 0, err
    workers = [_run(db, mode, 40, caches), _run(db, mode, 40, caches)]
    refused = 0
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        refused += int(out.strip())
    return refused


@pytest.mark.django_db
def test_two_processes_counting_at_once_lose_no_hit(tmp_path):
    """Two real processes hit one key 40 times each, at the same time, against a limit of 50:
    exactly 30 of the 80 are refused — no hit lost to a read-add-write race, none counted twice."""
    assert _two_workers(_worker_db(tmp_path), "count") == 30


@pytest.mark.django_db
def test_two_processes_counting_in_redis_lose_no_hit(tmp_path):
    """The same with ``REDIS_URL`` set: ``INCR`` + ``EXPIRE`` in one pipeline per hit."""
    assert _two_workers(_worker_db(tmp_path), "count", _redis_caches()) == 30


@pytest.mark.django_db
def test_two_processes_add_up_to_one_lock_out_count(tmp_path):
    """The lock-out's failures of one username, counted by two real processes at once in the
    database-backed cache and read by a third: 80, none lost."""
    db = _worker_db(tmp_path)
    _two_workers(db, "lockout")
    assert _peek_in(db, DB_CACHES) == 80


@pytest.mark.django_db
def test_two_processes_add_up_to_one_lock_out_count_in_redis(tmp_path):
    db = _worker_db(tmp_path)
    caches = _redis_caches()
    _two_workers(db, "lockout", caches)
    assert _peek_in(db, caches) == 80


PEEK = """
import json, sys
import django
from django.conf import settings
db, caches = json.loads(sys.argv[1]), json.loads(sys.argv[2])
settings.configure(DATABASES={"default": db}, CACHES=caches, USE_TZ=True, INSTALLED_APPS=[])
django.setup()
from django.core.cache import caches as all_caches
from autocrm.core.cache import counter_peek
print(counter_peek("autocrm:lockout:x", cache=all_caches["shared"])[0])
"""


def _peek_in(db: dict, caches: dict) -> int:
    """The count as a third process reads it."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", PEEK, json.dumps(db), json.dumps(caches)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    )
    return int(done.stdout.strip())


@pytest.mark.django_db
def test_a_database_counter_is_one_statement_and_the_worker_sweeps(django_assert_num_queries):
    """No ``COUNT(*)`` cull per write (Django's ``add``/``set`` run one on every call): one
    upsert; expired rows are deleted by the sweep the worker runs."""
    with override_settings(CACHES=DB_CACHES):
        create_cache_tables(using="default")
        cache = SharedDatabaseCache(TABLE, {})
        with django_assert_num_queries(1):
            ratelimit.hit("k:1", limit=5, window=60, now=120.0, cache=cache)
        with django_assert_num_queries(1):
            assert ratelimit.hit("k:1", limit=5, window=60, now=121.0, cache=cache) == 2
        count, expires = cache.counter_peek("autocrm:rl:k:1:60:2")
        assert count == 2 and expires > 0
        cache.counter_hit("gone", timeout=-10)  # already past its expiry
        assert cache.sweep() >= 1
        assert cache.counter_peek("gone") == (0, 0.0)


def test_sign_in_lock_out_is_counted_across_clients(demo):
    """The lock-out counts failed sign-ins in the shared cache: failures through two clients
    (two workers, two addresses) add up, and both see the lock."""
    from django.test import Client
    from django.urls import reverse

    one, two = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    for i in range(5):
        (one if i % 2 else two).post(reverse("accounts:login"), {"username": "sales_a1", "password": "wrong-password"})
    for client in (one, two):
        client.post(reverse("accounts:login"), {"username": "sales_a1", "password": "autocrm-demo"})
        assert "_auth_user_id" not in client.session
