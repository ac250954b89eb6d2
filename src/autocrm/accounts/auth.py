"""API authentication: a bearer token becomes the request's actor."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from autocrm.core import audit, ratelimit

from .selectors import actor_build
from .services import token_authenticate


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <token>``; the token's user, scopes and store make the actor.
    ``X-Store: <store id>`` picks the current store for multi-store users. Each token may make
    ``AUTOCRM_API_RATE_TOKEN`` calls per window (429 with ``Retry-After`` beyond)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_authenticate(secret=token)
        if found is None:
            return None
        ratelimit.check("AUTOCRM_API_RATE_TOKEN", str(found.pk))
        store_header = request.headers.get("X-Store")
        try:
            store_id = int(store_header) if store_header else None
        except ValueError:
            store_id = None
        scopes = frozenset(found.scopes or [])
        actor = actor_build(
            user=found.user,
            store_id=store_id or found.store_id,
            token_scopes=None if "*" in scopes else scopes,
            token_store_id=found.store_id,
            request=request,
        )
        request.actor = actor  # type: ignore[attr-defined]  # the attribute core.actor.ActorRequest declares
        request.api_token = found  # type: ignore[attr-defined]  # set for the handlers; HttpRequest has no such field
        audit.set_actor(actor)
        return found
