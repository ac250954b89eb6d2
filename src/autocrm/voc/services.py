"""Writing what customers said (ADR 0035). The care module (surveys, complaints, call notes)
calls :func:`record_text` after its own write; :func:`record_texts` records many at once (the
demo, imports of old comments, the benchmark). Both are idempotent by (source, source id): the
same record again is the same row, re-read only when its text changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import User
from autocrm.core import inputs
from autocrm.customers.models import Customer
from autocrm.tenancy.models import Store

from . import analysis
from .choices import Source
from .models import VocPhrase, VocText

_MISSING = _("No such record.")
MAX_TEXT = 5000  # stored; the analysis reads the first 2,000 characters


@dataclass(frozen=True)
class TextIn:
    source: str
    source_id: str
    text: str
    at: dt.datetime
    customer_id: int | None = None
    staff_id: int | None = None


def _clean(
    *, store_id: Any, customer_id: Any, source: Any, source_id: Any, text: Any, staff_id: Any, at: Any
) -> tuple[int, TextIn]:
    errors = inputs.Errors()
    store = inputs.integer(errors, store_id, "store_id", 1, inputs.ID_MAX)
    kind = inputs.choice(errors, {"source": source}, "source", Source)
    if isinstance(source_id, int) and not isinstance(source_id, bool):
        source_id = str(source_id)
    key = inputs.text(errors, {"source_id": source_id}, "source_id", 64, required=True)
    body = inputs.text(errors, {"text": text}, "text", MAX_TEXT, required=True)
    customer = inputs.integer(errors, customer_id, "customer_id", 1, inputs.ID_MAX) if customer_id is not None else None
    staff = inputs.integer(errors, staff_id, "staff_id", 1, inputs.ID_MAX) if staff_id is not None else None
    when = timezone.now() if at is None else inputs.aware(errors, at, "at")
    errors.raise_if_any()
    assert store is not None and when is not None
    if not Store.objects.filter(pk=store).exists():
        errors.add("store_id", _MISSING)
    if (
        customer is not None and not Customer.objects.filter(pk=customer, store_id=store).exists()
    ):  # scoped: the store named
        errors.add("customer_id", _MISSING)
    if staff is not None:
        org = Store.objects.filter(pk=store).values_list("organization_id", flat=True).first()
        if org is None or not User.objects.filter(pk=staff, organization_id=org).exists():
            errors.add("staff_id", _MISSING)
    errors.raise_if_any()
    return store, TextIn(kind, key, body, when, customer, staff)


def _phrases(row: VocText) -> list[VocPhrase]:
    return [
        VocPhrase(text=row, store_id=row.store_id, staff_id=row.staff_id, code=code[:-1], positive=code.endswith("+"),
                  at=row.at)
        for code in row.phrases
    ]  # fmt: skip


def _fill(row: VocText, result: analysis.Result) -> None:
    row.sentiment, row.score, row.phrases = result.sentiment, result.score, result.phrases


def record_text(
    *,
    store_id: int,
    customer_id: int | None,
    source: str,
    source_id: str | int,
    text: str,
    staff_id: int | None,
    at: dt.datetime | None,
) -> VocText:
    """Record and analyse one text a customer wrote or said: ``source`` survey / complaint /
    call with the id of its record there, the staff member it is about (the advisor or
    consultant), when it was written. Bad input → ValidationError naming the field, nothing
    written. The same (source, source id) again returns the row; a changed text is analysed
    again (a complaint corrected), its phrases replaced."""
    store, item = _clean(store_id=store_id, customer_id=customer_id, source=source, source_id=source_id, text=text,
                         staff_id=staff_id, at=at)  # fmt: skip
    result = analysis.analyse(item.text)
    with transaction.atomic():
        row = VocText.objects.select_for_update().filter(source=item.source, source_id=item.source_id).first()
        if row is not None:
            if row.text == item.text and row.store_id == store:
                return row
            row.store_id, row.text, row.at = store, item.text, item.at
            row.customer_id, row.staff_id = item.customer_id, item.staff_id
            _fill(row, result)
            row.save()
            VocPhrase.objects.filter(text=row).delete()
            VocPhrase.objects.bulk_create(_phrases(row))
            return row
        row = VocText(store_id=store, source=item.source, source_id=item.source_id, text=item.text, at=item.at,
                      customer_id=item.customer_id, staff_id=item.staff_id)  # fmt: skip
        _fill(row, result)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:  # recorded by a concurrent call in the meantime: that row stands
            return VocText.objects.get(source=item.source, source_id=item.source_id)
        VocPhrase.objects.bulk_create(_phrases(row))
    return row


def record_texts(*, store_id: int, items: Iterable[TextIn], batch: int = 2000) -> int:
    """Record many texts of one store (already shaped as :class:`TextIn`), skipping those whose
    (source, source id) is already recorded; one transaction per batch. Returns how many were
    new. Customer and staff ids are trusted here (the caller read them from this store)."""
    new = 0
    chunk: list[TextIn] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= batch:
            new += _record_batch(store_id, chunk)
            chunk = []
    if chunk:
        new += _record_batch(store_id, chunk)
    return new


def _record_batch(store_id: int, items: Sequence[TextIn]) -> int:
    errors = inputs.Errors()
    for item in items:
        if item.source not in Source.values:
            errors.add("source", _("Choose one of the listed values."))
        if not item.source_id or len(item.source_id) > 64:
            errors.add("source_id", _("This field is required."))
        if timezone.is_naive(item.at):
            errors.add("at", _("Enter a time with its offset."))
    errors.raise_if_any()
    with transaction.atomic():
        keys = {(i.source, i.source_id) for i in items}
        known = set(
            VocText.objects.filter(source__in={k[0] for k in keys}, source_id__in={k[1] for k in keys}).values_list(
                "source", "source_id"
            )
        )
        rows: list[VocText] = []
        for item in items:
            key = (item.source, item.source_id)
            if key in known:
                continue
            known.add(key)
            row = VocText(store_id=store_id, source=item.source, source_id=item.source_id, text=item.text[:MAX_TEXT],
                          at=item.at, customer_id=item.customer_id, staff_id=item.staff_id)  # fmt: skip
            _fill(row, analysis.analyse(item.text))
            rows.append(row)
        VocText.objects.bulk_create(rows, batch_size=1000)
        VocPhrase.objects.bulk_create([p for row in rows for p in _phrases(row)], batch_size=2000)
    return len(rows)
