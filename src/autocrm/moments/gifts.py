"""The gifts a care moment or a club check-in may carry: the shared ``care.gifts`` reader now
lives in ``autocrm.core.gifts`` (care's win-back offers read it too); this name stays for moments."""

from autocrm.core.gifts import (
    CHOICES,
    GIFTS,
    SPEC,
    VALIDATORS,
    Giver,
    gifts_entry,
    give,
    giver,
    label,
    options,
    points_available,
    problem,
)

__all__ = [
    "CHOICES",
    "GIFTS",
    "SPEC",
    "VALIDATORS",
    "Giver",
    "gifts_entry",
    "give",
    "giver",
    "label",
    "options",
    "points_available",
    "problem",
]
