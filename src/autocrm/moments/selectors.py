"""Reads of care moments and the car club, scoped to the actor."""

from __future__ import annotations

from typing import Any

from autocrm.core.actor import Actor
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model

from .models import ClubEvent, ClubRegistration, MomentSend, WeatherWarning


def send_page(*, actor: Actor, kind: str = "", limit: Any = None, cursor: str | None = None) -> Page:
    """What the store's moments sent, newest first."""
    require_model(actor, "view", MomentSend)
    qs = MomentSend.objects.for_actor(actor).select_related("customer", "message", "vehicle")
    if kind:
        qs = qs.filter(kind=kind)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def warnings_recent(*, actor: Actor, limit: int = 10) -> list[WeatherWarning]:
    require_model(actor, "view", WeatherWarning)
    return list(WeatherWarning.objects.for_actor(actor).order_by("-id")[:limit])


def event_page(*, actor: Actor, limit: Any = None, cursor: str | None = None, upcoming: bool = False) -> Page:
    require_model(actor, "view", ClubEvent)
    qs = ClubEvent.objects.for_actor(actor)
    if upcoming:
        from django.utils import timezone

        qs = qs.filter(starts_at__gte=timezone.now())
    return paginate(qs, ordering=("-starts_at", "-id"), limit=limit, cursor=cursor)


def event_get(*, actor: Actor, pk: Any, action: str = "view") -> ClubEvent:
    return get_in_scope(ClubEvent, actor, pk, action)


def registrations_of(*, event: ClubEvent) -> list[ClubRegistration]:
    """The event's registrations (seated first, then the waitlist in its order)."""
    rows = list(
        ClubRegistration.objects.filter(event=event).select_related("customer").order_by("id")
    )  # scoped: the event was read in scope
    order = {"registered": 0, "waitlisted": 1, "cancelled": 2}
    return sorted(rows, key=lambda r: (order.get(r.status, 3), r.pk))


def registration_get(*, actor: Actor, pk: Any, event: ClubEvent | None = None) -> ClubRegistration:
    row = get_in_scope(ClubRegistration.objects.select_related("event", "customer"), actor, pk)
    if event is not None and row.event_id != event.pk:
        from autocrm.core.errors import NotFound

        raise NotFound()
    return row
