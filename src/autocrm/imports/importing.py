"""The import engine every app uses: CSV (UTF-8/GBK) or Excel files → records of a registered kind.

The flow is the same for every kind: :func:`import_job_create` stores the file (encrypted,
``storage.SealedStorage``) and maps its columns from the header (Chinese or English);
:func:`import_job_check` is a dry run that validates every row with the kind's :class:`Importer`
(which calls its app's own clean function), finds duplicates inside the file and against the
store, and lists every bad row with its field and reason — nothing is written;
:func:`import_job_commit` writes all rows in one transaction (any bad row → nothing) or, when the
user chose so, only the valid rows. Rows matching an existing record (an importer's choice,
usually its ``external_id``) update it, so re-importing a DMS export is safe.

Big files (more than ``BACKGROUND_ROWS``) run in the worker (``imports.tasks``); rows are checked
and written in batches of ``BATCH_SIZE``. Bulk writes bypass the per-row audit signals, so each
import writes one ``import`` audit event with its counts.

An app makes its records importable by registering an :class:`Importer` (its field table, a row
cleaner ``check_batch`` and a batch writer ``write_batch``) from its ``AppConfig.ready``::

    from autocrm.imports.importing import IMPORTERS
    IMPORTERS.register(PartImporter(), key="parts", order=40)

and nothing else: the upload page, the mapping screen, the dry-run report, the commit, the
progress bar, the API (``/api/v1/customers/imports``), the worker and the nightly sweep are
generic. docs/adr/0006 says more.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import datetime as dt
import io
import logging
import operator
import os
import re
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, bulk, crypto, events, readahead, stagefile
from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.extensions import Registry, registry
from autocrm.core.permissions import can, get_in_scope, scope_for

from .choices import ImportMode, ImportStatus
from .events import IMPORT_COMMITTED, ImportCommitted
from .models import ImportJob

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
BACKGROUND_ROWS = 2000  # files with more data rows run in the worker
BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 20_000  # the report keeps this many reasons; the counts are always exact
PREVIEW_ROWS = 3
POOL_ROWS = 5000  # a dry run of more rows cleans and prepares them in ``settings.AUTOCRM_IMPORT_PROCESSES`` processes
POOL_DEPTH = 3  # batches handed to the processes ahead of the one being matched
ANALYZE_AFTER = 5000  # on PostgreSQL, refresh the table's statistics once an import has added this many rows


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class FieldSpec:
    """One importable field: its name, a label for the mapping screen and header aliases."""

    name: str
    label: Any
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(slots=True)
class Row:
    """One data row of the file as it goes through checking and writing."""

    number: int  # the row number as the spreadsheet shows it (the header is row 1)
    raw: dict[str, Any]
    cleaned: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    target_id: int | None = None  # the existing record this row updates
    same_as: int | None = None  # an earlier row of the file this row is folded into (one record)
    queued: bool = False  # a record of its own, and a possible duplicate for a reviewer
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, name: str, message: Any) -> None:
        self.errors.append((name, str(message)))


def mark_repeats(row: Row, seen: dict[str, dict[str, int]]) -> None:
    """Refuse a row whose value of a key in ``seen`` (``{key: {value: row number}}``) an earlier
    row of the file already had; otherwise remember it."""
    cleaned = row.cleaned or {}
    for key, firsts in seen.items():
        value = cleaned.get(key)
        if not value:
            continue
        first = firsts.get(value)
        if first is not None:
            row.fail(key, gettext("The same value is already in row %(row)s of this file.") % {"row": first})
        else:
            firsts[value] = row.number


class Staged(NamedTuple):
    """What a dry run keeps of one batch (``Importer.stage_batch``): the metadata the commit
    checks again (at least ``created``: how many records the payloads create) and the payloads."""

    meta: dict[str, Any]
    payloads: list[bulk.Prepared]


@dataclass(frozen=True)
class ImportChoice:
    """A decision the user takes in the dry run (how rows of one person are handled…): its
    ``name`` (the key in ``job.mapping["choices"]`` and the API), a label, and the options as
    ``(value, label)`` — the first is the default. The importer reads the chosen values from
    ``job_choices(job)``; changing them runs the dry run again."""

    name: str
    label: Any
    options: tuple[tuple[str, Any], ...]
    count_key: str = ""  # the report's count of rows the choice affects (``report["counts"]``)

    @property
    def default(self) -> str:
        return self.options[0][0]


class Importer:
    """What a kind of import must provide. Subclasses hold no state; per-run state lives in
    the context object returned by :meth:`start`."""

    kind: str = ""  # set by register_importer: the key jobs of this kind carry
    model: Any = None  # what the rows become; importing needs the right to add it
    fields: tuple[FieldSpec, ...] = ()
    choices: tuple[ImportChoice, ...] = ()  # decisions taken in the dry run (optional)
    label: Any = None  # what the upload page calls the kind; the model's plural name by default

    def __init__(self) -> None:
        if self.label is None and self.model is not None:
            self.label = capfirst(self.model._meta.verbose_name_plural)

    def start(self, *, actor: Actor, job: ImportJob, today: dt.date) -> Any:
        raise NotImplementedError

    def check_batch(self, ctx: Any, rows: list[Row], precleaned: list[Any] | None = None) -> None:
        """Clean every row and look for duplicates; fill ``row.cleaned``/``row.errors``/``row.target_id``.
        ``precleaned``: what :meth:`clean_job`'s function returned for these rows, when it ran."""
        raise NotImplementedError

    # Work without the database, for a dry run's process pool (optional). Each returns a
    # module-level function and its first argument (both picklable) or None; the engine calls
    # ``function(argument, payload)`` in another process and hands the result back in order.
    def clean_job(self, ctx: Any) -> tuple[Any, Any] | None:
        """The per-row cleaning of raw values (payload: the batch's ``[row.raw]``); its result is
        :meth:`check_batch`'s ``precleaned``."""
        return None

    def prepare_job(self, ctx: Any, rows: list[Row]) -> tuple[Any, Any, Any] | None:
        """``(function, argument, payload)`` computing what :meth:`prepare_batch` returns for the
        valid ``rows`` (anything needing the database — ids — done here, in the caller)."""
        return None

    def prepare_batch(self, ctx: Any, rows: list[Row]) -> Any:
        """Optional work on the valid rows that needs no transaction (building values, encrypting,
        formatting), done beside the writer when the import reads ahead; passed to
        :meth:`write_batch`."""
        return None

    def write_batch(self, ctx: Any, rows: list[Row], prepared: Any = None) -> tuple[int, int]:
        """Write the (valid) rows; return ``(created, updated)``."""
        raise NotImplementedError

    # Staging (optional): the dry run keeps its prepared writes so the commit need not redo them.
    def stage_start(self, ctx: Any) -> dict[str, Any] | None:
        """What a stage of this run must record (``marker``: the timestamp text in its payloads),
        or None when this importer or database does not stage."""
        return None

    def stage_batch(self, ctx: Any, rows: list[Row], prepared: Any) -> Staged | None:
        """The batch's metadata (at least ``created``) and payloads, or None when it cannot be staged."""
        return None

    def stage_conflicts(self, ctx: Any, meta: Mapping[str, Any]) -> bool:
        """Whether the store changed since the dry run in a way that would change this batch."""
        return True

    def counts(self, ctx: Any) -> dict[str, int]:
        """Counts of the run for the report (``report["counts"]``): e.g. how many rows each
        :class:`ImportChoice` affects."""
        return {}

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


