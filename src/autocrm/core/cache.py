"""The cache every process of a deployment shares: counters that must be global (rate limits,
the sign-in lock-out) and what the request path caches (who the caller is, see ADR 0012).

``settings.CACHES["shared"]`` is :class:`SharedRedisCache` when ``REDIS_URL`` is set, else
:class:`SharedDatabaseCache` on the application database (table ``autocrm_cache``, created by
``migrate``): either way two gunicorn workers, or two web nodes, count into the same place and
see the same versions. The default cache may stay per-process (it only holds what is cheap to
recompute).

Two mechanisms live here, both one round trip:

- :func:`counter_hit` / :func:`counter_peek`: a counter with an expiry (Redis ``INCR`` +
  ``EXPIRE`` in one pipeline; in the database one ``INSERT … ON CONFLICT … DO UPDATE …
  RETURNING``, without Django's per-write ``COUNT(*)`` cull — :func:`shared_cache_sweep`, a
  periodic worker task, deletes expired rows instead);
- :func:`entry_get` / :func:`entry_set` / :func:`versions_bump`: entries valid for a tuple of
  *versions*. A version is a random token under its own key, replaced (never incremented) by a
  bump, so an entry written under an old version is never read again, and a version key that
  the cache lost is simply a new version: nothing stale can come back.
"""

from __future__ import annotations

import base64
import datetime as dt
import pickle
import secrets
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections, router, transaction
from django.utils import timezone


def shared_cache() -> BaseCache:
    """``CACHES["shared"]`` (``default`` when a deployment has no such alias)."""
    return caches["shared" if "shared" in settings.CACHES else "default"]


