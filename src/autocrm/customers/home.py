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


# --- the marketing specialist's home: who can be reached, and with what ------------------------

AUDIENCE_TTL = 600  # seconds: store-wide counts, refreshed at most every ten minutes


def marketing_audience(*, actor: Actor) -> dict[str, Any]:
    """The store's audience for marketing: customers whose marketing consent is in force per
    channel (the newest consent row granted and not withdrawn), customers per lifecycle stage,
    birthdays of this month (a reason to write) and the biggest tags (ready-made segments).

    Five aggregate queries over the actor's ``view`` scope; counts over a whole store, so they
    are kept in the shared cache for ten minutes (the panel says when they were taken)."""
    import datetime as dt

    from django.core.cache import cache
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from .choices import Channel, ConsentPurpose, LifecycleStage
    from .models import Consent

    key = f"home:audience:{actor.store_id}:{scope_for(actor, Customer, 'view')}:{actor.user_id}"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    live = Customer.objects.for_actor(actor, "view").filter(merged_into__isnull=True)
    newer = Consent.objects.filter(
        customer_id=OuterRef("customer_id"),
        purpose=OuterRef("purpose"),
        channel=OuterRef("channel"),
        at__gt=OuterRef("at"),
    )
    in_force = (
        Consent.objects.filter(
            customer__in=live, purpose=ConsentPurpose.MARKETING, granted=True, withdrawn_at__isnull=True
        )
        .filter(~Exists(newer))
        .order_by()
        .values("channel")
        .annotate(n=Count("customer_id", distinct=True))
    )
    reach = {r["channel"]: r["n"] for r in in_force}
    stages = {r["lifecycle_stage"]: r["n"] for r in live.order_by().values("lifecycle_stage").annotate(n=Count("id"))}
    today = timezone.localdate()
    birthdays = live.filter(birthday__month=today.month)
    upcoming = list(
        birthdays.filter(birthday__day__gte=today.day)
        .order_by("birthday__day", "id")
        .values("pk", "name", "birthday")[:5]
    )
    tags = list(
        live.filter(tags__isnull=False)
        .order_by()
        .values("tags__name")
        .annotate(n=Count("id"))
        .order_by("-n", "tags__name")[:8]
    )
    data = {
        "reach": [
            {"channel": label, "code": code, "count": reach.get(code, 0)}
            for code, label in Channel.choices
            if code != "phone"
        ],
        "stages": [
            {"stage": label, "code": code, "count": stages.get(code, 0)} for code, label in LifecycleStage.choices
        ],
        "birthdays": birthdays.count(),
        "upcoming": [
            {"pk": r["pk"], "name": r["name"], "day": r["birthday"].day if r["birthday"] else 0} for r in upcoming
        ],
        "month": today.month,
        "tags": [{"name": r["tags__name"], "count": r["n"]} for r in tags],
        "total": sum(stages.values()),
        "as_of": dt.datetime.now(dt.UTC),
    }
    cache.set(key, data, AUDIENCE_TTL)
    return data


def panel_audience(request: ActorRequest) -> dict[str, Any] | None:
    """The marketing specialist's day starts from who can be reached: the audience at a glance."""
    from autocrm.core.roles import Role

    actor = request.actor
    if actor.role != Role.MARKETING or not can(actor, "view", Customer):
        return None
    return marketing_audience(actor=actor)
