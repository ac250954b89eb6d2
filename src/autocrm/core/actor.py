"""The actor: who is acting, in which store, with which role.

Built once per request (session or API token) by accounts; services and selectors take it as
their first argument. It holds ids only, so core depends on no concrete app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