IMPORTERS: Registry[Importer] = registry("importers")


def register_importer(kind: str, importer: Importer, *, order: int = 100) -> Importer:
    """Make ``kind`` importable (each app registers its importer from its ``AppConfig.ready``)."""
    importer.kind = kind
    return IMPORTERS.register(importer, key=kind, order=order)


def importer_for(kind: str) -> Importer:
    importer = IMPORTERS.get(kind) if kind else None
    if importer is None:
        kinds = ", ".join(str(i.label) for i in IMPORTERS.entries())
        raise ValidationError(fields={"kind": [_("Choose what the file holds: %(kinds)s.") % {"kinds": kinds}]})
    return importer


def job_choices(job: ImportJob) -> dict[str, str]:
    """The job's decisions (:class:`ImportChoice`), defaults filled in."""
    importer = IMPORTERS.get(job.kind)
    stored = (job.mapping or {}).get("choices") or {}
    if importer is None:
        return dict(stored)
    return {c.name: stored.get(c.name) or c.default for c in importer.choices}


def choices_clean(importer: Importer, values: Mapping[str, Any]) -> dict[str, str]:
    """Validate the decisions a person took: known names, listed values."""
    known = {c.name: c for c in importer.choices}
    out: dict[str, str] = {}
    for name, value in values.items():
        if value in (None, ""):
            continue
        choice = known.get(name)
        if choice is None:
            raise ValidationError(fields={"choices": [_("Unknown choice for this import.")]})
        if not isinstance(value, str) or value not in {v for v, _label in choice.options}:
            raise ValidationError(fields={name: [_("Choose one of the listed values.")]})
        out[name] = str(value)
    return out


def importers_for(actor: Actor) -> list[Importer]:
    """The kinds ``actor`` may import, in the registry's order (the upload page's choice)."""
    return [i for i in IMPORTERS.entries() if _may_import(actor, i)]


# --------------------------------------------------------------------------- reading files


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Chinese Excel saves CSV in GBK, read as GB18030 (its superset)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError(
            fields={"file": [_("The file's text encoding is not recognised. Save it as UTF-8 or GBK CSV.")]}
        ) from None


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode_csv(data)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text, newline=""), dialect)


