"""Writes for accounts: sign-in with lock-out, API tokens, second factor, users and roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit
from autocrm.core.actor import Actor
from autocrm.core.cache import counter_hit, counter_peek, counter_reset
from autocrm.core.errors import NotFound, PermissionDenied, RateLimited, Unauthenticated, ValidationError
from autocrm.core.roles import MANAGER_ROLES, ORGANIZATION_ROLES, Role

from .auth import TOKEN_PREFIX, bump_token, token_hash, token_lookup
from .choices import UserKind
from .models import ApiToken, LoginAttempt, Membership, User

KNOWN_SCOPES = frozenset(
    f"{resource}:{mode}"
    for resource in (
        "customers", "vehicles", "leads", "sales", "service", "parts", "care", "loyalty",
        "marketing", "analytics", "stores", "accounts", "audit", "integrations",
    )
    for mode in ("read", "write")
)  # fmt: skip


def _lockout_key(username: str) -> str:
    return "autocrm:lockout:" + hashlib.sha256(username.encode()).hexdigest()


def login_locked_until(username: str) -> dt.datetime | None:
    """When the lock on ``username`` ends, or None. Locked after AUTOCRM_LOCKOUT_FAILURES
    failures since the last successful sign-in, each within AUTOCRM_LOCKOUT_MINUTES of the one
    before; the lock ends that many minutes after the last failure. Counted in the shared cache
    (one round trip, every process sees the same count); ``LoginAttempt`` keeps the log."""
    count, expires = counter_peek(_lockout_key(username))
    if count < settings.AUTOCRM_LOCKOUT_FAILURES:
        return None
    return dt.datetime.fromtimestamp(expires, tz=dt.UTC)


def _login_failed(username: str, ip: str | None) -> None:
    LoginAttempt.objects.create(username=username, ip=ip, success=False)
    counter_hit(_lockout_key(username), timeout=settings.AUTOCRM_LOCKOUT_MINUTES * 60, sliding=True)


def login_authenticate(*, username: str, password: str, ip: str | None, request: Any = None) -> User:
    """Check a username and password, with lock-out.

    After AUTOCRM_LOCKOUT_FAILURES failures within AUTOCRM_LOCKOUT_MINUTES the account is locked
    for that long, even for the right password. Every attempt is recorded."""
    username = (username or "").strip()
    locked_until = login_locked_until(username)
    if locked_until is not None:
        _login_failed(username, ip)
        audit.record("login.locked", extra={"username": username}, object_type="accounts.user", object_repr=username)
        minutes = max(1, int((locked_until - timezone.now()).total_seconds() // 60) + 1)
        raise RateLimited(
            _("Too many failed sign-ins. This account is locked; try again in %(minutes)s minutes.")
            % {"minutes": minutes},
            retry_after=minutes * 60,
        )
    user = authenticate(request, username=username, password=password)
    if user is None or getattr(user, "kind", UserKind.STAFF) != UserKind.STAFF:
        _login_failed(username, ip)
        audit.record("login.failed", extra={"username": username}, object_type="accounts.user", object_repr=username)
        raise Unauthenticated(_("The username or password is not correct."))
    LoginAttempt.objects.create(username=username, ip=ip, success=True)
    counter_reset(_lockout_key(username))  # a success starts the count again
    return user


def login_record_success(*, user: User, ip: str | None) -> None:
    """The audit line of a successful sign-in, attributed to the user who signed in."""
    actor = Actor(user=user, organization_id=user.organization_id, store_id=None, role=None, ip=ip)
    audit.record("login", obj=user, actor=actor, extra={"ip": ip}, organization_id=user.organization_id)


# --- API tokens -------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return token_hash(secret)


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def token_issue_session(*, user: User) -> tuple[ApiToken, str]:
    """A short-lived token with the user's own rights, from ``POST /api/v1/auth/token``."""
    secret = _new_secret()
    token = ApiToken.objects.create(
        user=user,
        name="session",
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash(secret),
        scopes=["*"],
        expires_at=timezone.now() + dt.timedelta(hours=settings.AUTOCRM_API_TOKEN_HOURS),
        created_by=user,
    )
    return token, secret


