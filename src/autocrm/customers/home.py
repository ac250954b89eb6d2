"""Home-page panel of the customers app: the sales side of the store at a glance, for the roles
that assign customers (the sales manager and the store manager)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.permissions import Scope, can, scope_for

from .models import Customer

TOP = 12


def consultant_load(*, actor: Actor, top: int = TOP) -> dict[str, Any]:
    """Live customers in the actor's ``assign`` scope per consultant, biggest book first, and how
    many have no consultant yet (one aggregate query plus the names)."""
    qs = Customer.objects.for_actor(actor, "assign").filter(merged_into__isnull=True)
    rows = list(qs.order_by().values("consultant_id").annotate(n=Count("id")).order_by("-n", "consultant_id"))
    unassigned = next((r["n"] for r in rows if r["consultant_id"] is None), 0)
    assigned = [r for r in rows if r["consultant_id"] is not None]
    from django.contrib.auth import get_user_model

    names = {
        u.pk: u.display_name or u.username
        for u in get_user_model().objects.filter(pk__in=[r["consultant_id"] for r in assigned[:top]])
    }
    return {
        "rows": [{"name": names.get(r["consultant_id"], ""), "count": r["n"]} for r in assigned[:top]],
        "more": max(0, len(assigned) - top),
        "unassigned": unassigned,
        "total": sum(r["n"] for r in rows),
    }


def panel_consultants(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if not can(actor, "assign", Customer):
        return None
    return consultant_load(actor=actor)


def store_counts(*, actor: Actor) -> list[dict[str, Any]]:
    """Live customers per store in the actor's view scope, biggest first (one aggregate query)."""
    from autocrm.tenancy.models import Store

    qs = Customer.objects.for_actor(actor, "view").filter(merged_into__isnull=True)
    counts = {r["store_id"]: r["n"] for r in qs.order_by().values("store_id").annotate(n=Count("id"))}
    stores = Store.objects.filter(pk__in=counts).order_by("name")
    return sorted(({"store": s, "count": counts[s.pk]} for s in stores), key=lambda r: -r["count"])


def panel_stores(request: ActorRequest) -> dict[str, Any] | None:
    """For those who see more than one store (the group director): the group at a glance."""
    actor = request.actor
    if scope_for(actor, Customer, "view") != Scope.ORGANIZATION:
        return None  # one store's staff: no query at all
    rows = store_counts(actor=actor)
    if len(rows) < 2:
        return None
    return {"rows": rows, "total": sum(r["count"] for r in rows)}