def _xlsx_rows(handle: Any) -> Iterator[list[Any]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationError(fields={"file": [_("The file is not a readable Excel (.xlsx) workbook.")]}) from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        book.close()


def file_kind(name: str) -> str:
    ext = os.path.splitext(name or "")[1].lower()
    if ext in (".csv", ".txt"):
        return "csv"
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    raise ValidationError(fields={"file": [_("Upload a .csv or .xlsx file (save old .xls files as .xlsx first).")]})


def read_table(handle: Any, name: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header and an iterator of ``(row number, values)`` of a CSV or .xlsx file. Fully
    empty rows are skipped (their numbers too, so numbers match what the spreadsheet shows)."""
    kind = file_kind(name)
    raw = _csv_rows(handle.read()) if kind == "csv" else _xlsx_rows(handle)
    number = 0
    header: list[str] | None = None
    for values in raw:
        number += 1
        if not any(v not in (None, "") and str(v).strip() for v in values):
            continue
        header = [_text(v) for v in values]
        break
    if header is None:
        raise ValidationError(fields={"file": [_("The file is empty.")]})

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = number
        for values in raw:
            n += 1
            try:
                filled = bool("".join(values).strip())  # a CSV row: strings only, checked in C
            except TypeError:  # a spreadsheet row: numbers, dates, empty cells (None)
                filled = any(v not in (None, "") and (not isinstance(v, str) or v.strip()) for v in values)
            if filled:
                yield n, values

    return header, rows()


@contextlib.contextmanager
def _open_job_table(job: ImportJob) -> Iterator[tuple[list[str], Iterator[tuple[int, list[Any]]]]]:
    with job.file.open("rb") as handle:
        yield read_table(handle, job.original_name)


# --------------------------------------------------------------------------- mapping

_HEADER_JUNK = re.compile(r"[（(【\[].*?[）)】\]]|[\s_\-*:：/\\.。]")


def normalize_header(text: str) -> str:
    """``手机号(必填)`` → ``手机号``; ``Mobile Phone`` → ``mobilephone``; ``id_number`` → ``idnumber``."""
    return _HEADER_JUNK.sub("", str(text or "")).lower()


def auto_map(headers: list[str], importer: Importer) -> dict[str, int]:
    """``{field: column index}`` from the header: exact field names, Chinese and English aliases."""
    lookup: dict[str, str] = {}
    for spec in importer.fields:
        for alias in (spec.name, *spec.aliases):
            lookup.setdefault(normalize_header(alias), spec.name)
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = lookup.get(normalize_header(header))
        if name and name not in mapping:
            mapping[name] = index
    return mapping


def mapping_clean(importer: Importer, headers: list[str], columns: Mapping[str, Any]) -> dict[str, int]:
    """Validate a mapping edited by a person: known fields, real columns, each column used once."""
    out: dict[str, int] = {}
    used: dict[int, str] = {}
    for name, index in columns.items():
        if index in (None, ""):
            continue
        if importer.field(name) is None:
            raise ValidationError(fields={"mapping": [_("Unknown field in the column mapping.")]})
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise ValidationError(fields={"mapping": [_("Choose a column of the file.")]}) from None
        if not 0 <= i < len(headers):
            raise ValidationError(fields={"mapping": [_("Choose a column of the file.")]})
        if i in used:
            raise ValidationError(fields={"mapping": [_("Each column can feed only one field.")]})
        used[i] = name
        out[name] = i
    missing = [str(f.label) for f in importer.fields if f.required and f.name not in out]
    if missing:
        raise ValidationError(
            _("Map a column to every required field: %(fields)s.") % {"fields": ", ".join(missing)},
            fields={
                "mapping": [_("Map a column to every required field: %(fields)s.") % {"fields": ", ".join(missing)}]
            },
        )
    return out


# --------------------------------------------------------------------------- cell values

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M")


def cell_text(value: Any) -> str:
    """A cell as trimmed text: Excel's numbers without ``.0``, dates in ISO form, empty for None."""
    if type(value) is str:  # nearly every cell of a CSV file
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores mobiles typed as numbers as floats
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_text = cell_text


def cell_date(value: Any) -> Any:
    """A date from an Excel date cell or the usual Chinese spellings; anything else is passed on
    unchanged so the clean function reports it."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return ""
    digits = text[:4] + text[5:7] + text[8:]
    if len(text) == 10 and text[4] == text[7] and text[4] in "-/." and digits.isascii() and digits.isdigit():
        try:  # 2019-03-15, 2019/03/15, 2019.03.15: most files, without strptime
            return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass  # not a real date (2019-02-30): the formats below decide, and the clean reports it
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return text


_CHOICE_CACHE: dict[str, dict[str, str]] = {}


def choice_value(choices: Any, value: Any, extra: Mapping[str, str] | None = None) -> str:
    """A TextChoices value from what a spreadsheet holds: the value itself, or its label in
    Chinese or English (``男``/``Male`` → ``male``)."""
    key = choices.__name__
    table = _CHOICE_CACHE.get(key)
    if table is None:
        table = {}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                for v, label in choices.choices:
                    table.setdefault(str(label).strip().lower(), v)
        for v in choices.values:
            table[str(v).lower()] = v
        table.update({k.lower(): v for k, v in (extra or {}).items()})
        _CHOICE_CACHE[key] = table
    text = _text(value)
    return table.get(text.lower(), text)


# --------------------------------------------------------------------------- progress


class _Progress:
    """Progress of a running job for the UI's progress bar.

    Outside a transaction the job row is updated directly. Inside the commit's transaction an
    update would stay invisible until the end, so on PostgreSQL a second, autocommit connection
    writes it (only when the import itself opened the transaction, so it never waits on a lock
    held by an outer one). SQLite allows one writer, so there the bar jumps at the end. At most
    one write every ``EVERY`` seconds: each is a commit the disk must flush."""

    EVERY = 0.5

    def __init__(self, job: ImportJob, *, side_connection: bool) -> None:
        self.job = job
        self.side = None
        self.last = 0.0
        if side_connection and connection.vendor == "postgresql":
            from django.db import connections

            try:
                self.side = connections.create_connection("default")
                self.side.ensure_connection()
                self.side.set_autocommit(True)
                with self.side.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '500ms'")
            except Exception:  # progress is a nicety: never fail an import for it
                log.warning("import %s: no side connection for progress", job.pk, exc_info=True)
                self.side = None

    def __call__(self, processed: int, *, in_transaction: bool = False) -> None:
        self.job.processed_rows = processed
        now = time.monotonic()
        if now - self.last < self.EVERY:
            return
        self.last = now
        if not in_transaction:
            ImportJob.objects.filter(pk=self.job.pk).update(processed_rows=processed)
            return
        if self.side is None:
            return
        try:
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s WHERE id = %s", [processed, self.job.pk]
                )
        except Exception:
            log.warning("import %s: progress not saved", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            with contextlib.suppress(Exception):
                self.side.close()


# --------------------------------------------------------------------------- services


def _may_import(actor: Actor, importer: Importer) -> bool:
    return can(actor, "add", ImportJob) and scope_for(actor, importer.model, "add") is not None


def _job_language() -> str:
    return translation.get_language() or "zh-hans"


def import_job_create(
    *,
    actor: Actor,
    upload: UploadedFile,
    kind: str,
    mode: str = ImportMode.ALL_OR_NOTHING,
    check: bool = True,
    choices: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Store an uploaded CSV/.xlsx file as an import job of the actor's store with its columns
    mapped from the header, then (``check``) run the dry run — in the worker for big files.

    Needs the right to add import jobs and to add records of ``kind``. A file that cannot be
    read, is empty or too big is a 400 naming ``file``; nothing is stored."""
    importer = importer_for(kind)
    if not _may_import(actor, importer):
        raise PermissionDenied()
    if mode not in ImportMode.values:
        raise ValidationError(fields={"mode": [_("Choose one of the listed values.")]})
    if upload is None:
        raise ValidationError(fields={"file": [_("Choose a file to upload.")]})
    if upload.size and upload.size > MAX_FILE_BYTES:
        raise ValidationError(fields={"file": [_("The file is larger than 50 MB. Split it into smaller files.")]})
    chosen = choices_clean(importer, choices or {})
    name = os.path.basename(upload.name or "import.csv")[:200]
    file_kind(name)
    upload.seek(0)
    headers, rows = read_table(upload, name)
    total = sum(1 for _ in rows)
    upload.seek(0)
    job = ImportJob(
        store_id=actor.require_store_id(),
        kind=kind,
        original_name=name,
        mode=mode,
        created_by_id=actor.user_id,
        mapping={"headers": headers, "columns": auto_map(headers, importer), "choices": chosen},
        total_rows=total,
        report={"language": _job_language()},
    )
    job.file.save(name, upload, save=False)
    job.save()
    if check:
        _start(job, actor, "check")
        job.refresh_from_db()
    return job


def import_job_get(*, actor: Actor, pk: Any) -> ImportJob:
    """One import job in the actor's scope (404 otherwise)."""
    return get_in_scope(ImportJob.objects.select_related("created_by"), actor, pk)


def import_job_list(*, actor: Actor) -> Any:
    return ImportJob.objects.for_actor(actor, "view").select_related("created_by").order_by("-id")


def import_job_map(*, actor: Actor, job: ImportJob, columns: Mapping[str, Any]) -> ImportJob:
    """Change the column mapping before (re-)checking. Only while the job is not running or done."""
    import_job_authorize(actor, job)
    if job.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING, ImportStatus.DONE):
        raise ValidationError(_("This import cannot be changed any more."), fields={"mapping": [""]})
    importer = importer_for(job.kind)
    job.mapping = {**job.mapping, "columns": mapping_clean(importer, job.mapping.get("headers", []), columns)}
    job.status = ImportStatus.UPLOADED
    stage_discard(job)
    job.save(update_fields=["mapping", "status", "updated_at"])
    return job


def import_job_choose(*, actor: Actor, job: ImportJob, choices: Mapping[str, Any]) -> ImportJob:
    """Change the dry run's decisions (:class:`ImportChoice`: how rows of one person are handled…)
    before (re-)checking. Only while the job is not running or done."""
    import_job_authorize(actor, job)
    if job.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING, ImportStatus.DONE):
        raise ValidationError(_("This import cannot be changed any more."), fields={"choices": [""]})
    importer = importer_for(job.kind)
    chosen = {**((job.mapping or {}).get("choices") or {}), **choices_clean(importer, choices)}
    job.mapping = {**job.mapping, "choices": chosen}
    job.status = ImportStatus.UPLOADED
    stage_discard(job)
    job.save(update_fields=["mapping", "status", "updated_at"])
    return job


