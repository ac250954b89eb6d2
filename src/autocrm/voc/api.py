"""GET /api/v1/voc: what customers said in a period (the page's data): sentiment per week or
month, top praised and criticised phrases and their trend, rising phrases, per staff member and
per store — in the caller's scope (a store's managers and agents their store, an advisor or a
consultant the texts about themselves, the director the group)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Query, Router, Schema

from autocrm.core.actor import ActorRequest

from . import selectors

router = Router(tags=["voc"])
PREFIX = ""


class VocQuery(Schema):
    period: str | None = None
    start: str | None = None
    end: str | None = None
    store: str | None = None
    staff: str | None = None


class VocPeriodOut(Schema):
    key: str
    label: str
    start: dt.datetime
    end: dt.datetime


class VocTotalsOut(Schema):
    texts: int
    positive: int
    negative: int
    neutral: int
    positive_rate: float | None
    negative_rate: float | None
    average_score: float | None


class VocBucketOut(Schema):
    start: dt.date
    positive: int
    negative: int
    neutral: int


class VocPhraseCountOut(Schema):
    code: str
    label: str
    count: int
    previous: int


class VocPhraseTrendOut(Schema):
    code: str
    label: str
    counts: list[int]


class VocRisingOut(Schema):
    code: str
    label: str
    count: int
    previous: int
    change: int


class VocStaffPhraseOut(Schema):
    code: str
    label: str
    count: int


class VocStaffOut(Schema):
    id: int
    name: str
    texts: int
    positive: int
    negative: int
    neutral: int
    positive_rate: float | None
    top_positive: list[VocStaffPhraseOut]
    top_negative: list[VocStaffPhraseOut]


class VocStoreOut(Schema):
    id: int
    name: str
    texts: int
    positive: int
    negative: int
    neutral: int


class VocSummaryOut(Schema):
    period: VocPeriodOut
    scope: str
    unit: str
    totals: VocTotalsOut
    trend: list[VocBucketOut]
    top_positive: list[VocPhraseCountOut]
    top_negative: list[VocPhraseCountOut]
    phrase_trend: list[VocPhraseTrendOut]
    rising: list[VocRisingOut]
    staff: list[VocStaffOut]
    stores: list[VocStoreOut]


@router.get("/voc", response=VocSummaryOut)
def voc_summary(request: ActorRequest, filters: Query[VocQuery]) -> dict[str, Any]:
    """``period`` this_month (default) / last_month / last_90_days / this_year / custom with
    ``start`` and ``end``; ``store`` (a director's one store); ``staff`` (one staff member)."""
    return selectors.summary_for(request.actor, filters.dict())
