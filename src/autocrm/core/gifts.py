"""The gifts a care moment, a club check-in or a win-back offer may carry, read from the ``care.gifts`` registry.

The loyalty app registers the real givers (``registry("care.gifts").register(fn, key=...)``):
keys such as ``coupon:birthday`` or ``points:100``, or a family key (``points``) whose giver takes
any amount (``points:<n>``); ``fn(customer_id, store_id, gift_spec) -> str`` gives the gift in
the caller's transaction and answers what was given (a coupon code, "100 points"), or raises to
refuse. care and moments only read the registry (in core: two apps use it): with nothing registered the pages offer "no gift"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from autocrm.core.extensions import registry

GIFTS = "care.gifts"
CHOICES = "care.gift_choices"  # family key → fn(store_id) -> [(spec, label)]
VALIDATORS = "care.gift_validators"  # family key → fn(spec, store_id) -> a message, or None when it may be given
SPEC = re.compile(r"[a-z][a-z0-9_]{0,29}(:[A-Za-z0-9_\-]{1,29})?")

Giver = Callable[[int, int, str], str]


def giver(spec: str) -> Giver | None:
    """The callable for ``spec``: its own entry, else its family's (``points`` for ``points:200``)."""
    if not spec or not SPEC.fullmatch(spec):
        return None
    gifts = registry(GIFTS)
    fn = gifts.get(spec)
    if fn is None and ":" in spec:
        fn = gifts.get(spec.split(":", 1)[0])
    return fn if callable(fn) else None


def problem(spec: str, store_id: int) -> Any:
    """Why ``spec`` cannot be set up as a gift in the store (a translated message), or None. An
    exact key (``coupon:birthday``) is given as registered; a family's spec (``points:200``) is
    judged by its family's validator (``care.gift_validators``), else it must be one of the
    family's offers in the store. care and moments know no family by name."""
    from django.utils.translation import gettext_lazy as _

    if giver(spec) is None:
        return _("This gift is not on offer.")
    if ":" not in spec or registry(GIFTS).get(spec) is not None:
        return None
    check = registry(VALIDATORS).get(spec.split(":", 1)[0])
    if callable(check):
        return check(spec, store_id)
    return None if spec in dict(options(store_id)) else _("This gift is not on offer.")


def label(spec: str) -> str:
    fn = gifts_entry(spec)
    return str(getattr(fn, "label", "") or spec)


def gifts_entry(spec: str) -> Any:
    return giver(spec)


def options(store_id: int | None = None) -> list[tuple[str, str]]:
    """The gifts on offer in a store, for a select: each exact key (``coupon:birthday``) by its
    label, and what each family offers there (``care.gift_choices``: ``fn(store_id) ->
    [(spec, label)]``, e.g. the store's coupon types, a few amounts of points)."""
    gifts = registry(GIFTS)
    exact = [key for key in gifts.keys() if ":" in key]  # noqa: SIM118 (a Registry iterates its entries, not keys)
    out = [(key, str(getattr(gifts.get(key), "label", "") or key)) for key in exact]
    if store_id is not None:
        choices = registry(CHOICES)
        for family in choices.keys():  # noqa: SIM118
            if gifts.get(family) is not None:
                out.extend((str(spec), str(text)) for spec, text in choices.get(family)(store_id))  # type: ignore[misc]
    return out


def points_available() -> bool:
    """Can a club event give points for attending (``points:<n>`` or a ``points`` family giver)?"""
    return any(k == "points" or k.startswith("points:") for k in registry(GIFTS).keys())  # noqa: SIM118


def give(spec: str, *, customer_id: int, store_id: int) -> str:
    """Give ``spec`` now (the caller's transaction); "" when nothing is registered for it."""
    fn = giver(spec)
    if fn is None:
        return ""
    return str(fn(customer_id, store_id, spec))[:200]
