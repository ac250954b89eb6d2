"""Reads of the administrator's pages. Users are not store rows (no TenantModel): every read
checks the actor is an administrator and keeps to the actor's organization."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, PermissionDenied
from autocrm.core.roles import Role
from autocrm.tenancy.models import Store

from .models import ApiToken, Membership, User

LIST_LIMIT = 200


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN or actor.organization_id is None:
        raise PermissionDenied()


def _users(actor: Actor) -> QuerySet[User]:
    _require_admin(actor)
    memberships = Membership.objects.select_related("store").order_by("store__code", "pk")
    return User.objects.filter(organization_id=actor.require_organization_id()).prefetch_related(
        Prefetch("memberships", queryset=memberships)
    )


def admin_user_list(*, actor: Actor, limit: int = LIST_LIMIT) -> tuple[list[User], bool]:
    """Users of the organization by username, at most ``limit`` (and whether there are more)."""
    rows = list(_users(actor).order_by("username", "pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def admin_user_get(*, actor: Actor, user_id: int) -> User:
    user = _users(actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def admin_store_choices(*, actor: Actor) -> list[Store]:
    _require_admin(actor)
    return list(Store.objects.for_actor(actor, "view").order_by("code", "pk"))


def admin_integration_users(*, actor: Actor) -> list[User]:
    from .choices import UserKind

    return list(_users(actor).filter(kind=UserKind.INTEGRATION).order_by("username"))


def admin_token_list(*, actor: Actor, limit: int = LIST_LIMIT) -> tuple[list[ApiToken], bool]:
    """API tokens of the organization's users, newest first."""
    _require_admin(actor)
    rows = list(
        ApiToken.objects.filter(user__organization_id=actor.require_organization_id())
        .select_related("user", "store")
        .order_by("-created_at", "-pk")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit
