"""Reads for tenancy: the stores an administrator configures."""

from __future__ import annotations

from typing import Any

from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied
from autocrm.core.permissions import can

from .models import Store


def store_modules_list(*, actor: Actor) -> Any:
    """The stores whose modules ``actor`` may switch (administrators: every store of the
    organization, active ones first, by code); :class:`PermissionDenied` for anyone else."""
    if not can(actor, "modules", Store):
        raise PermissionDenied()
    return Store.objects.for_actor(actor, "modules").order_by("-is_active", "code", "pk")  # type: ignore[attr-defined]
