"""Fast bulk inserts: COPY on PostgreSQL, ``bulk_create``/``executemany`` elsewhere.

``bulk_create`` compiles every value of every row through each field's ``pre_save`` and
``get_db_prep_save`` and builds one huge parameter list; at tens of thousands of rows that is
most of the time of an import or a demo load. These helpers prepare the values once per field
kind and stream them with COPY, drawing the ids from the table's sequence first so callers
still learn them (for timeline events, child rows…).

Values are stored exactly as ``bulk_create`` would store them: encrypted fields encrypted,
blind indexes computed from their source when the caller did not give them, JSON adapted,
``auto_now``/``auto_now_add`` timestamps set, missing fields at their default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from .fields import BlindIndexField, EncryptedTextField

log = logging.getLogger(__name__)

BATCH = 2000


def copy_supported() -> bool:
    return connection.vendor == "postgresql"


def reserve_ids(model: Any, count: int) -> list[int]:
    """``count`` fresh primary keys from the table's sequence (PostgreSQL only)."""
    if count <= 0:
        return []
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _preparer(field: Any, now: Any) -> Callable[[Any], Any] | None:
    """How a Python value of ``field`` becomes a COPY value (``None``: as it is; ``now`` None:
    timestamps as given)."""
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value
    if isinstance(field, JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    if now is not None and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
        return lambda v: now
    return None


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(model: Any, rows: Sequence[Mapping[str, Any]], *, returning: bool = True) -> list[int]:
    """Insert ``rows`` (``{attname: Python value}``; missing fields take their default) and
    return their ids in order (an empty list when not ``returning``). No model instances are
    built on PostgreSQL; elsewhere this is ``bulk_create``."""
    if not rows:
        return []
    if not copy_supported():
        objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
        return [o.pk for o in objs] if returning else []
    meta = model._meta
    now = timezone.now()
    pk = meta.pk
    plan: list[tuple[str, Any, Callable[[Any], Any] | None, Any]] = []  # attname, default, prep, blind source
    columns: list[str] = []
    for f in meta.concrete_fields:
        if f is pk:
            continue
        source = meta.get_field(f.source).attname if isinstance(f, BlindIndexField) else None
        plan.append((f.attname, f.get_default(), _preparer(f, now), (f, source) if source else None))
        columns.append(f.column)
    ids = reserve_ids(model, len(rows)) if returning else []
    if returning:
        columns.insert(0, pk.column)

    def values() -> Iterable[list[Any]]:
        for i, row in enumerate(rows):
            out: list[Any] = [ids[i]] if returning else []
            for attname, default, prep, blind in plan:
                if attname in row:
                    value = row[attname]
                elif blind is not None:
                    value = blind[0].compute(row.get(blind[1]) or "")
                else:
                    value = default
                out.append(value if prep is None else prep(value))
            yield out

    _copy(meta.db_table, columns, values())
    return ids


def insert_instances(model: Any, objs: list[Any], *, batch_size: int = BATCH) -> list[Any]:
    """``bulk_create`` on most databases; on PostgreSQL, ids drawn from the sequence and one COPY,
    which skips Django's per-field SQL compilation (most of the cost at a million rows). Values are
    prepared as ``bulk_create`` would: encrypted fields encrypted, JSON adapted, timestamps set.
    Blind indexes are taken as they are on the instances (compute them before)."""
    if not objs:
        return objs
    if not copy_supported():
        return model.objects.bulk_create(objs, batch_size=batch_size)
    meta = model._meta
    fields = list(meta.concrete_fields)
    now = timezone.now()
    for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
        obj.pk = pk
    plans = [(f.attname, _preparer(f, now)) for f in fields]
    _copy(
        meta.db_table,
        [f.column for f in fields],
        ([getattr(obj, name) if prep is None else prep(getattr(obj, name)) for name, prep in plans] for obj in objs),
    )
    for obj in objs:
        obj._state.adding = False
    return objs


def update_instances(model: Any, objs: Sequence[Any], fields: Iterable[str], *, batch_size: int = BATCH) -> int:
    """``bulk_update(objs, fields)``: on PostgreSQL the new values go by COPY into a temporary
    table and one ``UPDATE … FROM`` applies them (``bulk_update``'s ``CASE WHEN`` per field and
    row is quadratic in practice). Values are taken as they are on the instances (set
    ``updated_at`` yourself, as with ``bulk_update``)."""
    if not objs:
        return 0
    names = list(fields)
    if not copy_supported():
        return model.objects.bulk_update(objs, names, batch_size=batch_size)
    meta = model._meta
    chosen = [meta.get_field(n) for n in names]
    plans = [(f.attname, _preparer(f, None)) for f in chosen]
    qn = connection.ops.quote_name
    table, temp = qn(meta.db_table), qn(f"_bulk_update_{meta.db_table}")
    pk = qn(meta.pk.column)
    cols = [meta.pk.column, *(f.column for f in chosen)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {temp} AS SELECT {', '.join(qn(c) for c in cols)} FROM {table} WITH NO DATA")
        _copy(
            f"_bulk_update_{meta.db_table}",
            cols,
            ([obj.pk] + [getattr(obj, a) if p is None else p(getattr(obj, a)) for a, p in plans] for obj in objs),
        )
        sets = ", ".join(f"{qn(f.column)} = u.{qn(f.column)}" for f in chosen)
        cursor.execute(f"UPDATE {table} AS t SET {sets} FROM {temp} AS u WHERE t.{pk} = u.{pk}")
        count = cursor.rowcount
        cursor.execute(f"DROP TABLE {temp}")
    return count


def estimated_rows(model: Any) -> int:
    """The planner's idea of the table's size (PostgreSQL; 0 elsewhere or never analysed)."""
    if not copy_supported():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return max(int(row[0]), 0) if row else 0


def analyze(model: Any) -> None:
    """Refresh the planner's statistics of the table (PostgreSQL; nothing elsewhere). A table that
    grows many times over inside one transaction (the first big import) otherwise keeps the
    statistics of its empty self and lookups pick the wrong index. Rows of the current
    transaction count. Never fails the caller."""
    if not copy_supported():
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    except DatabaseError:
        log.warning("ANALYZE %s failed", model._meta.db_table, exc_info=True)


class RawRows:
    """Rows of a table as tuples of database-ready values, inserted without model instances:
    COPY on PostgreSQL, ``executemany`` elsewhere. For high-volume child tables (odometer readings,
    timeline, consents…) where building model instances would cost most of the time."""

    def __init__(self, model: Any, columns: tuple[str, ...]) -> None:
        self.table = model._meta.db_table
        self.columns = columns
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        self.rows.append(values)

    def flush(self) -> int:
        rows, self.rows = self.rows, []
        if not rows:
            return 0
        if copy_supported():
            _copy(self.table, self.columns, rows)
        else:
            qn = connection.ops.quote_name
            cols = ", ".join(qn(c) for c in self.columns)
            marks = ", ".join(["%s"] * len(self.columns))
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {qn(self.table)} ({cols}) VALUES ({marks})", rows)
        return len(rows)