def import_job_may_act(actor: Actor, job: ImportJob) -> bool:
    """Whether ``actor`` may check and commit ``job`` (a question for the page's buttons: records
    nothing): its uploader while they still may import, or a role that may change import jobs in
    scope (a manager)."""
    importer = importer_for(job.kind)
    if not _may_import(actor, importer):
        return False
    return job.created_by_id == actor.user_id or can(actor, "change", job)


def import_job_authorize(actor: Actor, job: ImportJob) -> None:
    """:func:`import_job_may_act`, or a 403 with its ``authz.denied`` event."""
    if not import_job_may_act(actor, job):
        audit.record("authz.denied", obj=job, actor=actor, extra={"attempted": "import", "role": actor.role})
        raise PermissionDenied()


def import_job_check(*, actor: Actor, job: ImportJob, background: bool | None = None) -> ImportJob:
    """The dry run: validate every row, look for duplicates in the file and in the store, and
    list every bad row (row number, field, reason). Nothing but the job is written. Runs in the
    worker when the file has more than ``BACKGROUND_ROWS`` rows (unless ``background`` says)."""
    import_job_authorize(actor, job)
    if job.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING, ImportStatus.DONE):
        raise ValidationError(_("This import is running or finished."), fields={"status": [""]})
    return _dispatch(job, actor, "check", background)


def import_job_commit(
    *, actor: Actor, job: ImportJob, mode: str | None = None, background: bool | None = None
) -> ImportJob:
    """Write the file: all rows in one transaction — any bad row and nothing is imported — or,
    with ``mode="valid_only"``, the valid rows only. Rows whose ``external_id`` exists update
    that record. One ``import`` audit event records the counts."""
    import_job_authorize(actor, job)
    if job.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING, ImportStatus.DONE):
        raise ValidationError(_("This import is running or finished."), fields={"status": [""]})
    if mode:
        if mode not in ImportMode.values:
            raise ValidationError(fields={"mode": [_("Choose one of the listed values.")]})
        job.mode = mode
        job.save(update_fields=["mode", "updated_at"])
    if job.mode == ImportMode.ALL_OR_NOTHING and job.status == ImportStatus.CHECKED and job.bad_rows:
        message = _job_bad_message(job.bad_rows)
        raise ValidationError(message, fields={"mode": [message]})
    return _dispatch(job, actor, "commit", background)


