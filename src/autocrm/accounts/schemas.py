"""Request and response shapes of the accounts API (sign-in, /me, API tokens)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=4096)
    otp: str | None = Field(None, max_length=10, description="Code from the authenticator app, when enabled.")


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    kind: str


class OrganizationOut(Schema):
    id: int
    code: str
    name: str


class StoreRoleOut(Schema):
    id: int
    code: str
    name: str
    brand: str
    role: str


class GrantOut(Schema):
    actions: list[str]
    scope: str


class MeOut(Schema):
    user: UserOut
    organization: OrganizationOut | None
    store: StoreRoleOut | None = Field(None, description="The current store (X-Store header, else the default).")
    stores: list[StoreRoleOut]
    role: str | None
    permissions: dict[str, GrantOut] = Field(
        ..., description="Per model: the actions the role allows (narrowed by the token's scopes) and their scope."
    )
    scopes: list[str] = Field(..., description='The token\'s scopes; ["*"] for a sign-in token.')


class ApiTokenIn(Schema):
    user: str = Field(..., min_length=1, max_length=150, description="Username of an integration user.")
    integration_name: str | None = Field(
        None,
        max_length=60,
        description="When set and the user does not exist yet, create the integration user with this name.",
    )
    name: str = Field(..., max_length=100)
    scopes: list[str]
    expires_in_days: int = 365
    store: int | None = Field(None, description="Pin the token to this store id.")


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str
    user: str
    scopes: list[str]
    store: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    active: bool


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(..., description="The secret. Shown only in this response; store it now.")


class PasswordChangeIn(Schema):
    current_password: str = Field(..., max_length=4096)
    new_password: str = Field(..., max_length=4096)


class PasswordChangeOut(Schema):
    tokens_revoked: int = Field(..., description="Other API tokens of the user revoked (the calling token stays).")
