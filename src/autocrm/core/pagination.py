"""Keyset pagination: ``?limit=50&cursor=…`` → ``{"items": [...], "next_cursor": …}``.

The cursor is an opaque base64 of the last row's ordering values. No count of the table is
ever taken; one extra row is fetched to know whether another page exists."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    def conv(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"dt": v.isoformat()}
        if isinstance(v, dt.date):
            return {"d": v.isoformat()}
        if isinstance(v, Decimal):
            return {"dec": str(v)}
        return v

    raw = json.dumps([conv(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            if "dt" in v:
                return dt.datetime.fromisoformat(v["dt"])
            if "d" in v:
                return dt.date.fromisoformat(v["d"])
            if "dec" in v:
                return Decimal(v["dec"])
        return v

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
        return [conv(v) for v in values]
    except (ValueError, TypeError):
        raise ValidationError(
            _("The cursor is not valid."), fields={"cursor": [_("The cursor is not valid.")]}
        ) from None


def paginate(
    queryset: models.QuerySet[Any],
    *,
    ordering: tuple[str, ...] = ("-id",),
    limit: int | str | None = None,
    cursor: str | None = None,
) -> Page:
    """One page of ``queryset`` ordered by ``ordering``, whose last field must be unique (the pk)."""
    try:
        size = int(limit) if limit not in (None, "") else DEFAULT_LIMIT
    except (TypeError, ValueError):
        raise ValidationError(fields={"limit": [_("Enter a whole number.")]}) from None
    if not 1 <= size <= MAX_LIMIT:
        raise ValidationError(fields={"limit": [_("Choose between 1 and %(max)s.") % {"max": MAX_LIMIT}]})
    fields = [o.lstrip("-") for o in ordering]
    qs = queryset.order_by(*ordering)
    if cursor:
        values = _decode(cursor)
        if len(values) != len(fields):
            raise ValidationError(fields={"cursor": [_("The cursor is not valid.")]})
        # (a, b) after (x, y) in the given directions, expanded as a disjunction.
        condition = models.Q()
        for i, name in enumerate(fields):
            step = models.Q(**{f"{fields[j]}": values[j] for j in range(i)})
            op = "lt" if ordering[i].startswith("-") else "gt"
            step &= models.Q(**{f"{name}__{op}": values[i]})
            condition |= step
        try:  # a tampered cursor may decode to values of the wrong type
            qs = qs.filter(condition)
        except (ValueError, TypeError, DjangoValidationError):
            raise ValidationError(fields={"cursor": [_("The cursor is not valid.")]}) from None
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode([_value(last, f) for f in fields])
    return Page(rows, next_cursor)


def _value(obj: Any, field: str) -> Any:
    for part in field.split("__"):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj
