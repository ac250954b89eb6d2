"""Writes for the test model, shaped like a real app's services."""

from __future__ import annotations

from django.db import transaction

from autocrm.core import audit, permissions
from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied

from .models import Ticket


@transaction.atomic
def ticket_create(*, actor: Actor, title: str, mobile: str = "", id_number: str = "") -> Ticket:
    """A ticket in the actor's current store (never a store sent by the client)."""
    if not permissions.can(actor, "add", Ticket):
        raise PermissionDenied()
    with audit.acting_as(actor):
        return Ticket.objects.create(
            store_id=actor.store_id, title=title, owner=actor.user, mobile=mobile, id_number=id_number
        )
