"""Who is calling, without a query on a warm request (ADR 0012).

Three entries live in the shared cache (``CACHES["shared"]``, :mod:`autocrm.core.cache`), each
valid only for the versions it was built under:

- the **user entry** ``autocrm:auth:u:<user id>``: the user row (the TOTP secret left deferred),
  their active memberships ``(store id, role)`` and their organization's active stores with the
  modules on in each — what :func:`~autocrm.accounts.selectors.actor_build` needs. Versions:
  the user's (``autocrm:authv:u:<id>``) and the stores' (``autocrm:authv:stores``);
- the **token entry** ``autocrm:auth:t:<sha-256>``: the token row. Version: the token's own
  (``autocrm:authv:t:<sha-256>``);
- browser sessions find their user through :class:`CachedModelBackend`, which reads the user
  entry instead of the user row; Django still checks the session against the password hash.

Every write that changes what an entry holds replaces the version (:func:`bump_user`,
:func:`bump_token`, :func:`bump_stores`): ``post_save``/``post_delete`` of ``User``,
``Membership``, ``ApiToken`` and ``Store`` (wired in :func:`connect_signals`), and the services
that write with ``QuerySet.update``. A bump happens inside the writing transaction and again
once it commits, and a reader takes the versions *before* it reads the rows it caches: so a
revoked token, a deactivated user, a removed membership or a changed role fail on the very next
request, in every process. A write that bypasses the ORM's ``save``/``delete`` (``update()``,
raw SQL) must call the bump itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from autocrm.core import audit, ratelimit
from autocrm.core.cache import entry_get, entry_get_counting, entry_set, versions_bump
from autocrm.core.modules import effective

TOKEN_PREFIX = "acrm_"  # noqa: S105 (a public prefix, not a secret)
USER_ENTRY = "autocrm:auth:u:{}"
USER_VERSION = "autocrm:authv:u:{}"
TOKEN_ENTRY = "autocrm:auth:t:{}"  # noqa: S105 (a cache key, not a secret)
TOKEN_VERSION = "autocrm:authv:t:{}"  # noqa: S105 (a cache key, not a secret)
STORES_VERSION = "autocrm:authv:stores"
ENTRY_SECONDS = 3600  # an entry nobody bumped is rebuilt after an hour all the same
LAST_USED_EVERY = dt.timedelta(minutes=1)  # ApiToken.last_used_at is written at most this often

# --- versions -------------------------------------------------------------------------------------


def bump_user(*user_ids: int | None) -> None:
    """The user entries of ``user_ids`` are dead (user row, memberships, role changed)."""
    versions_bump(*(USER_VERSION.format(uid) for uid in user_ids if uid is not None))


def bump_token(*key_hashes: str) -> None:
    """The token entries of these token hashes are dead (revoked, changed, deleted)."""
    versions_bump(*(TOKEN_VERSION.format(h) for h in key_hashes if h))


def bump_stores() -> None:
    """Every user entry is dead: a store was added, switched off or had its modules changed
    (rare; the entries are rebuilt on their next request)."""
    versions_bump(STORES_VERSION)


def _on_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump_user(instance.pk)


def _on_membership(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump_user(instance.user_id)


def _on_token(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump_token(instance.key_hash)


def _on_store(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump_stores()


def connect_signals() -> None:
    """Wire the bumps to every ``save``/``delete`` of the rows the entries hold (``ready()``)."""
    from autocrm.tenancy.models import Store

    from .models import ApiToken, Membership, User

    for model, receiver in ((User, _on_user), (Membership, _on_membership), (ApiToken, _on_token), (Store, _on_store)):
        uid = f"autocrm.accounts.auth.{model.__name__}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(receiver, sender=model, dispatch_uid=uid + ".delete")


# --- the user entry ---------------------------------------------------------------------------------


def _build_user_entry(user_id: int) -> dict[str, Any]:
    from autocrm.tenancy.models import Store

    from .models import Membership, User

    user = User.objects.defer("totp_secret").filter(pk=user_id).first()
    if user is None:
        return {"user": None, "memberships": (), "stores": ()}
    memberships: tuple[tuple[int | None, str], ...] = ()
    stores: tuple[tuple[int, frozenset[str]], ...] = ()
    if user.is_active and user.organization_id is not None:
        memberships = tuple(
            Membership.objects.filter(user_id=user_id, is_active=True)
            .order_by("store_id")
            .values_list("store_id", "role")
        )
        stores = tuple(
            (pk, effective(modules))
            for pk, modules in Store.objects.filter(organization_id=user.organization_id, is_active=True)
            .order_by("code")
            .values_list("pk", "modules")
        )
    return {"user": user, "memberships": memberships, "stores": stores}


def user_entry(user_id: int) -> dict[str, Any]:
    """``{"user", "memberships", "stores"}`` of ``user_id`` from the shared cache, rebuilt (three
    queries) when a version moved. ``user`` is None for a user that does not exist."""
    return _user_entry(user_id, None)[0]


def _user_entry(user_id: int, window: ratelimit.Window | None) -> tuple[dict[str, Any], int]:
    """:func:`user_entry`, counting ``window`` in the same round trip (its count; 0 without)."""
    key = USER_ENTRY.format(user_id)
    version_keys = (USER_VERSION.format(user_id), STORES_VERSION)
    count = 0
    if window is None:
        entry, versions = entry_get(key, version_keys)
    else:
        entry, versions, (count, _expires) = entry_get_counting(
            key, version_keys, counter_key=window.key, timeout=window.timeout, cache=ratelimit.counter_cache()
        )
    if entry is None:
        entry = _build_user_entry(user_id)
        entry_set(key, versions, entry, timeout=ENTRY_SECONDS)
    return entry, count


def attach_entry(user: Any, entry: dict[str, Any]) -> Any:
    """Keep the entry's memberships and stores on ``user`` for the actor of this request."""
    user._autocrm_auth = {"memberships": entry["memberships"], "stores": entry["stores"]}
    return user


