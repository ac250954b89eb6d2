"""/api/v1/events: the car club's events, registrations, check-ins and invitations (thin handlers
over moments.selectors and moments.services)."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema, Status

from autocrm.core.actor import ActorRequest

from . import selectors, services
from .models import ClubEvent, ClubRegistration
from .schemas import (
    ClubEventIn,
    ClubEventOut,
    ClubEventPage,
    ClubInviteOut,
    ClubRegistrationIn,
    ClubRegistrationOut,
)

router = Router(tags=["car club"])
PREFIX = ""


class ClubEventFilters(Schema):
    upcoming: bool = False
    limit: int | str | None = None
    cursor: str | None = None


def event_out(e: ClubEvent) -> dict[str, Any]:
    return {"id": e.pk, "store": e.store_id, "title": e.title, "starts_at": e.starts_at, "ends_at": e.ends_at,
            "place": e.place, "description": e.description, "capacity": e.capacity, "seats_taken": e.seats_taken,
            "seats_left": max(e.capacity - e.seats_taken, 0), "attend_gift": e.attend_gift, "status": e.status}  # fmt: skip


def registration_out(r: ClubRegistration) -> dict[str, Any]:
    return {"id": r.pk, "event": r.event_id, "customer": r.customer_id, "customer_name": r.customer.name,
            "status": r.status, "source": r.source, "attended_at": r.attended_at, "gift_result": r.gift_result,
            "created_at": r.created_at}  # fmt: skip


@router.get("/events", response=ClubEventPage)
def event_list(request: ActorRequest, filters: Query[ClubEventFilters]) -> dict[str, Any]:
    """The store's club events, latest start first (keyset pages); ``upcoming`` leaves out past ones."""
    page = selectors.event_page(actor=request.actor, limit=filters.limit, cursor=filters.cursor,
                                upcoming=filters.upcoming)  # fmt: skip
    return {"items": [event_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post("/events", response={201: ClubEventOut})
def event_create(request: ActorRequest, payload: ClubEventIn) -> Status[dict[str, Any]]:
    """A new event in the caller's store (``starts_at`` with its offset, in the future; capacity
    1–10,000; ``points`` for attending when a points giver is registered)."""
    event = services.event_create(actor=request.actor, data=payload.dict())
    return Status(201, event_out(event))


@router.get("/events/{int:event_id}", response=ClubEventOut)
def event_get(request: ActorRequest, event_id: int) -> dict[str, Any]:
    return event_out(selectors.event_get(actor=request.actor, pk=event_id))


@router.get("/events/{int:event_id}/registrations", response=list[ClubRegistrationOut])
def registration_list(request: ActorRequest, event_id: int) -> list[dict[str, Any]]:
    """Seated first, then the waitlist in its order, then the cancelled."""
    event = selectors.event_get(actor=request.actor, pk=event_id)
    return [registration_out(r) for r in selectors.registrations_of(event=event)]


@router.post("/events/{int:event_id}/registrations", response={201: ClubRegistrationOut})
def registration_create(request: ActorRequest, event_id: int, payload: ClubRegistrationIn) -> Status[dict[str, Any]]:
    """Register a customer of the store: a seat while there is one, else the waitlist
    (``status`` says which). The same customer twice is a 409."""
    event = selectors.event_get(actor=request.actor, pk=event_id)
    row = services.registration_create(actor=request.actor, event=event, customer_id=payload.customer)
    return Status(201, registration_out(row))


@router.post("/events/{int:event_id}/invitations", response={201: ClubInviteOut})
def invite_send(request: ActorRequest, event_id: int, payload: ClubRegistrationIn) -> Status[dict[str, Any]]:
    """Send a customer the invitation with their signed sign-up link through the outbox
    (marketing; once per event and customer)."""
    event = selectors.event_get(actor=request.actor, pk=event_id)
    message = services.invite_send(actor=request.actor, event=event, customer_id=payload.customer)
    return Status(201, {"message": message.uid, "status": message.status})


@router.post("/events/registrations/{int:registration_id}/check-in", response=ClubRegistrationOut)
def registration_check_in(request: ActorRequest, registration_id: int) -> dict[str, Any]:
    """Check a seated customer in (from 3 hours before the start); gives the event's points once."""
    row = selectors.registration_get(actor=request.actor, pk=registration_id)
    return registration_out(services.registration_check_in(actor=request.actor, registration=row))


@router.post("/events/registrations/{int:registration_id}/cancel", response=ClubRegistrationOut)
def registration_cancel(request: ActorRequest, registration_id: int) -> dict[str, Any]:
    """Cancel a registration; a freed seat goes to the first on the waitlist."""
    row = selectors.registration_get(actor=request.actor, pk=registration_id)
    return registration_out(services.registration_cancel(actor=request.actor, registration=row))
