"""Search keys kept on the customer row and the one search box that reads them.

A query is classified once: 11 digits → the mobile (via the blind index), 4 digits → its last
four; then the search keys other apps registered (:data:`SEARCH_KEYS` — vehicles: full plate or
VIN, VIN last six, a plate without its province character, a plate's last digits) each say
whether the text is theirs; if none claims it, Latin letters → pinyin (initials or full, prefix
match), other digits → nothing, other text → name substring. Everything starts from the actor's
scope."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, Func, Q, QuerySet, TextField

from autocrm.core.extensions import Registry, registry
from autocrm.core.normalize import normalize_mobile
from autocrm.core.pinyin import pinyin_keys

from .models import Customer


@dataclass(frozen=True)
class SearchKey:
    """A way the search box finds customers by another app's data (a plate, a VIN, a contract
    number…). ``match`` gets the query's text and returns a condition on ``Customer`` rows, or
    ``None`` when the text does not have its shape. Best an ``Exists`` over the other app's table
    correlated on ``OuterRef("pk")`` and ``OuterRef("store_id")``: no DISTINCT is needed and the
    other table's (store, …) index serves it."""

    key: str
    match: Callable[[str], Q | None]
    label: Any = ""  # what the search box says it finds (its placeholder lists them)


SEARCH_KEYS: Registry[SearchKey] = registry("customers.search_keys")


def register_search_key(key: str, match: Callable[[str], Q | None], *, label: Any = "", order: int = 100) -> None:
    """Called from a higher app's ``AppConfig.ready``."""
    SEARCH_KEYS.register(SearchKey(key, match, label), key=key, order=order)


def related_condition(query: str) -> Q | None:
    """The registered keys that claim ``query``, ORed; None when none does."""
    condition: Q | None = None
    for entry in SEARCH_KEYS.entries():
        found = entry.match(query)
        if found is not None:
            condition = found if condition is None else condition | found
    return condition


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
    """``(kind, normalised)`` with kind one of mobile, last4, digits, pinyin, name, empty — the
    customer's own keys; registered keys are asked by :func:`customer_search`."""
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
    related = related_condition(query)
    if related is not None:
        return queryset.filter(related)
    if kind == "digits":
        return queryset.none()
    if kind == "pinyin":
        return queryset.filter(Q(name_initials__startswith=value) | Q(name_pinyin__startswith=value))
    return name_contains(queryset, value)


def name_contains(queryset: QuerySet[Customer], value: str) -> QuerySet[Customer]:
    """Customers whose name contains ``value``. On PostgreSQL the name's characters and
    character pairs are matched first against the GIN index on them (customers migration 0012),
    so any substring — even a two-character name, too short for trigrams — is found by reading
    only the names holding each of its pairs; the LIKE keeps the match exact. A common single
    character (王) is left to the planner, which then walks the newest rows instead."""
    queryset, condition = name_condition(queryset, value, exact=False)
    return queryset.filter(condition)


def name_grams(value: str) -> list[str]:
    """What the index holds for ``value`` that any name containing it holds too: its character
    pairs (spaces kept, as ``customer_name_grams`` keeps them), or the one character itself."""
    if len(value) == 1:
        return [value]
    return sorted({value[i : i + 2] for i in range(len(value) - 1)})


def name_condition(queryset: QuerySet[Customer], value: str, *, exact: bool) -> tuple[QuerySet[Customer], Q]:
    """The queryset (with the name's grams as an alias on PostgreSQL) and a condition for names
    equal to, or containing, ``value`` that the GIN index on those grams serves, so it can be
    combined with others."""
    condition = Q(name=value) if exact else Q(name__contains=value)
    if connections[queryset.db].vendor != "postgresql" or not value:
        return queryset, condition
    from django.contrib.postgres.fields import ArrayField

    grams = Func(F("name"), function="customer_name_grams", output_field=ArrayField(TextField()))
    return queryset.alias(name_grams=grams), condition & Q(name_grams__contains=name_grams(value))
