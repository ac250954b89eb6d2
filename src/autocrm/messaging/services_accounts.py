"""Channel settings per store: provider accounts with encrypted credentials, and the store's
sending rules (issue 12 item 1's "credentials per store", the settings page of item 6).

A provider's form is built from its client class's ``config_fields``
(``autocrm.channels.base.ConfigField``). Public fields are kept in ``public_config`` and shown;
secret fields are kept as one JSON object in ``secret_config`` (an ``EncryptedTextField``:
AES-GCM at rest) and are never shown again: a blank secret on a later save keeps the stored
one, a new value replaces it. The audit trail records which secrets were replaced, never their
values. Each account has a generated callback secret that goes into the callback URL given to
the provider's console (``callback_url``).

Only the store manager and the administrator change these (``permissions.py``)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit
from autocrm.core.actor import Actor
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.permissions import require, require_model

from .choices import MessageChannel
from .models import ChannelAccount, MessagingSettings

DEFAULT_UNSUBSCRIBE = "拒收请回复R"


@dataclass(frozen=True)
class ProviderInfo:
    """What the settings page knows of one provider (from its registered client class)."""

    name: str
    label: Any
    channel: str
    fields: tuple[Any, ...]


def provider_infos() -> dict[str, ProviderInfo]:
    """Every registered provider (``autocrm.channels.base.providers()``), by name."""
    from autocrm.channels.base import providers

    return {
        name: ProviderInfo(name, getattr(cls, "label", name), cls.channel, tuple(cls.config_fields))
        for name, cls in sorted(providers().items())
    }


def settings_for(store_id: int) -> MessagingSettings:
    """The store's sending rules; the defaults (unsaved) when it has none yet."""
    found = MessagingSettings.objects.filter(store_id=store_id).first()  # scoped: the store's own row
    return found if found is not None else MessagingSettings(store_id=store_id)


def secrets_of(account: ChannelAccount) -> dict[str, str]:
    """The decrypted secret settings (for the outbox building a client; never for a page)."""
    if not account.secret_config:
        return {}
    try:
        data = json.loads(account.secret_config)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def client_config(account: ChannelAccount) -> dict[str, str]:
    """Public and secret settings together, as a provider client takes them."""
    return {**{str(k): str(v) for k, v in (account.public_config or {}).items()}, **secrets_of(account)}


def secret_names_saved(account: ChannelAccount) -> set[str]:
    return {k for k, v in secrets_of(account).items() if v}


def callback_path(account: ChannelAccount) -> str:
    """The callback path to give the provider's console: the provider, the account and its
    generated secret (``/api/v1/channels/<provider>/callback``, h/msgcore's endpoint)."""
    return f"/api/v1/channels/{account.provider}/callback?account={account.pk}&secret={account.callback_secret}"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@transaction.atomic
def channel_account_save(
    *,
    actor: Actor,
    provider: str,
    data: Mapping[str, Any],
    account: ChannelAccount | None = None,
) -> ChannelAccount:
    """Create the store's account with ``provider`` or change one.

    ``data`` holds the provider's config fields by name plus ``name``, ``endpoint`` and
    ``is_default``. A required field left empty is a 400 naming it — a secret only when none is
    stored yet (blank keeps the saved one). Becoming the default for its channel takes the
    default from the store's other account of that channel. Audited: the public settings as a
    change, the names (never the values) of the secrets replaced."""
    infos = provider_infos()
    if account is None:
        require_model(actor, "add", ChannelAccount)
        store_id = actor.require_store_id()
    else:
        require(actor, "change", account)
        store_id = account.store_id
        provider = account.provider
    info = infos.get(provider)
    if info is None:
        raise ValidationError(fields={"provider": [_("Choose one of the listed providers.")]})
    stored = secrets_of(account) if account is not None else {}
    errors: dict[str, list[Any]] = {}
    public: dict[str, str] = {}
    secret_values = dict(stored)
    replaced: list[str] = []
    for field in info.fields:
        value = _text(data.get(field.name))
        if len(value) > 2000 or "\x00" in value:
            errors.setdefault(field.name, []).append(_("At most 2,000 characters, without NUL."))
            continue
        if field.secret:
            if value:
                if stored.get(field.name) != value:
                    replaced.append(field.name)
                secret_values[field.name] = value
            elif field.required and not stored.get(field.name):
                errors.setdefault(field.name, []).append(_("This field is required."))
        else:
            if field.required and not value:
                errors.setdefault(field.name, []).append(_("This field is required."))
            public[field.name] = value
    name = _text(data.get("name"))[:60]
    endpoint = _text(data.get("endpoint"))
    if endpoint and not (endpoint.startswith("https://") or endpoint.startswith("http://")):
        errors.setdefault("endpoint", []).append(_("Enter a URL starting with https://."))
    if len(endpoint) > 200:
        errors.setdefault("endpoint", []).append(_("At most %(n)d characters.") % {"n": 200})
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    is_default = data.get("is_default", True)
    is_default = is_default if isinstance(is_default, bool) else str(is_default).lower() in ("1", "true", "on", "yes")
    obj = account if account is not None else ChannelAccount(store_id=store_id, provider=provider)
    obj.channel = info.channel
    obj.name = name
    obj.public_config = public
    obj.secret_config = json.dumps(secret_values, ensure_ascii=False, sort_keys=True) if secret_values else ""
    obj.endpoint = endpoint
    if not obj.callback_secret:
        obj.callback_secret = secrets.token_urlsafe(24)
    if is_default:
        others = ChannelAccount.objects.filter(  # scoped: the same store's accounts of the channel
            store_id=store_id, channel=info.channel, is_default=True
        )
        if obj.pk:
            others = others.exclude(pk=obj.pk)
        for other in others:
            other.is_default = False
            other.save(update_fields=["is_default", "updated_at"])
    obj.is_default = is_default
    obj.save()
    if replaced:
        audit.record(
            "messaging.secrets_replaced",
            obj=obj,
            actor=actor,
            extra={"provider": provider, "fields": sorted(replaced)},
        )
    return obj


