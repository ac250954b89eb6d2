"""Reads of customer master data, always from the actor's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet

from autocrm.core.actor import Actor
from autocrm.core.expressions import ValueList
from autocrm.core.extensions import panels_for
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model

from .models import Consent, Customer, CustomerExternalId, HouseholdMember, TimelineEvent
from .search import customer_search

LIST_FIELDS = (
    "id", "store_id", "kind", "name", "mobile", "province", "city", "district", "consultant_id", "advisor_id",
    "lifecycle_stage", "created_at", "updated_at", "external_id", "source_channel", "gender",
)  # fmt: skip


def customer_list(*, actor: Actor, filters: dict[str, Any] | None = None, action: str = "view") -> QuerySet[Customer]:
    """Customers the actor may see, narrowed by ``q`` (the search box) and field filters
    (``customers.filtersets.CustomerFilterSet``; ``store`` narrows within the actor's scope).
    Merged-away records are hidden. Order is left to the caller's paginator."""
    filters = filters or {}
    qs: QuerySet[Customer] = Customer.objects.for_actor(actor, action).filter(merged_into__isnull=True)
    if filters.get("q"):
        qs = customer_search(qs, str(filters["q"]))
    for name in ("kind", "lifecycle_stage", "source_channel", "district", "city"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("store"):
        # Within the scope only: a store outside it matches nothing.
        qs = qs.filter(store_id=filters["store"])
    if filters.get("consultant"):
        qs = qs.filter(consultant_id=filters["consultant"])
    if filters.get("tag"):
        qs = qs.filter(tags__name=filters["tag"])
    if filters.get("external_id"):
        qs = qs.filter(external_id=filters["external_id"])
    return qs


def customer_page(
    *,
    actor: Actor,
    filters: dict[str, Any] | None = None,
    limit: Any = None,
    cursor: str | None = None,
    only: tuple[str, ...] | None = None,
) -> Page:
    """A keyset page of :func:`customer_list`; a role that may not view customers at all gets
    :class:`PermissionDenied` (403, audited), not an empty page. Rows come with their
    consultant, or with ``only`` just those columns (no other personal field decrypted; the
    consultant row only when ``only`` names its columns, ``consultant__username``)."""
    require_model(actor, "view", Customer)
    queryset = customer_list(actor=actor, filters=filters)
    if only and not any(f.startswith("consultant__") for f in only):
        queryset = queryset.only(*only)
    else:
        queryset = queryset.select_related("consultant").only(*(only or ()))
    return paginate(queryset, ordering=("-id",), limit=limit, cursor=cursor)


def customer_get(*, actor: Actor, pk: Any, action: str = "view") -> Customer:
    """One customer in scope (404 otherwise; 403 if in scope but ``action`` not allowed)."""
    return get_in_scope(Customer, actor, pk, action)


def customer_detail(*, actor: Actor, pk: Any) -> Customer:
    """:func:`customer_get` for viewing, with its tag names (``detail_tags``) and the external
    IDs of records merged into it (``detail_aliases``) read in the same query: one query for
    the API's detail, whatever the customer has."""
    global _DETAIL
    if _DETAIL is None:  # built once: every call filters a clone of it
        _DETAIL = Customer.objects.annotate(
            detail_tags=ValueList(Customer.tags.through.objects.filter(customer_id=OuterRef("pk")), "tag__name"),
            detail_aliases=ValueList(CustomerExternalId.objects.filter(customer_id=OuterRef("pk")), "external_id"),
        )
    return get_in_scope(_DETAIL.all(), actor, pk)


_DETAIL: QuerySet[Customer] | None = None


def consents_in_force(*, customer: Customer) -> list[Consent]:
    """The newest consent row per (purpose, channel)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for consent in Consent.objects.filter(customer=customer).order_by("-at", "-id")[:200]:
        key = (consent.purpose, consent.channel)
        if key not in seen:
            seen.add(key)
            out.append(consent)
    return sorted(out, key=lambda c: (c.purpose, c.channel))


def household_of(*, customer: Customer) -> list[HouseholdMember]:
    """The other members of the customer's household, in one query whether or not it has one."""
    return list(
        HouseholdMember.objects.filter(
            household_id__in=HouseholdMember.objects.filter(customer=customer).values("household_id")[:1]
        )
        .exclude(customer_id=customer.pk)
        .select_related("customer")
        .order_by("id")
    )


def timeline_page(*, actor: Actor, customer: Customer, limit: Any = 30, cursor: str | None = None) -> Page:
    qs = TimelineEvent.objects.filter(customer=customer, store_id=customer.store_id)
    return paginate(qs, ordering=("-at", "-id"), limit=limit, cursor=cursor)


def customer_360(*, actor: Actor, pk: Any, consents: bool = True, timeline_limit: int = 30) -> dict[str, Any]:
    """Everything the 360 page shows, in a bounded number of queries: the customer (with
    consultant, advisor, tags), household, consents in force (``consents=False``: not read — the
    page loads its consent grid after the first paint), the first page of the timeline and the
    panels other modules registered (vehicles, leads, repair orders…)."""
    customer = get_in_scope(
        Customer.objects.select_related("consultant", "advisor").prefetch_related("tags"), actor, pk
    )
    return {
        "customer": customer,
        "household": household_of(customer=customer),
        "consents": consents_in_force(customer=customer) if consents else [],
        "timeline": timeline_page(actor=actor, customer=customer, limit=timeline_limit),
        "panels": panels_for("customers.customer", actor, customer),
    }