def _job_bad_message(bad: int) -> str:
    return gettext(
        "%(n)s rows are not valid, so nothing was imported. Correct them, or choose to import only the valid rows."
    ) % {"n": bad}


def _dispatch(job: ImportJob, actor: Actor, step: str, background: bool | None) -> ImportJob:
    if background is None:
        background = job.total_rows > BACKGROUND_ROWS
    if background:
        status = ImportStatus.CHECKING if step == "check" else ImportStatus.IMPORTING
        ImportJob.objects.filter(pk=job.pk).update(status=status, processed_rows=0, error="")
        job.status, job.processed_rows, job.error = status, 0, ""
        from . import tasks

        task = tasks.import_check_task if step == "check" else tasks.import_commit_task
        transaction.on_commit(lambda: task(job.pk, actor.user_id, actor.store_id))
        return job
    run_step(job, actor, step)
    job.refresh_from_db()
    return job


def _start(job: ImportJob, actor: Actor, step: str) -> None:
    try:
        _dispatch(job, actor, step, None)
    except Exception:  # the job records the failure; the upload itself succeeded
        log.exception("import %s: %s failed to start", job.pk, step)


def run_step(job: ImportJob, actor: Actor, step: str) -> None:
    """Run a check or commit now (in the request, or in the worker)."""
    language = (job.report or {}).get("language") or _job_language()
    with translation.override(language), audit.acting_as(actor):
        try:
            if step == "check":
                _check(job, actor)
            else:
                _commit(job, actor)
        except ValidationError as exc:
            message = "; ".join(str(m) for ms in exc.fields.values() for m in ms if str(m)) or str(exc.message)
            _finish(job, ImportStatus.FAILED, error=message)
        except Exception as exc:
            log.exception("import %s: %s failed", job.pk, step)
            _finish(job, ImportStatus.FAILED, error=gettext("The import failed: %(error)s") % {"error": exc})


def _finish(job: ImportJob, status: str, **values: Any) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    job.status = status
    if status in (ImportStatus.DONE, ImportStatus.FAILED):
        job.finished_at = timezone.now()
    names = ["status", "finished_at", "updated_at", *values]
    if status == ImportStatus.DONE and job.file:
        # The upload holds personal data (encrypted at rest): once imported it has no further use.
        stage_discard(job)
        stored, job.file = job.file.name, ""
        names.append("file")
        transaction.on_commit(lambda: job.file.storage.delete(stored))
    job.save(update_fields=list(dict.fromkeys(names)))


def import_job_refuse_queued(*, job_id: int, reason: str) -> None:
    """A queued step the worker may not run (its user is gone, or the re-check refused it): the
    job is marked failed with ``reason`` so the page stops waiting. The job's own row only, by id:
    the worker has no actor to scope by, which is why the step is refused."""
    job = ImportJob.objects.filter(pk=job_id).first()  # scoped: the queued job's own row, by id
    if job is not None and job.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        _finish(job, ImportStatus.FAILED, error=reason)


UPLOAD_RETENTION_DAYS = 7
ORPHAN_AGE = dt.timedelta(hours=1)  # younger files may belong to a job whose transaction is still open


