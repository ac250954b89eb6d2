"""Accounts API: sign-in for a token, who am I, and administrators' integration tokens.

- ``POST /auth/token`` (no auth; ``AUTOCRM_API_RATE_AUTH`` calls per client IP) → a session
  token with the user's own rights. Lock-out applies (429 with ``Retry-After``); a user with
  two-factor sign-in must send ``otp``.
- ``GET /me`` → user, organization, current store, stores with roles, permissions, scopes.
- ``POST /me/password`` → change the caller's own password (current one required).
- ``POST|GET /api-tokens``, ``DELETE /api-tokens/{id}`` → integration tokens (administrators;
  anyone may revoke a token of their own). A token of another organization is 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status

from autocrm.core import permissions, ratelimit
from autocrm.core.actor import ActorRequest
from autocrm.core.api import ErrorOut, PageOut
from autocrm.core.errors import Unauthenticated
from autocrm.core.middleware import client_ip
from autocrm.core.pagination import paginate

from . import selectors, services
from .models import ApiToken
from .schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    MeOut,
    PasswordChangeIn,
    PasswordChangeOut,
    TokenIn,
    TokenOut,
)

router = Router(tags=["accounts"])
PREFIX = ""

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class PageIn(Schema):
    limit: int | None = None
    cursor: str | None = None


@router.post("/auth/token", auth=None, response={200: TokenOut, **ERRORS})
def auth_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    """Exchange a staff user's username and password for a bearer token (expires in hours)."""
    ip = client_ip(request)
    ratelimit.check("AUTOCRM_API_RATE_AUTH", ip or "unknown")
    user = services.login_authenticate(username=payload.username, password=payload.password, ip=ip, request=request)
    if user.totp_enabled and not services.totp_verify(user=user, code=payload.otp or ""):
        raise Unauthenticated(
            _("Enter the code from your authenticator app."),
            fields={"otp": [_("The code is not correct.")]},
        )
    token, secret = services.token_issue_session(user=user)
    services.login_record_success(user=user, ip=ip)
    return {"token": secret, "expires_at": timezone.localtime(token.expires_at)}


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request: ActorRequest) -> dict[str, Any]:
    """The caller: user, organization, current store, stores with roles, permissions, scopes."""
    actor = request.actor
    user = actor.user
    stores = [
        {"id": s.pk, "code": s.code, "name": s.name, "brand": s.brand, "role": role}
        for s, role in selectors.actor_stores(actor=actor)
    ]
    org = user.organization
    grants: dict[str, dict[str, Any]] = {}
    if actor.role:
        for key, per_role in sorted(permissions.rule_table().items()):
            grant = per_role.get(actor.role)
            if grant is None:
                continue
            actions = sorted(a for a in grant.actions if permissions.token_allows(actor, key, a))
            if actions:
                grants[key] = {"actions": actions, "scope": str(grant.scope)}
    return {
        "user": {"id": user.pk, "username": user.username, "display_name": user.display_name, "kind": user.kind},
        "organization": {"id": org.pk, "code": org.code, "name": org.name} if org else None,
        "store": next((s for s in stores if s["id"] == actor.store_id), None),
        "stores": stores,
        "role": actor.role,
        "permissions": grants,
        "scopes": sorted(request.auth.scopes or []),  # type: ignore[attr-defined]  # ninja's: BearerAuth's ApiToken
    }


@router.post("/me/password", response={200: PasswordChangeOut, **ERRORS})
def me_password(request: ActorRequest, payload: PasswordChangeIn) -> dict[str, Any]:
    """Change the caller's own password (staff users). The calling token stays valid; every
    other API token of the user is revoked and browser sessions end. A wrong current password
    counts as a failed sign-in (lock-out: 429)."""
    return services.password_change(
        actor=request.actor,
        current_password=payload.current_password,
        new_password=payload.new_password,
        keep_token_id=getattr(getattr(request, "api_token", None), "pk", None),
    )


def _token_out(token: ApiToken) -> dict[str, Any]:
    def local(value: Any) -> Any:
        return timezone.localtime(value) if value else None

    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "user": token.user.username,
        "scopes": list(token.scopes or []),
        "store": token.store_id,
        "created_at": local(token.created_at),
        "expires_at": local(token.expires_at),
        "revoked_at": local(token.revoked_at),
        "last_used_at": local(token.last_used_at),
        "active": token.is_active,
    }


@router.post("/api-tokens", response={201: ApiTokenCreatedOut, **ERRORS})
def api_token_create(request: ActorRequest, payload: ApiTokenIn) -> Status[dict[str, Any]]:
    """Create an integration token (administrators). The secret is in this response only."""
    token, secret = services.integration_token_create(
        actor=request.actor,
        username=payload.user,
        integration_name=payload.integration_name,
        name=payload.name,
        scopes=payload.scopes,
        expires_in_days=payload.expires_in_days,
        store_id=payload.store,
    )
    return Status(201, {**_token_out(token), "token": secret})


@router.get("/api-tokens", response={200: PageOut[ApiTokenOut], **ERRORS})
def api_token_list(request: ActorRequest, page: Query[PageIn]) -> dict[str, Any]:
    """The organization's tokens, newest first (administrators). Never the secret or its hash."""
    tokens = selectors.api_token_list(actor=request.actor)
    result = paginate(tokens, ordering=("-id",), limit=page.limit, cursor=page.cursor)
    return {"items": [_token_out(t) for t in result.items], "next_cursor": result.next_cursor}


@router.delete("/api-tokens/{token_id}", response={204: None, **ERRORS})
def api_token_revoke(request: ActorRequest, token_id: int) -> HttpResponse:
    """Revoke a token at once. Administrators revoke any token of the organization; others only
    their own (e.g. to sign out a session token)."""
    services.token_revoke(actor=request.actor, token_id=token_id)
    return HttpResponse(status=204)
