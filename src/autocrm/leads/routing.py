"""Hot leads to the best converters (docs/adr/0015): a new lead scoring above the store's
``hot_score_threshold`` goes to the on-duty consultant with the best recent conversion — won ÷
assigned leads that arrived in the last 90 days, counted from Lead rows, among consultants with
at least :data:`MIN_SAMPLE` such leads. Capacity, busy and off still apply (the ranking only
orders the consultants the round robin may take); with nobody ranked, the round robin decides.

The ranking of a store is one grouped query, cached per process for :data:`CACHE_SECONDS`
(conversion moves over weeks, not minutes), and read only for hot leads."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db.models import Count, Q

from .choices import LeadStatus

WINDOW = dt.timedelta(days=90)
MIN_SAMPLE = 10
CACHE_SECONDS = 600.0
_cache: dict[int, tuple[float, list[int]]] = {}


def forget(store_id: int | None = None) -> None:
    if store_id is None:
        _cache.clear()
    else:
        _cache.pop(store_id, None)


def conversion(*, store_id: int, now: dt.datetime) -> list[tuple[int, int, int]]:
    """``(consultant id, assigned, won)`` of the store's consultants over the window."""
    from .models import Lead

    rows = (
        Lead.objects.filter(  # scoped: one store's leads (the intake's own store)
            store_id=store_id, consultant__isnull=False, arrived_at__gte=now - WINDOW, arrived_at__lte=now
        )
        .values("consultant_id")
        .annotate(n=Count("id"), won=Count("id", filter=Q(status=LeadStatus.WON)))
    )
    return [(int(r["consultant_id"]), int(r["n"]), int(r["won"])) for r in rows]


def ranking(*, store_id: int, now: dt.datetime) -> list[int]:
    """The store's consultants with enough leads, best conversion first (more leads first on a
    tie, then the lower id, so the order is stable)."""
    hit = _cache.get(store_id)
    clock = time.monotonic()
    if hit is not None and clock - hit[0] < CACHE_SECONDS:
        return hit[1]
    rows = [r for r in conversion(store_id=store_id, now=now) if r[1] >= MIN_SAMPLE]
    rows.sort(key=lambda r: (-(r[2] / r[1]), -r[1], r[0]))
    ranked = [r[0] for r in rows if r[2] > 0]
    _cache[store_id] = (clock, ranked)
    return ranked


def hot_ranking(lead: Any, *, now: dt.datetime, settings: Any) -> list[int] | None:
    """The ranking to place ``lead`` by, or None when it is not hot."""
    threshold = getattr(settings, "hot_score_threshold", 80)
    if int(lead.score or 0) <= threshold:
        return None
    return ranking(store_id=lead.store_id, now=now) or None


def first_ranked(duties: list[Any], ranked: list[int]) -> Any:
    """The duty row of the best-ranked consultant among ``duties`` (None when none is ranked)."""
    order = {uid: i for i, uid in enumerate(ranked)}
    candidates = [d for d in duties if d.user_id in order]
    return min(candidates, key=lambda d: order[d.user_id]) if candidates else None


def hot_threshold_set(*, actor: Any, value: Any) -> Any:
    """Set the store's ``hot_score_threshold`` (0–100; the sales manager or the store manager)."""
    from django.db import transaction
    from django.utils.translation import gettext_lazy as _

    from autocrm.core import audit
    from autocrm.core.errors import ValidationError
    from autocrm.core.permissions import require

    from .services import lead_settings_for, rules_changed

    with transaction.atomic():
        settings = lead_settings_for(actor.require_store_id())
        require(actor, "change", settings)
        try:
            if isinstance(value, bool):
                raise ValueError
            threshold = int(value)
            if not 0 <= threshold <= 100:
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(fields={"hot_score_threshold": [_("Enter a whole number from 0 to 100.")]}) from None
        before = settings.hot_score_threshold
        settings.hot_score_threshold = threshold
        settings.save(update_fields=["hot_score_threshold", "updated_at"])
        audit.record("lead.settings_changed", obj=settings, actor=actor,
                     changes={"hot_score_threshold": [before, threshold]})  # fmt: skip
    rules_changed(settings.store_id)
    return settings
