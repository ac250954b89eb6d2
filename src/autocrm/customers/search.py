"""Search keys kept on the customer row and the one search box that reads them.

A query is classified once: digits → mobile (11 digits, via the blind index) or its last four,
five or more other digits → the end of a vehicle's plate; a plate or VIN shape → vehicles;
Latin letters → pinyin (initials or full, prefix match); other text → name substring.
Everything starts from the actor's scope."""

from __future__ import annotations

import re

from django.db import connections
from django.db.models import F, Func, Q, QuerySet, TextField, Value

from autocrm.core import identifiers
from autocrm.core.normalize import normalize_mobile
from autocrm.core.pinyin import pinyin_keys

from .models import Customer

_LATIN = re.compile(r"^[a-zA-Z][a-zA-Z\s']*$")
_DIGITS = re.compile(r"^\+?[\d\s\-]+$")


def customer_search_keys(kind: str, name: str, mobile: str) -> tuple[str, str, str]:
    """A customer's search keys from its own values: full pinyin, initials, the mobile's last four."""
    full, initials = pinyin_keys(name, person=kind != "company")
    digits = normalize_mobile(mobile)
    return full[:200], initials[:60], digits[-4:] if len(digits) >= 4 else ""


def refresh_search_keys(customer: Customer) -> None:
    """Recompute pinyin keys and the mobile's last four from the row's own values."""
    customer.name_pinyin, customer.name_initials, customer.mobile_last4 = customer_search_keys(
        customer.kind, customer.name, customer.mobile
    )


def classify(query: str) -> tuple[str, str]:
    """``(kind, normalised)`` with kind one of mobile, last4, plate, vin, pinyin, name, empty."""
    q = (query or "").strip()
    if not q:
        return "empty", ""
    if _DIGITS.match(q):
        digits = normalize_mobile(q)
        if len(digits) == 11:
            return "mobile", digits
        if len(digits) == 4:
            return "last4", digits
        return "digits", digits
    compact = identifiers.clean_plate(q)
    if len(compact) == 17 and re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", compact):
        return "vin", compact
    if identifiers.plate_kind(compact):
        return "plate", compact
    if _LATIN.match(q):
        return "pinyin", re.sub(r"[\s']", "", q).lower()
    return "name", q


def customer_search(queryset: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    """Narrow an already scoped customer queryset by the search box's text."""
    kind, value = classify(query)
    if kind == "empty":
        return queryset
    if kind == "mobile":
        return queryset.filter(**Customer._meta.get_field("mobile_index").lookup(value))
    if kind == "last4":
        return queryset.filter(mobile_last4=value)
    if kind == "digits":
        if len(value) >= 5:
            # The digits of a plate's tail (``12345`` finds 沪AD12345): what people remember of a car.
            return queryset.filter(vehicles__plate__endswith=value).distinct()
        return queryset.none()
    if kind == "pinyin":
        return queryset.filter(Q(name_initials__startswith=value) | Q(name_pinyin__startswith=value))
    if kind in ("plate", "vin"):
        field = "vehicles__plate" if kind == "plate" else "vehicles__vin"
        return queryset.filter(**{field: value}).distinct()
    return name_contains(queryset, value)


def name_contains(queryset: QuerySet[Customer], value: str) -> QuerySet[Customer]:
    """Customers whose name contains ``value``. On PostgreSQL the name's characters are matched
    first against the GIN index on them (customers migration 0003), so any substring — even a
    rare two-character name, too short for trigrams — is found without reading every customer
    of the store; the LIKE keeps the match exact. A common single character (王) is left to the
    planner, which then walks the newest rows instead."""
    queryset, condition = name_condition(queryset, value, exact=False)
    return queryset.filter(condition)


def name_condition(queryset: QuerySet[Customer], value: str, *, exact: bool) -> tuple[QuerySet[Customer], Q]:
    """The queryset (with the name's characters as an alias on PostgreSQL) and a condition for
    names equal to, or containing, ``value`` that the GIN index on those characters serves, so it
    can be combined with others (the duplicate check on entry ORs it with the blind indexes)."""
    condition = Q(name=value) if exact else Q(name__contains=value)
    chars = sorted({ch for ch in value if not ch.isspace()})
    if connections[queryset.db].vendor != "postgresql" or not chars:
        return queryset, condition
    from django.contrib.postgres.fields import ArrayField

    name_chars = Func(F("name"), Value(""), function="regexp_split_to_array", output_field=ArrayField(TextField()))
    return queryset.alias(name_chars=name_chars), condition & Q(name_chars__contains=chars)
