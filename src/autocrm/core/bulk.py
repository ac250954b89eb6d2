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

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone
from psycopg.types.json import Json, Jsonb

from .fields import BlindIndexField, EncryptedTextField

log = logging.getLogger(__name__)

BATCH = 2000


def copy_supported() -> bool:
    return connection.vendor == "postgresql"


class IdPool:
    """Primary keys drawn from a table's sequence in blocks, for a run that prepares many
    batches: each draw outside a transaction is a commit the disk must flush, so one per block
    instead of one per batch. Ids left over are simply never used (sequences have gaps)."""

    def __init__(self, model: Any, *, block: int = 20_000) -> None:
        self.model = model
        self.block = block
        self.free: list[int] = []

    def take(self, count: int) -> list[int]:
        if len(self.free) < count:
            self.free += reserve_ids(self.model, max(self.block, count - len(self.free)))
        taken, self.free = self.free[:count], self.free[count:]
        return taken


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
        return field.to_db
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


class Prepared:
    """Rows of one table made ready to write: on PostgreSQL ids drawn from the sequence and the
    COPY payload formatted; elsewhere the rows as given, for ``bulk_create``. Preparing needs no
    transaction (sequences are not transactional), so a read-ahead thread can prepare batch
    n + 1 while the writer's transaction stores batch n and the writer's thread only ships bytes."""

    def __init__(self, model: Any, columns: list[str], *, ids: list[int] | None, payload: bytes = b"",
                 rows: Sequence[Mapping[str, Any]] = (), returning: bool = True) -> None:  # fmt: skip
        self.model = model
        self.columns = columns
        self.ids = ids  # known once prepared on PostgreSQL; after the write elsewhere
        self.payload = payload
        self.rows = rows
        self.returning = returning


def prepare_rows(
    model: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: bool = True,
    now: dt.datetime | None = None,
    ids: list[int] | None = None,
) -> Prepared:
    """Make ``rows`` (``{attname: Python value}``; missing fields take their default) ready for
    :func:`write_prepared`: values stored exactly as ``bulk_create`` would store them (encrypted
    fields encrypted, blind indexes computed from their source when not given, JSON adapted,
    ``auto_now``/``auto_now_add`` set to ``now``, by default the present). With ``returning``
    the rows get ``ids`` (drawn from the sequence when not given)."""
    if not copy_supported():
        return Prepared(model, [], ids=None, rows=rows, returning=returning)
    meta = model._meta
    now = now or timezone.now()
    pk = meta.pk
    # The defaults are formatted once per call; each row copies them and formats only the values
    # it gives. (Formatting every field of every row cost as much as the server's COPY.)
    fields = [f for f in meta.concrete_fields if f is not pk]
    offset = 1 if returning else 0
    slot: dict[str, tuple[int, Callable[[Any], Any] | None]] = {}
    base: list[str] = [""] * offset
    # Blind indexes the row does not give, from their source (the key of no value computed once).
    derived: list[tuple[int, str, Any, str]] = []
    for i, f in enumerate(fields, start=offset):
        prep = _preparer(f, now)
        default = f.get_default()
        base.append(copy_text(default if prep is None else prep(default)))
        slot[f.attname] = (i, prep)
        if isinstance(f, BlindIndexField):
            derived.append((i, meta.get_field(f.source).attname, f, copy_text(f.compute(""))))
    columns = [f.column for f in fields]
    if not returning:
        ids = []
    elif ids is None:
        ids = reserve_ids(model, len(rows))
    elif len(ids) != len(rows):
        raise ValueError("one id per row")
    if returning:
        columns.insert(0, pk.column)
    moments: dict[Any, str] = {}  # the same timestamp on every row: formatted once
    special = _COPY_SPECIAL.search
    lines: list[str] = []
    for n, row in enumerate(rows):
        out = base.copy()
        if returning:
            out[0] = str(ids[n])
        texts: list[str] = []  # the row's strings, searched once for characters to escape
        for name, value in row.items():
            i, prep = slot[name]
            if prep is not None:
                value = prep(value)
            kind = type(value)
            if kind is str:
                out[i] = value
                texts.append(value)
            elif kind is dt.datetime:
                text = moments.get(value)
                if text is None:
                    text = moments[value] = value.isoformat()
                out[i] = text
            else:
                out[i] = copy_text(value)
        for i, source, f, blank in derived:
            if f.attname not in row:
                raw = row.get(source)
                out[i] = copy_text(f.compute(raw)) if raw else blank
        if texts and special("".join(texts)):
            for name, value in row.items():
                i, prep = slot[name]
                out[i] = copy_text(value if prep is None else prep(value))
        lines.append("\t".join(out))
    lines.append("")
    return Prepared(model, columns, ids=ids, payload="\n".join(lines).encode(), returning=returning)


def prepare_repeated(
    model: Any, row: Mapping[str, Any], field: str, values: Sequence[Any], *, now: dt.datetime | None = None
) -> Prepared:
    """:func:`prepare_rows` (not ``returning``) for rows equal to ``row`` but for ``field``, which
    takes each of ``values`` in turn — an event per imported customer: one line formatted, then
    only the one column per row."""
    if not copy_supported() or not values:
        return prepare_rows(model, [{**row, field: v} for v in values], returning=False, now=now)
    first = prepare_rows(model, [{**row, field: values[0]}], returning=False, now=now)
    column = model._meta.get_field(field).column
    i = first.columns.index(column)
    parts = first.payload.decode().rstrip("\n").split("\t")
    lines = []
    for value in values:
        parts[i] = copy_text(value)
        lines.append("\t".join(parts))
    lines.append("")
    return Prepared(model, first.columns, ids=[], payload="\n".join(lines).encode(), returning=False)


def write_prepared(prepared: Prepared) -> list[int]:
    """Insert what :func:`prepare_rows` made ready; the new ids in order (empty when not
    ``returning``)."""
    model = prepared.model
    if not copy_supported():
        if not prepared.rows:
            return []
        objs = model.objects.bulk_create([model(**row) for row in prepared.rows], batch_size=BATCH)
        prepared.ids = [o.pk for o in objs] if prepared.returning else []
        return prepared.ids
    copy_payload(model._meta.db_table, prepared.columns, prepared.payload)
    return prepared.ids or []


def copy_payload(table: str, columns: Sequence[str], payload: bytes) -> None:
    """COPY rows already in COPY's text format into ``table`` (PostgreSQL)."""
    if not payload:
        return
    qn = connection.ops.quote_name
    sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(payload)


def insert_rows(model: Any, rows: Sequence[Mapping[str, Any]], *, returning: bool = True) -> list[int]:
    """Insert ``rows`` (``{attname: Python value}``; missing fields take their default) and
    return their ids in order (an empty list when not ``returning``). No model instances are
    built on PostgreSQL; elsewhere this is ``bulk_create``."""
    if not rows:
        return []
    return write_prepared(prepare_rows(model, rows, returning=returning))


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value in COPY's text format (``\\N`` for NULL; backslash, tab and line ends escaped)."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        text = value
    elif kind is bool:
        return "t" if value else "f"
    elif kind is int or kind is Decimal or kind is float:
        return str(value)
    elif kind is dt.datetime or kind is dt.date or kind is dt.time:
        return value.isoformat()
    elif isinstance(value, Json | Jsonb):
        text = (value.dumps or json.dumps)(value.obj)
    elif isinstance(value, bytes | bytearray | memoryview):
        raise TypeError("binary values are not written by bulk COPY")
    else:
        text = str(value)
    return text.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(text) else text


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
    attnames = {f.attname for f in chosen}
    if any(attnames & obj.get_deferred_fields() for obj in objs):
        # Reading a deferred field queries the connection the COPY holds: it would hang, not fail.
        raise ValueError(f"update_instances: load {sorted(attnames)} on every instance before writing them")
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


QUICK_STATISTICS_TARGET = 30


def analyze(model: Any, *, quick: bool = False) -> None:
    """Refresh the planner's statistics of the table (PostgreSQL; nothing elsewhere). A table that
    grows many times over inside one transaction (the first big import) otherwise keeps the
    statistics of its empty self and lookups pick the wrong index. Rows of the current
    transaction count. Never fails the caller.

    ``quick`` samples 9,000 rows instead of 30,000 (statistics target 30 instead of PostgreSQL's
    100; columns with a target of their own keep it): a quarter of the time (0.25 s instead of
    0.9 s at 200,000 customers), and what replaces the statistics of a nearly empty table needs
    the row count and the rough shape of each column, not their fine detail."""
    if not copy_supported():
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if quick:
                # For this ANALYZE only (SET LOCAL alone would last to the end of an outer transaction).
                cursor.execute("SELECT current_setting('default_statistics_target')")
                previous = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT set_config('default_statistics_target', %s, true)", [str(QUICK_STATISTICS_TARGET)]
                )
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            if quick:
                cursor.execute("SELECT set_config('default_statistics_target', %s, true)", [previous])
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


# --- one row on a hot path ------------------------------------------------------------------------

_ONE_SQL: dict[tuple[str, str, tuple[str, ...]], str] = {}
_ONE_FIELDS: dict[str, list[Any]] = {}


def insert_one(model: Any, values: Mapping[str, Any]) -> Any:
    """INSERT one row of ``model`` and answer its instance (pk set, as ``objects.create`` would
    answer it), with the statement's text made once per process, database and model: the ORM
    compiled an INSERT on every call, most of a small row's CPU. For rows written on every
    request or lead (audit events, staff notifications).

    ``values`` are ``{attname: Python value}``; a missing field takes its default and
    ``auto_now``/``auto_now_add`` timestamps are set; every value goes through the field's
    ``get_db_prep_save``, as the ORM stores it. No ``pre_save``/``post_save`` signals are sent:
    only for models nobody listens to and without encrypted fields or blind indexes (refused).
    Where the database cannot return the id from the INSERT this is ``objects.create``."""
    label = model._meta.label_lower
    fields = _ONE_FIELDS.get(label)
    if fields is None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        if any(isinstance(f, BlindIndexField | EncryptedTextField) for f in fields):
            raise TypeError(f"insert_one: {label} has encrypted fields or blind indexes; use objects.create")
        _ONE_FIELDS[label] = fields
    if not connection.features.can_return_columns_from_insert:
        return model._default_manager.create(**values)
    now = timezone.now()
    row: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or (getattr(f, "auto_now_add", False) and values.get(f.attname) is None):
            row[f.attname] = now
        elif f.attname in values:
            row[f.attname] = values[f.attname]
        else:
            row[f.attname] = f.get_default()
    key = (connection.vendor, label, tuple(row))
    sql = _ONE_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        pk = model._meta.pk.column
        sql = _ONE_SQL[key] = (
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {q(pk)}"
        )
    params = [f.get_db_prep_save(row[f.attname], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk_value = cursor.fetchone()[0]
    instance = model(**row)
    instance.pk = pk_value
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance
