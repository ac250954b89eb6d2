"""Leads in the import engine (``autocrm.imports``): a spreadsheet of leads (an auto show's
sign-up sheet, a platform's export) goes through the same intake as every other channel —
each row is de-duplicated on arrival (an open lead with the same mobile gets an "enquired
again" activity instead of a second lead; the same external ID again is skipped) and assigned
by the store's rules. Registered from ``LeadsConfig.ready``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.imports.importing import FieldSpec, Importer, Row, cell_text, register_importer
from autocrm.imports.models import ImportJob

from .choices import Grade, LeadSource
from .models import Lead
from .services import lead_clean, lead_create

_SOURCE_WORDS = {
    "汽车之家": LeadSource.AUTOHOME, "懂车帝": LeadSource.DONGCHEDI, "易车": LeadSource.YICHE, "展厅": LeadSource.WALK_IN,
    "到店": LeadSource.WALK_IN, "电话": LeadSource.PHONE, "车展": LeadSource.EVENT, "主机厂": LeadSource.OEM,
    "厂家": LeadSource.OEM, "微信": LeadSource.WECHAT, "转介绍": LeadSource.REFERRAL,
}  # fmt: skip


@dataclass
class _Context:
    actor: Actor
    job: ImportJob


class LeadImporter(Importer):
    model = Lead
    fields = (
        FieldSpec("name", _("name"), ("姓名", "客户姓名", "name")),
        FieldSpec(
            "mobile", _("mobile"), ("手机", "手机号", "手机号码", "电话", "联系电话", "mobile", "phone"), required=True
        ),
        FieldSpec("source_channel", _("source channel"), ("来源", "渠道", "线索来源", "source", "channel")),
        FieldSpec("campaign", _("campaign"), ("活动", "活动名称", "campaign")),
        FieldSpec("external_id", _("external ID"), ("线索ID", "线索编号", "外部ID", "external id", "lead id")),
        FieldSpec("brand_interest", _("brand of interest"), ("意向品牌", "品牌", "brand")),
        FieldSpec("model_interest", _("model of interest"), ("意向车型", "车型", "model")),
        FieldSpec("grade", _("intent grade"), ("意向级别", "级别", "grade")),
        FieldSpec("message", _("customer's message"), ("留言", "备注", "message", "note")),
    )

    def start(self, *, actor: Actor, job: ImportJob, today: dt.date) -> _Context:
        return _Context(actor=actor, job=job)

    def _data(self, raw: dict[str, Any]) -> dict[str, Any]:
        data = {f.name: cell_text(raw.get(f.name)) for f in self.fields if raw.get(f.name) not in (None, "")}
        source = data.get("source_channel", "")
        data["source_channel"] = _SOURCE_WORDS.get(source, source.lower() if source else LeadSource.IMPORT)
        if data.get("grade") and data["grade"][:1].upper() in Grade.values:
            data["grade"] = data["grade"][:1].upper()
        return data

    def check_batch(self, ctx: _Context, rows: list[Row], precleaned: list[Any] | None = None) -> None:
        for row in rows:
            data = self._data(row.raw)
            try:
                lead_clean(data, source=LeadSource.IMPORT)
            except ValidationError as exc:
                for name, messages in exc.fields.items():
                    for message in messages:
                        row.fail(name, message)
                continue
            row.cleaned = data

    def write_batch(self, ctx: _Context, rows: list[Row], prepared: Any = None) -> tuple[int, int]:
        created = updated = 0
        for row in rows:
            intake = lead_create(actor=ctx.actor, data=row.cleaned or {}, source=LeadSource.IMPORT)
            if intake.created:
                created += 1
            else:
                updated += 1
        return created, updated


def register() -> None:
    register_importer("leads", LeadImporter(), order=30)