def import_files_purge(*, now: dt.datetime | None = None) -> int:
    """Delete uploads of jobs left unfinished for UPLOAD_RETENTION_DAYS (personal data must not
    linger); the job is marked failed with the reason. Returns how many files were removed."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=UPLOAD_RETENTION_DAYS)
    removed = 0
    stale = ImportJob.objects.filter(created_at__lt=cutoff).exclude(file="")  # scoped: retention, all stores
    for job in stale.iterator():
        stage_discard(job)
        job.file.storage.delete(job.file.name)
        job.file = ""
        if job.status != ImportStatus.DONE:
            job.status = ImportStatus.FAILED
            job.error = str(_("The uploaded file was deleted after %(days)s days.") % {"days": UPLOAD_RETENTION_DAYS})
        job.save(update_fields=["file", "status", "error", "updated_at"])
        removed += 1
    return removed


def import_orphans_purge(*, now: dt.datetime | None = None) -> int:
    """Delete files under the uploads' directory that no import job holds (an upload whose job
    was never saved or was deleted, a stage or half-written stage of such an upload), once
    they are ``ORPHAN_AGE`` old. Returns how many files were removed."""
    storage = ImportJob._meta.get_field("file").storage
    try:
        root = Path(storage.path("imports"))
    except NotImplementedError:  # storage without local files: nothing to walk
        return 0
    if not root.is_dir():
        return 0
    held = set(ImportJob.objects.exclude(file="").values_list("file", flat=True))  # scoped: retention, all stores
    cutoff = ((now or timezone.now()) - ORPHAN_AGE).timestamp()
    base = Path(storage.path(""))
    removed = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(base).as_posix()
        upload = name.removesuffix(".part").removesuffix(".stage")
        if upload in held or path.stat().st_mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("import sweep: %s orphan file(s) removed", removed)
    return removed


class _Scan:
    """Walks the file in batches and keeps the report: counts and every bad row's reasons."""

    def __init__(self, job: ImportJob, actor: Actor) -> None:
        self.job = job
        self.importer = importer_for(job.kind)
        self.ctx = self.importer.start(actor=actor, job=job, today=timezone.localdate())
        self.columns: dict[str, int] = {k: int(v) for k, v in (job.mapping.get("columns") or {}).items()}
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.bad = self.processed = self.new = self.updates = self.merged = self.queued = 0
        self.bad_numbers: list[int] = []
        self.preparing = True  # the dry run stops preparing once its stage is given up
        self.pool: Any = None  # a multiprocessing pool for the rows' cleaning and preparing (_pool)

    def batches(self) -> Iterator[list[Row]]:
        missing = [str(f.label) for f in self.importer.fields if f.required and f.name not in self.columns]
        if missing:
            message = _("Map a column to every required field: %(fields)s.") % {"fields": ", ".join(missing)}
            raise ValidationError(message, fields={"mapping": [message]})
        with _open_job_table(self.job) as (_headers, rows):
            batch: list[Row] = []
            items = list(self.columns.items())
            names = [name for name, _i in items]
            width = max(i for _name, i in items) + 1
            pick = operator.itemgetter(*(i for _name, i in items))
            single = len(items) == 1  # itemgetter of one index returns the value, not a tuple
            for number, values in rows:
                if len(values) >= width:
                    picked = pick(values)
                    raw = dict(zip(names, (picked,) if single else picked, strict=True))
                else:  # a short row: the missing cells are empty
                    raw = {name: values[i] if i < len(values) else None for name, i in items}
                batch.append(Row(number, raw))
                if len(batch) >= BATCH_SIZE:
                    yield batch
                    batch = []
            if batch:
                yield batch

    def checked(self) -> Generator[list[Row]]:
        job = self.importer.clean_job(self.ctx) if self.pool is not None else None
        if job is None:
            for rows in self.batches():
                self.importer.check_batch(self.ctx, rows)
                yield rows
            return
        # The rows' cleaning in the pool, POOL_DEPTH batches ahead; the matching (the database,
        # the file's memory) here, batch after batch in the file's order.
        function, argument = job
        pending: collections.deque[tuple[list[Row], Any]] = collections.deque()
        for rows in self.batches():
            pending.append((rows, self.pool.apply_async(function, (argument, [r.raw for r in rows]))))
            if len(pending) > POOL_DEPTH:
                yield self._check_cleaned(*pending.popleft())
        while pending:
            yield self._check_cleaned(*pending.popleft())

    def _check_cleaned(self, rows: list[Row], result: Any) -> list[Row]:
        self.importer.check_batch(self.ctx, rows, precleaned=result.get())
        return rows

    def prepared(self, checked: Generator[list[Row]]) -> Generator[tuple[list[Row], Any]]:
        """Checked batches with the importer's preparation of their valid rows (in the pool, when
        there is one and the importer can: the next batches are checked meanwhile)."""
        pending: collections.deque[tuple[list[Row], Any]] = collections.deque()
        with contextlib.closing(checked):
            for rows in checked:
                if not self.preparing:
                    pending.append((rows, None))
                elif self.pool is not None and (job := self.importer.prepare_job(self.ctx, [r for r in rows if r.ok])):
                    function, argument, payload = job
                    pending.append((rows, self.pool.apply_async(function, (argument, payload))))
                else:
                    pending.append((rows, _Ready(self.importer.prepare_batch(self.ctx, [r for r in rows if r.ok]))))
                if len(pending) > POOL_DEPTH:
                    rows, result = pending.popleft()
                    yield rows, result.get() if result is not None and self.preparing else None
            while pending:
                rows, result = pending.popleft()
                yield rows, result.get() if result is not None and self.preparing else None

    def collect(self, rows: list[Row]) -> None:
        self.processed += len(rows)
        for row in rows:
            if row.errors:
                self.bad += 1
                if len(self.bad_numbers) < MAX_REPORTED_ERRORS:
                    self.bad_numbers.append(row.number)
                for name, message in row.errors:
                    if len(self.errors) < MAX_REPORTED_ERRORS:
                        self.errors.append({"row": row.number, "field": name, "message": message})
            elif row.same_as:
                self.merged += 1
            elif row.target_id:
                self.updates += 1
            else:
                self.new += 1
            if row.queued and not row.errors:
                self.queued += 1
            for name, message in row.warnings:
                if len(self.warnings) < MAX_REPORTED_ERRORS:
                    self.warnings.append({"row": row.number, "field": name, "message": message})

    def report(self, **extra: Any) -> dict[str, Any]:
        return {
            **(self.job.report or {}),
            "rows": self.processed,
            "valid": self.processed - self.bad,
            "new": self.new,
            "updates": self.updates,
            "merged": self.merged,
            "queued": self.queued,
            "counts": self.importer.counts(self.ctx),
            "choices": job_choices(self.job),
            "bad": self.bad,
            "errors": self.errors,
            "warnings": self.warnings,
            "errors_truncated": len(self.errors) >= MAX_REPORTED_ERRORS,
            **extra,
        }


class _Ready:
    """A result already computed, read like a pool's ``AsyncResult``."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


_INHERITED: list[Any] = []  # a pool process's copies of the parent's database connections (kept, never used)


def _pool_init(language: str) -> None:
    """In each pool process (forked from the worker): the job's language for the messages it
    formats, and no database. The parent's connections are forgotten but kept referenced, so
    neither a query nor a finaliser here ever speaks on the parent's sockets (the process ends
    with ``os._exit``)."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        _INHERITED.append(conn.connection)
        conn.connection = None
    translation.activate(language)


@contextlib.contextmanager
def _pool(job: ImportJob) -> Iterator[Any]:
    """Processes for a big dry run's per-row work (``settings.AUTOCRM_IMPORT_PROCESSES``, 2 by
    default: the worker's cores), or None for a small file, one process, or a platform
    without ``fork``. docs/adr/0041."""
    import multiprocessing

    from django.conf import settings

    processes = int(getattr(settings, "AUTOCRM_IMPORT_PROCESSES", 1) or 1)
    if processes < 2 or job.total_rows < POOL_ROWS or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_pool_init,
                                                    initargs=(translation.get_language() or "zh-hans",))  # fmt: skip
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()  # every task's result was read: the processes end
    finally:
        pool.join()


