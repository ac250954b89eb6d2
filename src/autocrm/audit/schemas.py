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


class FactOut(Schema):
    label: str
    value: str | None
    url: str | None = None


class ChangeOut(Schema):
    field: str = Field(..., description="The field's name, as in ``changes``.")
    label: str
    before: str | None
    after: str | None


class AuditEventOut(Schema):
    """Machine fields (``action``, ``object_type``, ``changes``, ``extra``: codes and ids, stable)
    and, for people, the same event in the request's language (``*_label``, ``summary``,
    ``changes_display``: foreign keys named where the caller may see them, times in the
    store's time zone)."""

    id: int
    at: dt.datetime
    action: str
    action_label: str
    actor: str = Field(..., description="User name of whoever acted, or ``system``.")
    actor_name: str
    actor_id: int | None
    store_id: int | None
    object_type: str
    object_type_label: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    changes_display: list[ChangeOut]
    summary: list[FactOut]
    extra: dict[str, Any]
    request_id: str


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def event_out(row: dict[str, Any]) -> dict[str, Any]:
    """One row of ``formatting.event_rows`` in the API's shape."""
    event = row["event"]
    return {
        "id": event.pk,
        "at": timezone.localtime(event.at),
        "action": event.action,
        "action_label": row["action_label"],
        "actor": event.actor_label,
        "actor_name": str(row["actor_name"]),
        "actor_id": event.actor_id,
        "store_id": event.store_id,
        "object_type": event.object_type,
        "object_type_label": row["type_label"],
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes if isinstance(event.changes, dict) else {},
        "changes_display": [
            {"field": c["name"], "label": c["field"], "before": _text(c["before"]), "after": _text(c["after"])}
            for c in row["changes"]
        ],
        "summary": [{"label": f["label"], "value": _text(f["value"]), "url": f["url"]} for f in row["facts"]],
        "extra": event.extra if isinstance(event.extra, dict) else {},
        "request_id": event.request_id,
    }