@transaction.atomic
def token_create(
    *,
    actor: Actor,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int = 365,
    store_id: int | None = None,
) -> tuple[ApiToken, str]:
    """An administrator's token for an integration (or a user), scoped and expiring.

    The secret is returned once and never stored."""
    if actor.role != Role.ADMIN or user.organization_id != actor.organization_id:
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    if not name.strip():
        errors["name"] = [_("Give the token a name.")]
    unknown = sorted(set(scopes) - KNOWN_SCOPES - {"*"})
    if not scopes:
        errors["scopes"] = [_("Choose at least one scope.")]
    elif unknown:
        errors["scopes"] = [_("Unknown scope: %(scopes)s") % {"scopes": ", ".join(unknown)}]
    if not 1 <= expires_in_days <= 730:
        errors["expires_in_days"] = [_("A token expires within 1 to 730 days.")]
    if store_id is not None and store_id not in actor.organization_store_ids:
        errors["store"] = [_("Choose a store of your organization.")]
    if errors:
        raise ValidationError(_("The token could not be created."), fields=errors)
    secret = _new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        store_id=store_id,
        expires_at=timezone.now() + dt.timedelta(days=expires_in_days),
        created_by=actor.user,
    )
    audit.record(
        "token.create",
        obj=token,
        actor=actor,
        organization_id=actor.organization_id,
        extra={"scopes": token.scopes, "user": user.username},
    )
    return token, secret


