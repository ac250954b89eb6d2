"""The actor: who is acting, in which store, with which role.

Built once per request (session or API token) by accounts; services and selectors take it as
their first argument. It holds ids only, so core depends on no concrete app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from django.http import HttpRequest

from .errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    user: Any  # accounts.User
    organization_id: int | None
    store_id: int | None  # the current store: writes go here, store-scoped reads read here
    role: str | None  # the role in the current store
    organization_store_ids: tuple[int, ...] = ()  # every store of the organization
    member_store_ids: tuple[int, ...] = ()  # stores this user may switch to
    token_scopes: frozenset[str] | None = None  # None: a browser session, no token narrowing
    request_id: str | None = None
    ip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def label(self) -> str:
        return getattr(self.user, "username", "") or "system"

    def require_store_id(self) -> int:
        """The current store, for a write or a store-wide read that needs one. An actor without a
        current store holds no role, so a permission check has already refused it; should one be
        skipped, this refuses too (403) instead of matching the rows of no store."""
        if self.store_id is None:
            raise PermissionDenied()
        return self.store_id

    def require_organization_id(self) -> int:
        """The actor's organization, refused (403) for an actor without one (anonymous, or a user
        of no organization), so that ``organization_id=None`` never matches ownerless rows."""
        if self.organization_id is None:
            raise PermissionDenied()
        return self.organization_id


def actor_of(request: HttpRequest) -> Actor:
    """``request.actor`` of a request typed as Django's own (a helper shared by views)."""
    # cast: the attribute is added at run time by the middleware / API auth (see ActorRequest).
    return cast(ActorRequest, request).actor


class ActorRequest(HttpRequest):
    """The type of a request that went through ``accounts``' ActorMiddleware (pages) or its
    ``BearerAuth`` (API), which set ``request.actor``. Annotate views and API handlers that read
    ``request.actor`` with it. For type checking only, as django-stubs advises for attributes that
    middleware adds: at run time requests stay Django's own objects."""

    actor: Actor
