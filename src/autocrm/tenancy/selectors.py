"""Reads for tenancy: the stores an administrator configures."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied
from autocrm.core.permissions import can

from .models import Store


def store_modules_list(*, actor: Actor) -> QuerySet[Store]:
    """The stores whose modules ``actor`` may switch (administrators: every store of the
    organization, active ones first, by code); :class:`PermissionDenied` for anyone else."""
    if not can(actor, "modules", Store):
        raise PermissionDenied()
    return Store.objects.for_actor(actor, "modules").order_by("-is_active", "code", "pk")


def store_names(*, actor: Actor, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the stores ``ids`` that ``actor`` belongs to or reads across (the current store,
    member stores, the organization's stores for organization-wide roles), for store columns and
    "this list shows …" notes. Ids outside that set are left out, never named."""
    allowed = set(actor.member_store_ids) | set(actor.organization_store_ids)
    if actor.store_id is not None:
        allowed.add(actor.store_id)
    wanted = {i for i in ids if i is not None} & allowed
    if not wanted:
        return {}
    # scoped: narrowed to the actor's own stores just above
    return dict(Store.objects.filter(pk__in=wanted).values_list("pk", "name"))


def store_name(*, actor: Actor, store_id: int | None) -> str | None:
    """One store's name, under the same rule as :func:`store_names` (None when not visible)."""
    return store_names(actor=actor, ids=[store_id]).get(store_id) if store_id is not None else None
