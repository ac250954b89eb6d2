"""Keyset pagination: ``?limit=50&cursor=…`` → ``{"items": [...], "next_cursor": …}``.

The cursor is the last row's ordering values, signed with ``django.core.signing`` under a salt
of the list (model and ordering): only cursors this list handed out are read. No count of the table is
ever taken; one extra row is fetched to know whether another page exists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing
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


#: Longer than any cursor we hand out (a few ordering values and a signature): refused unread.
MAX_CURSOR_LENGTH = 512


def _salt(queryset: models.QuerySet[Any], ordering: tuple[str, ...]) -> str:
    """One signing salt per list (model and ordering): a cursor of one list is refused by another."""
    return f"autocrm.pagination:{queryset.model._meta.label_lower}:{','.join(ordering)}"


def _invalid() -> ValidationError:
    return ValidationError(_("The cursor is not valid."), fields={"cursor": [_("The cursor is not valid.")]})


def _encode(values: list[Any], salt: str) -> str:
    def conv(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"dt": v.isoformat()}
        if isinstance(v, dt.date):
            return {"d": v.isoformat()}
        if isinstance(v, Decimal):
            return {"dec": str(v)}
        return v

    return signing.dumps([conv(v) for v in values], salt=salt)


def _decode(cursor: str, salt: str) -> list[Any]:
    """The values of a cursor this list signed; anything else is a 400 naming ``cursor``.

    The signature is checked (one HMAC) before the payload is read, so a crafted value — a
    decimal like ``1e999999`` that costs the database seconds to compare, ``NaN``, a huge int,
    a wrong type, garbage base64 — never reaches a parser or a query."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid()

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
        values = signing.loads(cursor, salt=salt)
        if not isinstance(values, list):
            raise ValueError
        return [conv(v) for v in values]
    except (signing.BadSignature, ValueError, TypeError, ArithmeticError):
        raise _invalid() from None


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
    salt = _salt(queryset, ordering)
    qs = queryset.order_by(*ordering)
    if cursor:
        values = _decode(cursor, salt)
        if len(values) != len(fields):
            raise _invalid()
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
            raise _invalid() from None
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode([_value(last, f) for f in fields], salt)
    return Page(rows, next_cursor)


def _value(obj: Any, field: str) -> Any:
    for part in field.split("__"):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj
