"""Business keys unique within a store (``external_id`` …): the 409 a service raises before
saving, so an IntegrityError never reaches the user and the answer names no record."""

from __future__ import annotations

from typing import Any

from django.db import models

from .errors import Conflict


def store_key_conflict(
    model: type[models.Model], *, store_id: int, field: str, value: Any, message: Any, exclude_id: int | None = None
) -> Conflict | None:
    """The :class:`Conflict` naming ``field`` when another row of ``model`` in the store holds
    ``value``, else None (a blank value is never taken).

    Checked across the whole store — the key is unique there — and worded the same whether the
    holder is in the actor's scope or not, so it tells a consultant nothing about a colleague's
    records beyond the key being taken."""
    if not value:
        return None
    taken = model._default_manager.filter(store_id=store_id, **{field: value})  # scoped: existence only, store-wide
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if not taken.exists():
        return None
    return Conflict(message, fields={field: [message]})
