"""Shapes of the audit API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Schema


class AuditEventFilter(Schema):
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = Field(None, description="Username of whoever acted.")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int | None = None
    cursor: str | None = None


class AuditHistoryIn(Schema):
    object_type: str = Field(..., description='Model label, e.g. "tenancy.store".')
    object_id: str
    limit: int | None = None
    cursor: str | None = None


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor: str = Field(..., alias="actor_label")
    actor_id: int | None
    store_id: int | None
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    extra: dict[str, Any]
    request_id: str

    @staticmethod
    def resolve_at(obj: Any) -> dt.datetime:
        return timezone.localtime(obj.at)
