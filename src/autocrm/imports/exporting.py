"""Export of a filtered list of any registered kind (customers, vehicles, …) as CSV or Excel.

An app makes a list exportable by registering an :class:`Exporter` (its queryset from the list's
own selector and filters, and its columns) from its ``AppConfig.ready``::

    from autocrm.imports.exporting import register_exporter
    register_exporter("parts", PartExporter(), order=40)

The rows are exactly those the list shows the actor (the same selector and filters), personal
data is masked as on screen — fields hidden from the role are left out — and full values are
written only when the actor asks for them *and* may reveal them. Every text cell a spreadsheet
would read as a formula (first character ``=``, ``+``, ``-``, ``@``, tab or carriage return) is
written with a leading ``'`` (:func:`neutralise`), whatever the exporter, in CSV and in Excel. Every export is logged with
``core.sensitive.export_logged`` (``export`` audit event with the count, filters and whether
full personal data was included) before the first byte is sent. CSV streams row by row
(``StreamingHttpResponse``); Excel is written by openpyxl's write-only mode to a temporary file.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.extensions import Registry, registry
from autocrm.core.permissions import Access, can, field_access
from autocrm.core.sensitive import export_logged

FORMATS = ("csv", "xlsx")
CHUNK = 2000


@dataclass(frozen=True)
class Column:
    """One exported column: a header and how to read the value from a row."""

    key: str
    label: Any
    value: Callable[[Any], Any]


class Exporter:
    """What a kind of export must provide: the rows in scope for the list's filters, and the
    columns (each reads one value from a row; the base writes and neutralises it)."""

    kind: str = ""  # set by register_exporter
    model: Any = None  # exporting needs the ``export`` right on it
    filter_names: tuple[str, ...] = ()  # the list filters the export accepts
    label: Any = None  # what the export page calls the kind; the model's plural name by default

    def __init__(self) -> None:
        if self.label is None and self.model is not None:
            self.label = capfirst(self.model._meta.verbose_name_plural)

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        raise NotImplementedError

    def columns(self, actor: Actor, full: bool) -> list[Column]:
        raise NotImplementedError

    def may_reveal(self, actor: Actor) -> bool:
        return can(actor, "reveal", self.model)


EXPORTERS: Registry[Exporter] = registry("exporters")


def register_exporter(kind: str, exporter: Exporter, *, order: int = 100) -> Exporter:
    """Make ``kind`` exportable (each app registers its exporter from its ``AppConfig.ready``)."""
    exporter.kind = kind
    return EXPORTERS.register(exporter, key=kind, order=order)


def exporter_for(kind: str) -> Exporter:
    exporter = EXPORTERS.get(kind) if kind else None
    if exporter is None:
        kinds = ", ".join(str(e.label) for e in EXPORTERS.entries())
        raise ValidationError(fields={"kind": [_("Choose what to export: %(kinds)s.") % {"kinds": kinds}]})
    return exporter


def exporters_for(actor: Actor) -> list[Exporter]:
    """The kinds ``actor`` may export, in the registry's order (the export page's choice)."""
    return [e for e in EXPORTERS.entries() if can(actor, "export", e.model)]


def sensitive_value(actor: Actor, obj: Any, name: str, full: bool) -> Any:
    """A protected field as the export shows it: full only when asked for and revealable, else masked."""
    value = getattr(obj, name) or ""
    if full or not value:
        return value
    masker = getattr(obj._meta.get_field(name), "mask", None)
    return masker(value) if masker else "***"


def choice_label(field_name: str, model: Any) -> Callable[[Any], Any]:
    """A column value: the label of a choice field's value (``男`` for ``male``)."""
    flat = dict(model._meta.get_field(field_name).flatchoices)
    return lambda obj: str(flat.get(getattr(obj, field_name), getattr(obj, field_name)) or "")


def field_label(model: Any, name: str) -> Any:
    """A column header: the model field's verbose name."""
    return capfirst(model._meta.get_field(name).verbose_name)


