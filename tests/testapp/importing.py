"""Tickets in the import and export engine: all a module writes to make its records importable
and exportable — a field table, a row cleaner and a batch writer (the ``Importer``), the rows
and columns of an export (the ``Exporter``), registered from ``AppConfig.ready``. The upload
page, mapping, dry run, commit modes, progress, API and worker are the engine's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from autocrm.core import bulk, identifiers
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.imports.exporting import Column, Exporter, register_exporter, sensitive_value
from autocrm.imports.importing import FieldSpec, Importer, Row, cell_text, mark_repeats, register_importer
from autocrm.imports.models import ImportJob

from .i18n import bilingual
from .models import Ticket


@dataclass
class _Run:
    store_id: int
    user_id: int
    seen: dict[str, dict[str, int]] = field(default_factory=lambda: {"mobile": {}})


class TicketImporter(Importer):
    model = Ticket
    label = bilingual("Tickets", "工单")
    fields = (
        FieldSpec("title", _("title"), ("标题", "title"), required=True),
        FieldSpec("mobile", _("mobile"), ("手机号", "mobile")),
        FieldSpec("cost_price", _("cost price"), ("成本价", "cost price")),
    )

    def start(self, *, actor: Actor, job: ImportJob, today: dt.date) -> _Run:
        return _Run(store_id=actor.store_id, user_id=actor.user_id)  # type: ignore[arg-type]

    def check_batch(self, ctx: _Run, rows: list[Row]) -> None:
        for row in rows:
            title, mobile, price = (cell_text(row.raw.get(n)) for n in ("title", "mobile", "cost_price"))
            cleaned: dict[str, Any] = {"title": title}
            if not title:
                row.fail("title", _("Enter a title."))
            if mobile:
                try:
                    cleaned["mobile"] = identifiers.normalize_mobile(mobile, field="mobile")
                except ValidationError as exc:
                    row.fail("mobile", exc.message)
            if price:
                try:
                    cleaned["cost_price"] = Decimal(price)
                except InvalidOperation:
                    row.fail("cost_price", _("Enter a number."))
            if row.ok:
                row.cleaned = cleaned
                mark_repeats(row, ctx.seen)

    def write_batch(self, ctx: _Run, rows: list[Row], prepared: Any = None) -> tuple[int, int]:
        values = [{"store_id": ctx.store_id, "owner_id": ctx.user_id, **(r.cleaned or {})} for r in rows]
        return len(bulk.insert_rows(Ticket, values)), 0


class TicketExporter(Exporter):
    model = Ticket
    label = bilingual("Tickets", "工单")

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        return Ticket.objects.for_actor(actor, "export").order_by("id")

    def columns(self, actor: Actor, full: bool) -> list[Column]:
        return [
            Column("title", _("title"), lambda t: t.title),
            Column("mobile", _("mobile"), lambda t: sensitive_value(actor, t, "mobile", full)),
        ]


def register() -> None:
    register_importer("tickets", TicketImporter(), order=90)
    register_exporter("tickets", TicketExporter(), order=90)
