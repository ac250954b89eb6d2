"""Export of a filtered customer (or, through the registry, vehicle) list as CSV or Excel.

The rows are exactly those the list shows the actor (the same selector and filters), personal
data is masked as on screen — fields hidden from the role are left out — and full values are
written only when the actor asks for them *and* may reveal them. Every export is logged with
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
from autocrm.core.permissions import Access, can, field_access
from autocrm.core.sensitive import export_logged

from .models import Customer
from .selectors import customer_list

FORMATS = ("csv", "xlsx")
CHUNK = 2000


@dataclass(frozen=True)
class Column:
    """One exported column: a header and how to read the value from a row."""

    key: str
    label: Any
    value: Callable[[Any], Any]


class Exporter:
    kind: str = ""
    model: Any = None
    filter_names: tuple[str, ...] = ()

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        raise NotImplementedError

    def columns(self, actor: Actor, full: bool) -> list[Column]:
        raise NotImplementedError

    def may_reveal(self, actor: Actor) -> bool:
        return can(actor, "reveal", self.model)


_EXPORTERS: dict[str, Exporter] = {}


def register_exporter(kind: str, exporter: Exporter) -> None:
    exporter.kind = kind
    _EXPORTERS[kind] = exporter


def exporter_for(kind: str) -> Exporter:
    exporter = _EXPORTERS.get(kind)
    if exporter is None:
        raise ValidationError(fields={"kind": [_("Choose what to export: customers or vehicles.")]})
    return exporter


def sensitive_value(actor: Actor, obj: Any, name: str, full: bool) -> Any:
    """A protected field as the export shows it: full only when asked for and revealable, else masked."""
    value = getattr(obj, name) or ""
    if full or not value:
        return value
    masker = getattr(obj._meta.get_field(name), "mask", None)
    return masker(value) if masker else "***"


def _choice(field_name: str, model: Any) -> Callable[[Any], Any]:
    flat = dict(model._meta.get_field(field_name).flatchoices)
    return lambda obj: str(flat.get(getattr(obj, field_name), getattr(obj, field_name)) or "")


def _label(model: Any, name: str) -> Any:
    return capfirst(model._meta.get_field(name).verbose_name)


class CustomerExporter(Exporter):
    model = Customer
    filter_names = ("q", "kind", "lifecycle_stage", "source_channel", "district", "city", "consultant", "tag",
                    "external_id")  # fmt: skip

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        return (
            customer_list(actor=actor, filters=dict(filters), action="export")
            .select_related("consultant")
            .prefetch_related("tags")
            .order_by("id")
        )

    def columns(self, actor: Actor, full: bool) -> list[Column]:
        m = Customer

        def plain(name: str) -> Column:
            return Column(name, _label(m, name), lambda o: getattr(o, name))

        def protected(name: str) -> Column:
            return Column(name, _label(m, name), lambda o: sensitive_value(actor, o, name, full))

        cols = [
            Column("id", "ID", lambda o: o.pk),
            plain("name"),
            Column("kind", _label(m, "kind"), _choice("kind", m)),
            protected("mobile"),
            protected("other_phones"),
            Column("gender", _label(m, "gender"), _choice("gender", m)),
            plain("birthday"),
            protected("id_number"),
            plain("uscc"),
            plain("province"),
            plain("city"),
            plain("district"),
            protected("address"),
            plain("community"),
            plain("email"),
            plain("wechat_id"),
            Column("source_channel", _label(m, "source_channel"), _choice("source_channel", m)),
            Column("lifecycle_stage", _label(m, "lifecycle_stage"), _choice("lifecycle_stage", m)),
            Column("consultant", _label(m, "consultant"), lambda o: _user_name(o.consultant)),
            Column("tags", _label(m, "tags"), lambda o: ",".join(sorted(t.name for t in o.tags.all()))),
            plain("external_id"),
            Column("created_at", _("created"), lambda o: timezone.localtime(o.created_at).replace(tzinfo=None)),
        ]
        return [c for c in cols if _shown(actor, m, c.key)]


def _shown(actor: Actor, model: Any, key: str) -> bool:
    try:
        model._meta.get_field(key)
    except Exception:
        return True
    return field_access(actor, model, key) is not Access.HIDDEN


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    return getattr(user, "display_name", "") or user.get_username()


register_exporter("customers", CustomerExporter())


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
        return [capfirst(str(c.label)) for c in self.columns]

    def values(self) -> Iterator[list[Any]]:
        for obj in self.rows.iterator(chunk_size=CHUNK):
            yield [c.value(obj) for c in self.columns]


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


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not value[1:2].isdigit():
        return "'" + value  # keep spreadsheet formulas out of exported text (CSV injection)
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
        sheet.append([_xlsx_cell(v) for v in values])
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - handed to FileResponse, which closes it
    book.save(handle)
    handle.seek(0)
    return handle


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] == "=":
        return "'" + value
    return value


def export_rows(export: Export) -> Iterable[list[Any]]:
    """Header then values (for tests and scripts)."""
    yield export.header()
    yield from export.values()