def _check(job: ImportJob, actor: Actor) -> None:
    _finish(job, ImportStatus.CHECKING, processed_rows=0, error="")
    stage_discard(job)
    scan = _Scan(job, actor)
    with _pool(job) as scan.pool:
        _check_rows(job, actor, scan)


def _check_rows(job: ImportJob, actor: Actor, scan: _Scan) -> None:
    progress = _Progress(job, side_connection=False)
    stage = _stage_open(job, actor, scan)
    # One thread: the dry run writes nothing to wait for, and reading ahead in threads made it
    # slower (8.2 s → 10–11 s per 100,000 rows): the threads took turns with the GIL, and paid
    # for every turn.
    checked = scan.checked()
    batches: Generator[tuple[list[Row], Any]] = scan.prepared(checked) if stage else ((r, None) for r in checked)
    try:
        for rows, prepared in batches:
            scan.collect(rows)
            if stage is not None:
                staged = scan.importer.stage_batch(scan.ctx, [r for r in rows if r.ok], prepared)
                if staged is None:  # e.g. rows updating existing customers: the commit writes from fresh rows
                    stage.abort()
                    stage, scan.preparing = None, False
                else:
                    stage.add({**staged.meta, "rows": len(rows)}, staged.payloads)
            progress(scan.processed)
        if stage is not None:
            stage.close()
    except BaseException:
        if stage is not None:
            stage.abort()
        raise
    finally:
        batches.close()
    _finish(
        job,
        ImportStatus.CHECKED,
        total_rows=scan.processed,
        processed_rows=scan.processed,
        bad_rows=scan.bad,
        report=scan.report(checked_at=timezone.now().isoformat(), step="check"),
    )


# --------------------------------------------------------------------------- staging
# The dry run already validated, encrypted and formatted every new row; on PostgreSQL it keeps
# that work in a stage file beside the upload (core.stagefile). The commit then checks only what
# may have changed — the same user, day, mapping, keys, and no customer in the store since then
# with any staged row's external ID, mobile or ID number — and ships the bytes, with the commit's
# time in place of the dry run's. Anything else, and the commit checks the file again.


def _stage_path(job: ImportJob) -> Path | None:
    if not job.file:
        return None
    try:
        return Path(job.file.path + ".stage")
    except NotImplementedError:  # storage without local files: no stage, the commit checks again
        return None


def stage_discard(job: ImportJob) -> None:
    """Forget the dry run's stage (the mapping changed, the job ended or its file is purged)."""
    path = _stage_path(job)
    if path is not None:
        path.unlink(missing_ok=True)


def _stage_identity(job: ImportJob, actor: Actor) -> dict[str, Any]:
    return {
        "job": job.pk,
        "file": job.file.name,
        "columns": job.mapping.get("columns") or {},
        "choices": job_choices(job),
        "store": actor.store_id,
        "user": actor.user_id,
        "today": timezone.localdate().isoformat(),
        "keys": crypto.key_ids(),
    }


def _stage_open(job: ImportJob, actor: Actor, scan: _Scan) -> stagefile.StageWriter | None:
    path = _stage_path(job)
    extra = scan.importer.stage_start(scan.ctx) if path is not None else None
    if path is None or extra is None:
        scan.preparing = False
        return None
    return stagefile.StageWriter(path, {**_stage_identity(job, actor), **extra})


def _analyze_later(model: Any) -> None:
    """The table grew many times over: right after the commit, fresh planner statistics (the
    next import's duplicate checks and every search would otherwise plan for the small table)."""
    if bulk.copy_supported():
        transaction.on_commit(lambda: bulk.analyze(model, quick=True))


def _commit_staged(job: ImportJob, actor: Actor) -> bool:
    """Commit from the dry run's stage when nothing it depends on changed; False to check again."""
    path = _stage_path(job)
    if path is None or not path.exists():
        return False
    try:
        stage = stagefile.StageReader(path)
    except (OSError, ValueError):
        log.warning("import %s: unreadable stage ignored", job.pk, exc_info=True)
        return False
    header = stage.header
    if any(header.get(k) != v for k, v in _stage_identity(job, actor).items()):
        return False
    importer = importer_for(job.kind)
    ctx = importer.start(actor=actor, job=job, today=timezone.localdate())
    checked = job.report or {}
    bad = job.bad_rows
    if bad and job.mode != ImportMode.VALID_ONLY:
        _commit_refused(job, rows=job.total_rows, bad=bad, report={**checked, "step": "commit"})
        return True
    marker, now = header["marker"].encode(), ctx.now.isoformat().encode()
    outer = connection.in_atomic_block
    progress = _Progress(job, side_connection=not outer)
    rows_before = bulk.estimated_rows(importer.model)
    created = processed = 0

    def verified() -> Generator[tuple[dict[str, Any], list[stagefile.Payload]]]:
        for meta, bodies in stage.batches():
            if importer.stage_conflicts(ctx, meta):
                raise _StageChanged
            yield meta, bodies

    # Each batch is verified (in a second thread when the commit owns its transaction) while the
    # one before it is written; a change found part-way rolls the writes back.
    batches = readahead.read_ahead(verified(), name="import-verify") if not outer else verified()
    try:
        with transaction.atomic():
            for meta, bodies in batches:
                for payload in bodies:
                    bulk.copy_payload(payload.table, payload.columns, payload.body.replace(marker, now))
                created += meta["created"]
                processed += meta["rows"]
                progress(processed, in_transaction=True)
            _commit_done(job, actor, importer.model, rows=job.total_rows, bad=bad, created=created, updated=0,
                         rows_before=rows_before, report={**checked, "step": "commit"})  # fmt: skip
    except _StageChanged:
        return False
    finally:
        batches.close()
        progress.close()
    return True


def _commit_done(
    job: ImportJob, actor: Actor, model: Any, *, rows: int, bad: int, created: int, updated: int, rows_before: int,
    report: dict[str, Any],
) -> None:  # fmt: skip
    """Inside the commit's transaction: fresh statistics if the table grew many times over, the
    one ``import`` audit event with the counts, the job done."""
    if created >= max(ANALYZE_AFTER, rows_before):
        _analyze_later(model)
    audit.record("import", obj=job, actor=actor, extra={
        "kind": job.kind, "file": job.original_name, "mode": job.mode, "rows": rows,
        "created": created, "updated": updated, "skipped": bad,
        "merged": report.get("merged", 0), "queued": report.get("queued", 0),
    })  # fmt: skip
    events.emit(IMPORT_COMMITTED, store_id=job.store_id,
                payload=ImportCommitted(job_id=job.pk, kind=job.kind, created=created, updated=updated))  # fmt: skip
    _finish(job, ImportStatus.DONE, total_rows=rows, processed_rows=rows, bad_rows=bad, created_count=created,
            updated_count=updated, report={**report, "created": created, "updated": updated, "skipped": bad})  # fmt: skip


def _commit_refused(job: ImportJob, *, rows: int, bad: int, report: dict[str, Any]) -> None:
    """All-or-nothing with bad rows: nothing written, the job failed with the count."""
    _finish(job, ImportStatus.FAILED, total_rows=rows, processed_rows=rows, bad_rows=bad, created_count=0,
            updated_count=0, error=_job_bad_message(bad), report={**report, "created": 0, "updated": 0, "skipped": 0})  # fmt: skip


class _StageChanged(Exception):
    """The store gained a customer a staged row would duplicate or update: check the file again."""


class _Rollback(Exception):
    pass


def _commit(job: ImportJob, actor: Actor) -> None:
    _finish(job, ImportStatus.IMPORTING, processed_rows=0, error="")
    # A stage exists only after a complete dry run of the current mapping (a new check or a
    # mapping change discards it first), whatever the job's status says by now (the worker
    # sees "importing").
    if _commit_staged(job, actor):
        return
    scan = _Scan(job, actor)
    valid_only = job.mode == ImportMode.VALID_ONLY
    outer = connection.in_atomic_block
    progress = _Progress(job, side_connection=not outer)
    created = updated = 0
    # When the import owns its transaction on PostgreSQL, the next batch is checked and prepared
    # in a second thread while the server stores this one (core.readahead): the duplicate checks
    # then read the customers that existed before the import, and duplicates inside the file are
    # caught by the check's memory of the rows before them — the same result as checking in
    # turn. One thread, not one per step: Python threads doing Python work only take turns with
    # the GIL, and the turns cost CPU of their own.
    batches = scan.prepared(scan.checked())
    if not outer and bulk.copy_supported():
        batches = readahead.read_ahead(batches, name="import-check")
    model = scan.importer.model
    rows_before = bulk.estimated_rows(model)
    try:
        with transaction.atomic():
            for rows, prepared in batches:
                scan.collect(rows)
                if valid_only or not scan.bad:
                    c, u = scan.importer.write_batch(scan.ctx, [r for r in rows if r.ok], prepared)
                    created += c
                    updated += u
                progress(scan.processed, in_transaction=True)
            if scan.bad and not valid_only:
                raise _Rollback
            _commit_done(job, actor, model, rows=scan.processed, bad=scan.bad, created=created, updated=updated,
                         rows_before=rows_before, report=scan.report(step="commit"))  # fmt: skip
    except _Rollback:
        _commit_refused(job, rows=scan.processed, bad=scan.bad, report=scan.report(step="commit"))
    finally:
        batches.close()  # stops the read-ahead thread if the loop ended early
        progress.close()


def import_preview(*, job: ImportJob, limit: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first rows of the file, for the mapping screen (shown to whoever may see the job)."""
    out: list[list[str]] = []
    try:
        with _open_job_table(job) as (_headers, rows):
            for _number, values in rows:
                out.append([_text(v) for v in values])
                if len(out) >= limit:
                    break
    except (ValidationError, OSError):
        return []
    return out


def bad_rows_grouped(job: ImportJob) -> list[dict[str, Any]]:
    """The report's reasons grouped by row, with field labels, for the UI and the API."""
    importer = IMPORTERS.get(job.kind)
    grouped: dict[int, list[dict[str, str]]] = {}
    for item in (job.report or {}).get("errors", []):
        spec = importer.field(item["field"]) if importer else None
        label = str(spec.label) if spec else _model_label(importer, item["field"])
        grouped.setdefault(item["row"], []).append({"field": item["field"], "label": label, "message": item["message"]})
    return [{"row": row, "reasons": reasons} for row, reasons in sorted(grouped.items())]


def _model_label(importer: Importer | None, name: str) -> str:
    if importer is not None and importer.model is not None:
        try:
            return str(importer.model._meta.get_field(name).verbose_name)
        except Exception:
            return name
    return name


def field_choices(kind: str) -> list[tuple[str, Any]]:
    return [(f.name, f.label) for f in importer_for(kind).fields]


def iter_batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


from . import tasks  # noqa: E402,F401  (registers the worker tasks wherever this module is loaded)