def auth_data_of(user: Any) -> dict[str, Any]:
    """The memberships and stores of ``user``: those read with it this request, else its entry."""
    found = getattr(user, "_autocrm_auth", None)
    if found is None:
        entry = user_entry(user.pk)
        found = {"memberships": entry["memberships"], "stores": entry["stores"]}
        user._autocrm_auth = found
    return found


class CachedModelBackend(ModelBackend):
    """Django's model backend whose ``get_user`` (each request of a browser session) reads the
    user entry instead of the user row. Django then checks the session's hash against the user's
    password hash, as always: a password change bumps the entry, so other sessions end."""

    def get_user(self, user_id: Any) -> Any:
        try:
            entry = user_entry(int(user_id))
        except (TypeError, ValueError):
            return None
        user = entry["user"]
        if user is None or not self.user_can_authenticate(user):
            return None
        return attach_entry(user, entry)


# --- the token entry --------------------------------------------------------------------------------


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_lookup(*, secret: str, rate: str | None = None) -> Any:
    """The active token matching ``secret`` with its active user, or None. Warm: two round trips
    to the shared cache and no query; ``last_used_at`` is written at most once a minute.

    ``rate`` names a rate-limit setting (:mod:`autocrm.core.ratelimit`) counted per token with
    the second round trip (the user entry's), enforced once the token and its user are known
    to be good: :class:`RateLimited` past the limit."""
    from .models import ApiToken

    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    digest = token_hash(secret)
    key = TOKEN_ENTRY.format(digest)
    entry, versions = entry_get(key, (TOKEN_VERSION.format(digest),))
    if entry is None:
        row = ApiToken.objects.filter(key_hash=digest).first()
        if row is None:
            return None  # unknown secrets are not cached: nobody fills the cache by guessing
        entry = {"token": row}
        entry_set(key, versions, entry, timeout=ENTRY_SECONDS)
    token = entry["token"]
    if not token.is_active:
        return None
    window = ratelimit.window_for(rate, str(token.pk)) if rate else None
    user_data, count = _user_entry(token.user_id, window)
    user = user_data["user"]
    if user is None or not user.is_active:
        return None
    token.user = attach_entry(user, user_data)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        row = _strip(token)
        entry_set(key, versions, {"token": row}, timeout=ENTRY_SECONDS)
    if window is not None:
        window.enforce(count)
    return token


def _strip(token: Any) -> Any:
    """A copy of ``token`` without its related user (the user lives in the user entry)."""
    import copy

    row = copy.copy(token)
    row._state = copy.copy(token._state)
    row._state.fields_cache = {}
    return row


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <token>``; the token's user, scopes and store make the actor.
    ``X-Store: <store id>`` picks the current store for multi-store users. Each token may make
    ``AUTOCRM_API_RATE_TOKEN`` calls per window (429 with ``Retry-After`` beyond)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from .selectors import actor_build

        found = token_lookup(secret=token, rate="AUTOCRM_API_RATE_TOKEN")
        if found is None:
            return None
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


__all__ = [
    "BearerAuth",
    "CachedModelBackend",
    "bump_stores",
    "bump_token",
    "bump_user",
    "connect_signals",
    "token_lookup",
    "user_entry",
]