def token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token matching ``secret`` (with its active user), or None. Only the hash is
    compared; warm, the shared cache answers (:func:`autocrm.accounts.auth.token_lookup`)."""
    return token_lookup(secret=secret)  # type: ignore[no-any-return]


def _revoke_tokens(tokens: Any, now: dt.datetime) -> int:
    """Revoke ``tokens`` (a queryset) in one statement; their cache entries die with them."""
    hashes = list(tokens.values_list("key_hash", flat=True))
    revoked = int(tokens.update(revoked_at=now))
    bump_token(*hashes)
    return revoked


@transaction.atomic
def token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user__organization_id=actor.require_organization_id()).first()
    if token is None:
        raise NotFound()
    if actor.role != Role.ADMIN and token.user_id != actor.user_id:
        raise PermissionDenied()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoke", obj=token, actor=actor, organization_id=actor.organization_id)
    return token


# --- second factor ------------------------------------------------------------------------

TOTP_ROLES = frozenset({*MANAGER_ROLES, Role.DIRECTOR, Role.ADMIN})


def totp_allowed(user: User) -> bool:
    return Membership.objects.filter(user=user, is_active=True, role__in=TOTP_ROLES).exists()


@transaction.atomic
def totp_begin(*, user: User) -> str:
    """Start enrolment: a fresh secret, not yet enforced until confirmed with a code."""
    if not totp_allowed(user):
        raise PermissionDenied(_("Two-factor sign-in is for managers, directors and administrators."))
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_enabled = False
    user.save(update_fields=["totp_secret", "totp_enabled"])
    return secret


def totp_verify(*, user: User, code: str) -> bool:
    if not user.totp_secret:
        return False
    return pyotp.TOTP(user.totp_secret).verify((code or "").strip(), valid_window=1)


@transaction.atomic
def totp_confirm(*, user: User, code: str) -> None:
    if not totp_verify(user=user, code=code):
        raise ValidationError(_("The code is not correct."), fields={"code": [_("The code is not correct.")]})
    user.totp_enabled = True
    user.save(update_fields=["totp_enabled"])


@transaction.atomic
def totp_disable(*, user: User, code: str) -> None:
    if not totp_verify(user=user, code=code):
        raise ValidationError(_("The code is not correct."), fields={"code": [_("The code is not correct.")]})
    user.totp_enabled = False
    user.totp_secret = ""
    user.save(update_fields=["totp_enabled", "totp_secret"])


def totp_uri(*, user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="autocrm")


# --- users and memberships (administration and demo) -------------------------------------------


@transaction.atomic
def user_create(
    *,
    organization_id: int,
    username: str,
    password: str | None,
    display_name: str = "",
    kind: str = UserKind.STAFF,
    email: str = "",
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError(fields={"username": [_("This username is taken.")]})
    user = User(
        username=username,
        organization_id=organization_id,
        display_name=display_name,
        kind=kind,
        email=email,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def membership_set(*, user: User, role: str, store_id: int | None) -> Membership:
    """Give ``user`` ``role`` in a store (or organization-wide for directors/administrators)."""
    if role not in Role.values:
        raise ValidationError(fields={"role": [_("Unknown role.")]})
    if (role in ORGANIZATION_ROLES) != (store_id is None):
        raise ValidationError(
            fields={"store": [_("Directors and administrators span the organization; other roles need a store.")]}
        )
    membership, _created = Membership.objects.update_or_create(
        user=user,
        store_id=store_id,
        defaults={"role": role, "organization_id": user.organization_id, "is_active": True},
    )
    if user.default_store_id is None and store_id is not None:
        user.default_store_id = store_id
        user.save(update_fields=["default_store"])
    return membership


@transaction.atomic
def integration_token_create(
    *,
    actor: Actor,
    username: str,
    integration_name: str | None = None,
    name: str,
    scopes: list[str],
    expires_in_days: int = 365,
    store_id: int | None = None,
) -> tuple[ApiToken, str]:
    """``POST /api/v1/api-tokens``: a token for the integration user ``username`` of the actor's
    organization (administrators only).

    With ``integration_name`` and no such user yet, the integration user is created first, with
    a store manager's role in the token's store (or in every store of the organization when the
    token is not pinned to one); the token's scopes then narrow what it may do. Nothing is
    written when any field is wrong; the secret is returned once."""
    if actor.role != Role.ADMIN or actor.organization_id is None:
        raise PermissionDenied()
    username = (username or "").strip()
    user = User.objects.filter(username=username, organization_id=actor.organization_id).first()
    if user is None and integration_name and integration_name.strip():
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            User.username_validator(username)
        except DjangoValidationError:
            raise ValidationError(
                _("The token could not be created."),
                fields={"user": [_("Use letters, digits and @ . + - _ only.")]},
            ) from None
        if store_id is not None and store_id not in actor.organization_store_ids:
            raise ValidationError(
                _("The token could not be created."), fields={"store": [_("Choose a store of your organization.")]}
            )
        if User.objects.filter(username=username).exists():
            raise ValidationError(_("The token could not be created."), fields={"user": [_("This username is taken.")]})
        user = user_create(
            organization_id=actor.organization_id,
            username=username,
            password=None,
            display_name=integration_name.strip()[:60],
            kind=UserKind.INTEGRATION,
        )
        for sid in [store_id] if store_id is not None else list(actor.organization_store_ids):
            membership_set(user=user, role=Role.MANAGER, store_id=sid)
        audit.record(
            "integration.create",
            obj=user,
            actor=actor,
            organization_id=actor.organization_id,
            extra={"store": store_id},
        )
    if user is None or user.kind != UserKind.INTEGRATION:
        raise ValidationError(
            _("The token could not be created."),
            fields={"user": [_("No integration user with this username in your organization.")]},
        )
    return token_create(
        actor=actor, user=user, name=name, scopes=scopes, expires_in_days=expires_in_days, store_id=store_id
    )


# --- administration of users, memberships and passwords (administrators only) ----------------


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN or actor.organization_id is None:
        raise PermissionDenied()


def _admin_user(actor: Actor, user_id: int) -> User:
    """A user of the administrator's own organization; another organization's looks missing."""
    _require_admin(actor)
    user = User.objects.select_for_update().filter(pk=user_id, organization_id=actor.require_organization_id()).first()
    if user is None:
        raise NotFound()
    return user


def _password_errors(password: str, user: User) -> list[Any]:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError

    if not password:
        return [_("Enter a password.")]
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def _check_store(actor: Actor, store_id: int | None) -> None:
    if store_id is not None and store_id not in actor.organization_store_ids:
        raise ValidationError(fields={"store": [_("Choose a store of your organization.")]})


@transaction.atomic
def admin_user_create(
    *,
    actor: Actor,
    username: str,
    display_name: str,
    email: str,
    password: str,
    role: str,
    store_id: int | None,
) -> User:
    """A staff user of the administrator's organization with a first membership. Nothing is
    written when any field is wrong."""
    _require_admin(actor)
    username = (username or "").strip()
    errors: dict[str, list[Any]] = {}
    if not username:
        errors["username"] = [_("Enter a username.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("This username is taken.")]
    password_errors = _password_errors(
        password, User(username=username, email=email, display_name=display_name, organization_id=actor.organization_id)
    )
    if password_errors:
        errors["password"] = password_errors
    if store_id is not None and store_id not in actor.organization_store_ids:
        errors["store"] = [_("Choose a store of your organization.")]
    if errors:
        raise ValidationError(_("The user could not be created."), fields=errors)
    user = user_create(
        organization_id=actor.require_organization_id(),
        username=username,
        password=password,
        display_name=(display_name or "").strip(),
        email=(email or "").strip(),
        kind=UserKind.STAFF,
    )
    membership_set(user=user, role=role, store_id=store_id)
    return user


@transaction.atomic
def admin_membership_set(*, actor: Actor, user_id: int, role: str, store_id: int | None) -> Membership:
    """Give a user of the organization ``role`` in a store (or organization-wide)."""
    user = _admin_user(actor, user_id)
    _check_store(actor, store_id)
    if user.pk == actor.user_id and not (role == Role.ADMIN and store_id is None):
        # store_id None is the organization-wide membership (IS NULL); django-stubs types lookups non-null.
        current = Membership.objects.filter(user=user, store_id=store_id, is_active=True).first()  # type: ignore[misc]
        if current is not None and current.role == Role.ADMIN:
            raise ValidationError(fields={"role": [_("You cannot remove your own administrator role.")]})
    return membership_set(user=user, role=role, store_id=store_id)


@transaction.atomic
def admin_membership_deactivate(*, actor: Actor, membership_id: int) -> Membership:
    _require_admin(actor)
    membership = (
        Membership.objects.select_for_update()
        .filter(pk=membership_id, organization_id=actor.require_organization_id())
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound()
    if membership.user_id == actor.user_id and membership.role == Role.ADMIN:
        raise ValidationError(_("You cannot remove your own administrator role."))
    if membership.is_active:
        membership.is_active = False
        membership.save(update_fields=["is_active"])
    return membership


@transaction.atomic
def user_set_active(*, actor: Actor, user_id: int, is_active: bool) -> User:
    """Deactivate (no sign-in, no API access) or reactivate a user. Administrators cannot
    deactivate themselves."""
    user = _admin_user(actor, user_id)
    if not is_active and user.pk == actor.user_id:
        raise ValidationError(_("You cannot deactivate your own account."))
    if user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def user_password_reset(*, actor: Actor, user_id: int, password: str) -> User:
    """An administrator sets a new password for a staff user; the user's active API tokens
    are revoked so old sessions stop working."""
    user = _admin_user(actor, user_id)
    if user.kind != UserKind.STAFF:
        raise ValidationError(fields={"password": [_("Integration users sign in with tokens, not passwords.")]})
    errors = _password_errors(password, user)
    if errors:
        raise ValidationError(_("The password was not changed."), fields={"password": errors})
    user.set_password(password)
    user.save(update_fields=["password"])
    now = timezone.now()
    revoked = _revoke_tokens(ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now), now)
    audit.record(
        "password.reset",
        obj=user,
        actor=actor,
        organization_id=actor.organization_id,
        extra={"tokens_revoked": revoked},
    )
    return user


# --- a user changes their own password ---------------------------------------------------------


def _has_nul(value: str) -> bool:
    return "\x00" in (value or "")


def password_change(
    *, actor: Actor, current_password: str, new_password: str, keep_token_id: int | None = None
) -> dict[str, int]:
    """The signed-in staff user sets a new password after giving the current one.

    Django's password validators apply (and the new one must differ from the current one). A
    wrong current password counts as a failed sign-in (so guessing it through this form meets
    the same lock-out), is audited, and changes nothing else: that check runs before the write's
    transaction so its record survives. On success, in one transaction, every active API token
    of the user is revoked except ``keep_token_id`` (the token making an API call: that session
    stays, like the browser session that changed it); other browser sessions end on their next
    request, because Django checks each session against the password hash. Audited as
    ``password.change``."""
    user = User.objects.filter(pk=actor.user_id, is_active=True).first() if actor.user_id is not None else None
    if user is None:
        raise Unauthenticated()
    if user.kind != UserKind.STAFF:
        raise ValidationError(
            _("The password was not changed."),
            fields={"new_password": [_("Integration users sign in with tokens, not passwords.")]},
        )
    nul = _("Null characters are not allowed.")
    errors: dict[str, list[Any]] = {}
    if not current_password:
        errors["current_password"] = [_("Enter your current password.")]
    elif _has_nul(current_password):
        errors["current_password"] = [nul]
    if _has_nul(new_password):
        errors["new_password"] = [nul]
    if errors:
        raise ValidationError(_("The password was not changed."), fields=errors)
    locked_until = login_locked_until(user.username)
    if locked_until is not None:
        minutes = max(1, int((locked_until - timezone.now()).total_seconds() // 60) + 1)
        raise RateLimited(
            _("Too many wrong passwords. Try again in %(minutes)s minutes.") % {"minutes": minutes},
            retry_after=minutes * 60,
        )
    if not user.check_password(current_password):
        _login_failed(user.username, actor.ip)
        audit.record_durable("password.change_failed", obj=user, actor=actor, organization_id=user.organization_id)
        raise ValidationError(
            _("The password was not changed."),
            fields={"current_password": [_("Your current password is not correct.")]},
        )
    new_errors = _password_errors(new_password, user)
    if not new_errors and new_password == current_password:
        new_errors = [_("Choose a password different from the current one.")]
    if new_errors:
        raise ValidationError(_("The password was not changed."), fields={"new_password": new_errors})
    return _password_set(actor=actor, user=user, new_password=new_password, keep_token_id=keep_token_id)


@transaction.atomic
def _password_set(*, actor: Actor, user: User, new_password: str, keep_token_id: int | None) -> dict[str, int]:
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    now = timezone.now()
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    if keep_token_id is not None:
        tokens = tokens.exclude(pk=keep_token_id)
    revoked = _revoke_tokens(tokens, now)
    audit.record(
        "password.change",
        obj=user,
        actor=actor,
        organization_id=user.organization_id,
        extra={"tokens_revoked": revoked, "kept_token": keep_token_id},
    )
    return {"tokens_revoked": revoked}
