"""Parsing what a user or another system typed into a service's arguments, with every field's
errors collected so the answer names them all at once (400, ``ValidationError`` with
``fields``).

Services of every module use these instead of private copies::

    errors = inputs.Errors()
    name = inputs.text(errors, data, "name", 60, required=True)
    price = inputs.money(errors, data.get("price"), "price", required=True)
    when = inputs.aware(errors, data.get("starts_at"), "starts_at")
    errors.raise_if_any()

Each parser returns the clean value, or ``None`` (``""`` for text) after recording a
translated message under the field's name. They never raise on hostile input: NUL bytes,
huge or non-finite numbers, booleans posing as numbers and containers posing as text are
field errors, not 500s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .errors import ValidationError

NOT_VALID = _("Some fields are not valid.")
FEN = Decimal("0.01")
MAX_MONEY = Decimal("99999999.99")
SCALAR = (str, int, float, Decimal)
TEXTLIKE = (*SCALAR, Promise)  # a lazy translation is text too
ID_MAX = 2**62


class Errors:
    """Collects field errors so a request is answered with all of them at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[Any]] = {}

    def add(self, name: str, message: Any) -> None:
        self.fields.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationError(NOT_VALID, fields=self.fields)


def text(errors: Errors, data: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    """``data[name]`` as stripped text of at most ``limit`` characters (``""`` when absent)."""
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, TEXTLIKE)):
        errors.add(name, _("Enter text."))
        return ""
    result = "" if value is None else str(value).strip()
    if "\x00" in result:
        errors.add(name, _("Text may not contain NUL characters."))
        return ""
    if len(result) > limit:
        errors.add(name, _("Enter at most %(n)s characters.") % {"n": limit})
        return ""
    if required and not result:
        errors.add(name, _("This field is required."))
    return result


def number(value: Any) -> Decimal | None:
    """A finite decimal from a string (thousands commas allowed), int, float or Decimal."""
    if isinstance(value, bool) or not isinstance(value, SCALAR):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def decimal(
    errors: Errors, data: Mapping[str, Any], name: str, *, high: Decimal, places: int = 2,
    required: bool = True, positive: bool = False,
) -> Decimal | None:  # fmt: skip
    """``data[name]`` as a decimal from 0 (or above 0 when ``positive``) to ``high`` with at most
    ``places`` decimal places."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, _("This field is required."))
        return None
    amount = number(value)
    if amount is None:
        errors.add(name, _("Enter a number, e.g. 1.5."))
        return None
    if amount < 0 or amount > high or (positive and amount == 0):
        errors.add(name, _("Enter a number between %(low)s and %(high)s.")
                   % {"low": "0.01" if positive else "0", "high": high})  # fmt: skip
        return None
    step = Decimal(1).scaleb(-places)
    if amount != amount.quantize(step):
        errors.add(name, _("Give at most %(n)s decimal places.") % {"n": places})
        return None
    return amount.quantize(step)


def money(
    errors: Errors, value: Any, name: str, *, required: bool = False, high: Decimal = MAX_MONEY
) -> Decimal | None:
    """A yuan amount to the fen, 0 to ``high`` (99,999,999.99); empty is ``None``."""
    if value is None or value == "":
        if required:
            errors.add(name, _("This field is required."))
        return None
    amount = number(value)
    if amount is None:
        errors.add(name, _("Enter an amount in yuan, e.g. 1280.00."))
        return None
    if amount < 0 or amount > high:
        errors.add(name, _("Enter an amount between 0 and %(high)s.") % {"high": f"{high:,}"})
        return None
    if amount != amount.quantize(FEN):
        errors.add(name, _("Give the amount to the fen (two decimal places at most)."))
        return None
    return amount.quantize(FEN)


def integer(errors: Errors, value: Any, name: str, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high``; empty is ``None``."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(name, _("Enter a whole number."))
        return None
    if not low <= number <= high:
        errors.add(name, _("Enter a number between %(low)s and %(high)s.") % {"low": low, "high": high})
        return None
    return number


def choice(errors: Errors, data: Mapping[str, Any], name: str, choices: Any, default: str | None = None) -> str:
    """One of a ``TextChoices``' values. Empty gives ``default`` when there is one, else an error."""
    value = data.get(name)
    if value in (None, "") and default is not None:
        return default
    result = str(value).strip() if isinstance(value, str) else ""
    if result not in choices.values:
        errors.add(name, _("Choose one of the listed values."))
        return default or ""
    return result


def aware(errors: Errors, value: Any, name: str, *, required: bool = True) -> dt.datetime | None:
    """A timezone-aware datetime (ISO 8601 with its offset, or a ``datetime``)."""
    if value is None or value == "":
        if required:
            errors.add(name, _("This field is required."))
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            errors.add(name, _("Enter a date and time with its offset, e.g. 2026-11-24T09:30:00+08:00."))
            return None
    if not isinstance(value, dt.datetime):
        errors.add(name, _("Enter a date and time with its offset, e.g. 2026-11-24T09:30:00+08:00."))
        return None
    if timezone.is_naive(value):
        errors.add(name, _("Give the time with its time zone."))
        return None
    return value


def date(errors: Errors, value: Any, name: str, *, within_days: int = 3 * 366) -> dt.date | None:
    """A date (YYYY-MM-DD) within ``within_days`` of today; empty is ``None``."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            errors.add(name, _("Enter a date as YYYY-MM-DD."))
            return None
    else:
        errors.add(name, _("Enter a date as YYYY-MM-DD."))
        return None
    if abs((day - timezone.localdate()).days) > within_days:
        errors.add(name, _("Enter a date within %(years)s years of today.") % {"years": round(within_days / 366)})
        return None
    return day


def boolean(value: Any) -> bool:
    """A checkbox or JSON flag: true for ``True`` and "1/true/on/yes"."""
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes"))


def same_store(errors: Errors, obj: Any, store_id: int, name: str) -> None:
    """A linked row must belong to the record's store (a foreign one reads as not valid)."""
    if obj is not None and obj.store_id != store_id:
        errors.add(name, _("Choose one of this store's records."))