def shown(actor: Actor, model: Any, key: str) -> bool:
    """Whether the column ``key`` (a field of ``model``, or not) is shown to ``actor``'s role."""
    try:
        model._meta.get_field(key)
    except Exception:
        return True
    return field_access(actor, model, key) is not Access.HIDDEN


def user_name(user: Any) -> str:
    if user is None:
        return ""
    return getattr(user, "display_name", "") or user.get_username()


@dataclass
class Export:
    """A prepared export: what to write. Create with :func:`export_prepare`."""

    kind: str
    fmt: str
    full: bool
    count: int
    columns: list[Column]
    rows: QuerySet[Any]

    def filename(self) -> str:
        return f"{self.kind}-{timezone.localtime():%Y%m%d-%H%M}.{self.fmt}"

    def header(self) -> list[str]:
        return [neutralise(capfirst(str(c.label))) for c in self.columns]

    def values(self) -> Iterator[list[Any]]:
        """Each row's values, text cells neutralised (:func:`neutralise`): what every format writes."""
        for obj in self.rows.iterator(chunk_size=CHUNK):
            yield [neutralise(c.value(obj)) for c in self.columns]


def export_prepare(
    *, actor: Actor, kind: str, filters: Mapping[str, Any] | None = None, fmt: str = "csv", full: bool = False
) -> Export:
    """Check the right to export (and, for ``full``, to reveal), count the rows in scope and write
    the ``export`` audit event. Returns what the response writes; nothing is read twice."""
    exporter = exporter_for(kind)
    if fmt not in FORMATS:
        raise ValidationError(fields={"format": [_("Choose CSV or Excel (.xlsx).")]})
    clean_filters = {k: v for k, v in (filters or {}).items() if k in exporter.filter_names and v not in (None, "")}
    if full and not exporter.may_reveal(actor):
        raise PermissionDenied(_("Your role may not export full personal data."))
    if not can(actor, "export", exporter.model):
        export_logged(actor=actor, model=exporter.model, count=0, filters=clean_filters)  # raises 403, audited
    rows = exporter.queryset(actor, clean_filters)
    count = rows.count()
    export_logged(
        actor=actor,
        model=exporter.model,
        count=count,
        filters={**clean_filters, "format": fmt, "full_personal_data": bool(full)},
    )
    return Export(kind=kind, fmt=fmt, full=bool(full), count=count, columns=exporter.columns(actor, full), rows=rows)


class _Echo:
    def write(self, value: str) -> str:
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text value a spreadsheet would read as a formula (its first character is ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return, whatever follows — ``-1+1`` and ``+86…`` too) gets a
    leading ``'``, which spreadsheets read as "text" (CSV/formula injection). Other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def _disposition(filename: str) -> str:
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"


def csv_lines(export: Export) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens the UTF-8 file with the Chinese intact
    yield writer.writerow(export.header())
    for values in export.values():
        yield writer.writerow([_csv_cell(v) for v in values])


def export_response(export: Export) -> StreamingHttpResponse:
    """The HTTP response of a prepared export: streamed CSV, or an .xlsx file."""
    if export.fmt == "csv":
        response = StreamingHttpResponse(csv_lines(export), content_type="text/csv; charset=utf-8")
    else:
        response = FileResponse(
            xlsx_file(export),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = _disposition(export.filename())
    response["X-Export-Rows"] = str(export.count)
    return response


def xlsx_file(export: Export) -> Any:
    """Write the rows to a temporary .xlsx (write-only mode keeps memory flat) and return it open."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title=export.kind[:31])
    sheet.append(export.header())
    for values in export.values():
        sheet.append(values)
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - handed to FileResponse, which closes it
    book.save(handle)
    handle.seek(0)
    return handle


def export_rows(export: Export) -> Iterable[list[Any]]:
    """Header then values (for tests and scripts)."""
    yield export.header()
    yield from export.values()
