"""Reads for accounts: building the actor, listing memberships."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from autocrm.core.actor import Actor
from autocrm.core.modules import _MEMO_KEY as MODULES_MEMO_KEY  # where core.modules memoizes an actor's modules
from autocrm.core.roles import MANAGER_ROLES, Role
from autocrm.tenancy.models import Store

from .auth import auth_data_of
from .models import Membership, User


def memberships_of(user: User) -> list[Membership]:
    return list(Membership.objects.filter(user=user, is_active=True).select_related("store").order_by("store_id"))


def actor_build(
    *,
    user: User | AnonymousUser,
    store_id: int | None = None,
    token_scopes: frozenset[str] | None = None,
    token_store_id: int | None = None,
    request: HttpRequest | None = None,
) -> Actor:
    """The actor for ``user`` working in ``store_id`` (or their default / first store).

    A user with an organization-wide membership may work in any active store of their
    organization; others only in stores where they hold an active membership. A token bound
    to a store pins the actor there."""
    request_id = getattr(request, "request_id", None) if request is not None else None
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    if not user.is_authenticated or not user.is_active or user.organization_id is None:
        return Actor(user=user, organization_id=None, store_id=None, role=None, request_id=request_id, ip=ip)
    data = auth_data_of(user)  # the shared cache's user entry: no query on a warm request
    memberships: tuple[tuple[int | None, str], ...] = data["memberships"]
    stores: tuple[tuple[int, frozenset[str]], ...] = data["stores"]
    org_store_ids = tuple(pk for pk, _modules in stores)
    org_role = next((role for sid, role in memberships if sid is None), None)
    roles: dict[int, str] = {}
    if org_role:
        roles = dict.fromkeys(org_store_ids, org_role)
    for sid, role in memberships:
        if sid is not None and sid in org_store_ids:
            roles[sid] = role  # a store role overrides the org-wide one there
    if token_store_id is not None:
        roles = {sid: r for sid, r in roles.items() if sid == token_store_id}
    chosen = store_id if store_id in roles else None
    if chosen is None and user.default_store_id in roles:
        chosen = user.default_store_id
    if chosen is None and roles:
        chosen = next(iter(sid for sid in org_store_ids if sid in roles))
    extra: dict[str, Any] = {}
    if chosen is not None:  # the modules on in the current store, as core.modules memoizes them
        extra[MODULES_MEMO_KEY] = (chosen, dict(stores)[chosen])
    return Actor(
        user=user,
        organization_id=user.organization_id,
        store_id=chosen,
        role=roles.get(chosen) if chosen is not None else None,
        organization_store_ids=org_store_ids,
        member_store_ids=tuple(sid for sid in org_store_ids if sid in roles),
        token_scopes=token_scopes,
        request_id=request_id,
        ip=ip,
        extra=extra,
    )


def actor_stores(*, actor: Actor) -> list[tuple[Store, str]]:
    """The stores ``actor`` may work in (``member_store_ids``, already narrowed to a token's
    store), each with the actor's role there, in the organization's store order."""
    if not actor.member_store_ids:
        return []
    memberships = memberships_of(actor.user)
    org_role = next((m.role for m in memberships if m.store_id is None), None)
    store_roles = {m.store_id: m.role for m in memberships if m.store_id is not None}
    stores = Store.objects.filter(pk__in=actor.member_store_ids).order_by("code", "pk")
    return [(s, store_roles.get(s.pk) or org_role or "") for s in stores]


def api_token_list(*, actor: Actor) -> Any:
    """Every API token of the actor's organization, newest first (administrators only; others
    get :class:`PermissionDenied`). The secret is never stored, so it cannot leak from here."""
    from autocrm.core.errors import PermissionDenied
    from autocrm.core.roles import Role

    from .models import ApiToken

    if actor.role != Role.ADMIN or actor.organization_id is None:
        raise PermissionDenied()
    return ApiToken.objects.filter(user__organization_id=actor.organization_id).select_related("user", "store")


TEAM_ROLES = frozenset({*MANAGER_ROLES, Role.DIRECTOR, Role.ADMIN})


def team_members(*, actor: Actor, limit: int = 100) -> tuple[list[Membership], bool] | None:
    """The people a manager — of the store or of its sales or service side — (their current store) or a director/administrator (the whole
    organization) works with, and whether the list was cut at ``limit``; None for other roles."""
    if actor.role not in TEAM_ROLES or actor.store_id is None:
        return None
    members = Membership.objects.filter(
        organization_id=actor.require_organization_id(), is_active=True, user__is_active=True
    )
    if actor.role in MANAGER_ROLES:
        members = members.filter(store_id=actor.store_id)
    rows = list(members.select_related("user", "store").order_by("store__code", "role", "user__username")[: limit + 1])
    return rows[:limit], len(rows) > limit
