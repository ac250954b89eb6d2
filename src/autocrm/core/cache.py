"""The cache every process of a deployment shares, for counters that must be global (rate limits).

``settings.CACHES["shared"]`` is Redis when ``REDIS_URL`` is set, else :class:`SharedDatabaseCache`
on the application database (table ``autocrm_cache``, created by ``migrate``): either way two
gunicorn workers, or two web nodes, count into the same place. The default cache may stay
per-process (it only holds what is cheap to recompute)."""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone


class SharedDatabaseCache(DatabaseCache):
    """Django's database cache with an atomic ``incr``: Django's reads, adds one and writes back,
    so two processes counting at once lose a hit. Here the row is locked first (``SELECT … FOR
    UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds the database's write lock)."""

    _table: str  # set by BaseDatabaseCache.__init__ (django-stubs does not declare it)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, value_col, key_col, expires_col = (quote(n) for n in (self._table, "value", "cache_key", "expires"))
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


def create_cache_tables(**kwargs: Any) -> None:
    """``post_migrate``: the database cache's table, so ``migrate`` (and so ``make run`` and the
    test databases) leaves nothing to do by hand. Does nothing when the caches are Redis."""
    from django.core.management import call_command

    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)