class _ReusedClient(RedisCacheClient):
    """Django's client builds a new ``redis.Redis`` for every operation (about a thousand Python
    calls each: the command callbacks are set up anew); one per connection pool is enough — a
    ``redis.Redis`` is safe to share, and the pool reconnects after a fork."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]  # Django's, undeclared in the stubs
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class SharedRedisCache(RedisCache):
    """Django's Redis cache reusing its clients, with a counter in one round trip: ``INCR`` and
    ``EXPIRE`` pipelined."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClient

    def counter_hit(self, key: str, *, timeout: int, sliding: bool = False, amount: int = 1) -> tuple[int, float]:
        """Add ``amount`` (one) to ``key``; its count and when it expires (epoch seconds). The first
        hit sets the expiry; with ``sliding`` every hit moves it to ``timeout`` from now."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)  # type: ignore[attr-defined]  # RedisCache's client (cached_property)
        pipe = client.pipeline(transaction=False)
        self._count(pipe, key, timeout, sliding, amount)
        count, _set, ttl = pipe.execute()
        return int(count), time.time() + max(int(ttl), 0)

    @staticmethod
    def _count(pipe: Any, key: str, timeout: int, sliding: bool, amount: int = 1) -> None:
        pipe.incr(key, amount)
        if sliding:
            pipe.expire(key, timeout)
        else:
            pipe.expire(key, timeout, nx=True)
        pipe.ttl(key)

    def get_many_and_count(
        self, keys: Sequence[str], counter_key: str, *, timeout: int
    ) -> tuple[dict[str, Any], tuple[int, float]]:
        """``get_many(keys)`` and ``counter_hit(counter_key)`` (fixed window) in one pipeline:
        one round trip where there were two."""
        key_map = {self.make_and_validate_key(k): k for k in keys}
        counter = self.make_and_validate_key(counter_key)
        client = self._cache.get_client(counter, write=True)  # type: ignore[attr-defined]  # as above
        pipe = client.pipeline(transaction=False)
        pipe.mget(list(key_map))
        self._count(pipe, counter, timeout, False)
        values, count, _set, ttl = pipe.execute()
        loads = self._cache._serializer.loads  # type: ignore[attr-defined]  # RedisCacheClient's serializer
        found = {key_map[k]: loads(v) for k, v in zip(key_map, values, strict=True) if v is not None}
        return found, (int(count), time.time() + max(int(ttl), 0))

    def counter_peek(self, key: str) -> tuple[int, float]:
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key)  # type: ignore[attr-defined]  # as above
        pipe = client.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        value, ttl = pipe.execute()
        if value is None:
            return 0, 0.0
        return int(value), time.time() + max(int(ttl), 0)


class SharedDatabaseCache(DatabaseCache):
    """Django's database cache with an atomic ``incr`` and a counter in one statement.

    Django's ``incr`` reads, adds one and writes back, so two processes counting at once lose a
    hit: here the row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
    IMMEDIATE`` holds the database's write lock). :meth:`counter_hit` is a single upsert whose
    row holds the count as plain digits (not a pickle, so SQL can add to it): such keys are read
    with :meth:`counter_peek`, never ``get``."""

    _table: str  # set by BaseDatabaseCache.__init__ (django-stubs does not declare it)

    def _names(self) -> tuple[Any, str, str, str, str, str]:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, value_col, key_col, expires_col = (quote(n) for n in (self._table, "value", "cache_key", "expires"))
        return connection, db, table, value_col, key_col, expires_col

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        connection, db, table, value_col, key_col, expires_col = self._names()
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_col} FROM {table} WHERE {key_col} = %s AND {expires_col} >= %s{lock}",
                [key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301 (our own rows)
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET {value_col} = %s WHERE {key_col} = %s", [encoded, key])
        return value

    def counter_hit(self, key: str, *, timeout: int, sliding: bool = False, amount: int = 1) -> tuple[int, float]:
        """One ``INSERT … ON CONFLICT (cache_key) DO UPDATE … RETURNING`` (PostgreSQL and SQLite
        ≥ 3.35 alike): a row past its expiry starts again at ``amount``."""
        key = self.make_and_validate_key(key)
        connection, _db, table, value_col, key_col, expires_col = self._names()
        now_dt = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        now, expires = adapt(now_dt), adapt(now_dt + dt.timedelta(seconds=timeout))
        cast_int = "BIGINT" if connection.vendor == "postgresql" else "INTEGER"
        new_expires = "excluded." + expires_col if sliding else f"{table}.{expires_col}"
        sql = (
            f"INSERT INTO {table} ({key_col}, {value_col}, {expires_col}) VALUES (%s, %s, %s) "
            f"ON CONFLICT ({key_col}) DO UPDATE SET "
            f"{value_col} = CASE WHEN {table}.{expires_col} < %s THEN excluded.{value_col} "
            f"ELSE CAST(CAST({table}.{value_col} AS {cast_int}) + {int(amount)} AS TEXT) END, "
            f"{expires_col} = CASE WHEN {table}.{expires_col} < %s THEN excluded.{expires_col} "
            f"ELSE {new_expires} END "
            f"RETURNING {value_col}, {expires_col}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, str(int(amount)), expires, now, now])
            value, expires_at = cursor.fetchone()
        return int(value), self._epoch(connection, expires_at)

    def counter_peek(self, key: str) -> tuple[int, float]:
        key = self.make_and_validate_key(key)
        connection, _db, table, value_col, key_col, expires_col = self._names()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_col}, {expires_col} FROM {table} WHERE {key_col} = %s AND {expires_col} >= %s",
                [key, now],
            )
            row = cursor.fetchone()
        if row is None:
            return 0, 0.0
        return int(row[0]), self._epoch(connection, row[1])

    @staticmethod
    def _epoch(connection: Any, value: Any) -> float:
        if isinstance(value, str):  # SQLite hands the column back as text
            value = dt.datetime.fromisoformat(value)
        if timezone.is_naive(value):
            value = value.replace(tzinfo=dt.UTC)
        return float(value.timestamp())

    def sweep(self) -> int:
        """Delete the expired rows (what Django's cull did on every write); the count deleted."""
        connection, _db, table, _value_col, _key_col, expires_col = self._names()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {expires_col} < %s", [now])
            return int(cursor.rowcount or 0)


def counter_hit(
    key: str, *, timeout: int, sliding: bool = False, cache: BaseCache | None = None, amount: int = 1
) -> tuple[int, float]:
    """Count ``amount`` (one) against ``key`` in the shared cache (one round trip); ``(count,
    expires at)``.

    Another backend (a test's ``locmem``) falls back to ``add`` + ``incr``."""
    cache = shared_cache() if cache is None else cache
    own = getattr(cache, "counter_hit", None)
    if own is not None:
        return own(key, timeout=timeout, sliding=sliding, **({"amount": amount} if amount != 1 else {}))
    now = time.time()
    stamp_key = f"{key}:exp"
    expires = now + timeout if sliding else (cache.get(stamp_key) or now + timeout)
    ttl = max(1, round(expires - now))
    cache.add(key, 0, timeout=ttl)
    try:
        count = cache.incr(key, amount)
    except ValueError:  # expired between add and incr
        cache.set(key, amount, timeout=ttl)
        count = amount
    if sliding:
        cache.touch(key, timeout=ttl)
    cache.set(stamp_key, expires, timeout=ttl)
    return int(count), float(expires)


def counter_peek(key: str, *, cache: BaseCache | None = None) -> tuple[int, float]:
    """The count under ``key`` and when it expires; ``(0, 0.0)`` when there is none."""
    cache = shared_cache() if cache is None else cache
    own = getattr(cache, "counter_peek", None)
    if own is not None:
        return own(key)
    found = cache.get_many([key, f"{key}:exp"])
    if key not in found:
        return 0, 0.0
    return int(found[key]), float(found.get(f"{key}:exp") or 0.0)


def counter_reset(key: str, *, cache: BaseCache | None = None) -> None:
    cache = shared_cache() if cache is None else cache
    cache.delete_many([key, f"{key}:exp"])


# --- versioned entries ------------------------------------------------------------------------


def _new_version() -> str:
    return secrets.token_hex(8)


def entry_get(key: str, version_keys: Sequence[str]) -> tuple[Any, tuple[str, ...]]:
    """The entry under ``key`` if it was written for the current versions of ``version_keys``,
    else None; and those current versions (to write a rebuilt entry with). One round trip (two
    when a version key is missing: it is created with a new random version)."""
    cache = shared_cache()
    return _entry_of(cache, key, version_keys, cache.get_many([key, *version_keys]))


def entry_get_counting(
    key: str, version_keys: Sequence[str], *, counter_key: str, timeout: int, cache: BaseCache | None = None
) -> tuple[Any, tuple[str, ...], tuple[int, float]]:
    """:func:`entry_get` and :func:`counter_hit` (fixed window) of ``counter_key`` in ``cache``
    (default the shared cache): in one round trip when both live in the same Redis, else one
    after the other."""
    shared = shared_cache()
    counters = shared if cache is None else cache
    combined = getattr(shared, "get_many_and_count", None)
    if combined is None or counters is not shared:
        entry, versions = entry_get(key, version_keys)
        return entry, versions, counter_hit(counter_key, timeout=timeout, cache=counters)
    found, counted = combined([key, *version_keys], counter_key, timeout=timeout)
    entry, versions = _entry_of(shared, key, version_keys, found)
    return entry, versions, counted


def _entry_of(
    cache: BaseCache, key: str, version_keys: Sequence[str], found: dict[str, Any]
) -> tuple[Any, tuple[str, ...]]:
    missing = [k for k in version_keys if k not in found]
    for k in missing:
        # A lost or never written version: a new one (add, so two processes agree on it).
        cache.add(k, _new_version(), timeout=None)
    if missing:
        found.update(cache.get_many(missing))
    versions = tuple(str(found.get(k, "")) for k in version_keys)
    entry = found.get(key)
    if missing or not isinstance(entry, dict) or entry.get("_v") != versions:
        return None, versions
    return entry, versions


def entry_set(key: str, versions: tuple[str, ...], data: dict[str, Any], *, timeout: int = 3600) -> None:
    """Write ``data`` under ``key`` for ``versions`` (those :func:`entry_get` returned, read
    *before* the rows the entry was built from)."""
    shared_cache().set(key, {**data, "_v": versions}, timeout=timeout)


def versions_bump(*version_keys: str) -> None:
    """New versions for ``version_keys``: every entry written under the old ones is dead. Done
    now (inside the writer's transaction: the database cache commits it with the change) and
    again once the transaction commits (so a reader that rebuilt an entry from the rows before
    the commit cannot have written it under the version it will read next)."""
    if not version_keys:
        return

    def bump() -> None:
        shared_cache().set_many({k: _new_version() for k in version_keys}, timeout=None)

    bump()
    transaction.on_commit(bump)


def shared_cache_sweep() -> int:
    """Expired rows of the database-backed shared cache deleted (0 with Redis, which expires
    keys itself). Run every few minutes by the worker (``core.tasks``)."""
    cache = shared_cache()
    sweep = getattr(cache, "sweep", None)
    return int(sweep()) if sweep is not None else 0


def create_cache_tables(**kwargs: Any) -> None:
    """``post_migrate``: the database cache's table, so ``migrate`` (and so ``make run`` and the
    test databases) leaves nothing to do by hand. Does nothing when the caches are Redis."""
    from django.core.management import call_command

    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)


__all__ = [
    "SharedDatabaseCache",
    "SharedRedisCache",
    "counter_hit",
    "counter_peek",
    "counter_reset",
    "create_cache_tables",
    "entry_get",
    "entry_get_counting",
    "entry_set",
    "shared_cache",
    "shared_cache_sweep",
    "versions_bump",
]