@transaction.atomic
def channel_account_deactivate(*, actor: Actor, account: ChannelAccount) -> ChannelAccount:
    """Stop using an account (kept for the messages that went through it)."""
    require(actor, "change", account)
    account.is_active = False
    account.is_default = False
    account.save(update_fields=["is_active", "is_default", "updated_at"])
    return account


@transaction.atomic
def channel_account_new_callback_secret(*, actor: Actor, account: ChannelAccount) -> ChannelAccount:
    """Generate a new callback secret (the old URL stops working at once)."""
    require(actor, "change", account)
    account.callback_secret = secrets.token_urlsafe(24)
    account.save(update_fields=["callback_secret", "updated_at"])
    audit.record("messaging.callback_secret_replaced", obj=account, actor=actor, extra={"provider": account.provider})
    return account


def channel_account_test(*, actor: Actor, account: ChannelAccount, to: str) -> Any:
    """Send one test message to ``to`` straight through the provider (outside the outbox, for
    the manager checking the credentials). Returns the provider's ``SendResult``; a refusal is a
    400 carrying the provider's code."""
    from autocrm.channels.base import ChannelError, Outgoing, client_class

    require(actor, "change", account)
    to = _text(to)
    if not to or len(to) > 200:
        raise ValidationError(fields={"to": [_("Enter where to send the test message.")]})
    try:
        cls = client_class(account.provider)
    except LookupError:
        raise ValidationError(fields={"provider": [_("This provider is not installed.")]}) from None
    client = cls(client_config(account), endpoint=account.endpoint or None)
    try:
        result = client.send(
            Outgoing(message_id=secrets.token_hex(16), to=to, subject="autocrm", text=str(_("autocrm test message")))
        )
    except ChannelError as exc:
        raise ValidationError(
            _("The provider refused: %(code)s %(message)s") % {"code": exc.code, "message": exc.message},
            fields={"to": [f"{exc.code} {exc.message}".strip()]},
        ) from None
    finally:
        client.close()
    audit.record("messaging.channel_tested", obj=account, actor=actor, extra={"provider": account.provider})
    return result


# --- the store's sending rules ------------------------------------------------------------------


def _time(value: Any, name: str, errors: dict[str, list[Any]]) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(_text(value))
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a time as HH:MM."))
        return None


@transaction.atomic
def messaging_settings_save(*, actor: Actor, data: Mapping[str, Any]) -> MessagingSettings:
    """Save the current store's sending window, weekly marketing cap, unsubscribe text and
    approved SMS signature. 400 naming each bad field (window closing before it opens, a cap
    outside 0–50, an empty unsubscribe text, 【】 in the signature)."""
    store_id = actor.require_store_id()
    current = settings_for(store_id)
    if current.pk:
        require(actor, "change", current)
    else:
        require_model(actor, "add", MessagingSettings)
    errors: dict[str, list[Any]] = {}
    start = _time(data.get("window_start", current.window_start), "window_start", errors)
    end = _time(data.get("window_end", current.window_end), "window_end", errors)
    if start is not None and end is not None and end <= start:
        errors.setdefault("window_end", []).append(_("The window closes after it opens."))
    cap_raw = data.get("marketing_weekly_cap", current.marketing_weekly_cap)
    cap = None
    try:
        cap = int(cap_raw)
        if not 0 <= cap <= 50:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault("marketing_weekly_cap", []).append(_("Choose between 0 and 50."))
    unsubscribe = _text(data.get("unsubscribe_text", current.unsubscribe_text))
    if not unsubscribe or len(unsubscribe) > 30:
        errors.setdefault("unsubscribe_text", []).append(
            _("Marketing SMS must end with an unsubscribe text (at most 30 characters), e.g. 拒收请回复R.")
        )
    signature = _text(data.get("sms_signature", current.sms_signature))
    if any(c in signature for c in "【】[]") or len(signature) > 20:
        errors.setdefault("sms_signature", []).append(
            _("The signature as the provider approved it, without 【】 (at most 20 characters).")
        )
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    if not current.pk and store_id != actor.store_id:
        raise PermissionDenied()
    current.window_start = start
    current.window_end = end
    current.marketing_weekly_cap = cap
    current.unsubscribe_text = unsubscribe
    current.sms_signature = signature
    current.save()
    return current


def default_account(*, store_id: int, channel: str) -> ChannelAccount | None:
    """The store's active default account for ``channel`` (for the outbox and notifications)."""
    if channel not in MessageChannel.values:
        return None
    return (
        ChannelAccount.objects.filter(  # scoped: the store's own configuration
            store_id=store_id, channel=channel, is_active=True
        )
        .order_by("-is_default", "-id")
        .first()
    )
