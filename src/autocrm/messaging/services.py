"""Writes of the outbox: queue a message (in the caller's transaction), suppress an address,
withdraw marketing consent on the system's behalf, count a short link's click.

``message_queue`` is what every module calls — "a task now, a message later" never appears:
the message row is written in the same transaction as its cause, with an idempotency key
(``appointment-reminder:<id>``: the same key twice is one message), and its delivery is queued
to the worker only once that transaction commits (``transaction.on_commit``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.masking import mask_mobile
from autocrm.core.permissions import can, require_model
from autocrm.core.roles import Role
from autocrm.customers.models import Customer
from autocrm.customers.services import consent_withdraw, timeline_record

from .choices import MessageChannel, MessageStatus, Purpose, SuppressionReason
from .models import (
    ChannelAccount,
    Message,
    MessageTemplate,
    NotificationPreference,
    ShortLink,
    Suppression,
    WeChatBinding,
    new_uid,
)
from .permissions import SEND_ACTION
from .policy import CONSENT_CHANNEL, CONSENT_PURPOSE, PolicyContext

#: When the caller names no channel: the customer's preferred one first (if consented), then these.
FALLBACK_ORDER = (MessageChannel.WECHAT, MessageChannel.MINIPROGRAM, MessageChannel.SMS, MessageChannel.EMAIL)
MAX_KEY = 200


def system_actor(store_id: int, organization_id: int | None = None) -> Actor:
    """The outbox acting on its own (a provider's blacklist error, an unsubscribe reply): no user,
    the store manager's rights in that one store, labelled ``system`` in the audit trail. Core has
    no system actor; this one never leaves messaging and is built only by the worker and the
    callback handler, never from a request."""
    if organization_id is None:
        from autocrm.tenancy.models import Store

        organization_id = Store.objects.values_list("organization_id", flat=True).get(pk=store_id)
    return Actor(
        user=None,
        organization_id=organization_id,
        store_id=store_id,
        role=Role.MANAGER,
        organization_store_ids=(store_id,),
        member_store_ids=(store_id,),
    )


def _store_id(store: Any) -> int:
    return int(store if isinstance(store, int) else store.pk)


def _clean_text(name: str, value: Any, limit: int, errors: dict[str, list[Any]]) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.setdefault(name, []).append(_("The text contains a NUL character."))
    elif len(text) > limit:
        errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": limit})
    return text


def address_for(*, customer: Customer | None, user: Any, channel: str, store_id: int) -> str:
    """The customer's (or staff member's) address on ``channel``: mobile, openid, email, user id."""
    if channel == MessageChannel.INBOX:
        return str(user.pk) if user is not None else ""
    if channel == MessageChannel.WECOM:
        if user is None:
            return ""
        pref = NotificationPreference.objects.filter(user=user).exclude(wecom_userid="").first()
        return pref.wecom_userid if pref else ""
    if customer is None:
        return ""
    if channel in (MessageChannel.SMS, MessageChannel.CONSOLE):
        return customer.mobile or ""
    if channel == MessageChannel.EMAIL:
        return customer.email or ""
    if channel in (MessageChannel.WECHAT, MessageChannel.MINIPROGRAM):
        binding = (
            WeChatBinding.objects.filter(customer=customer, account__channel=channel, account__is_active=True)
            .order_by("-id")
            .first()
        )
        return binding.openid if binding else ""
    return ""


def account_for(*, store_id: int, channel: str) -> ChannelAccount | None:
    """The store's default active account for ``channel`` (None: nothing configured)."""
    return (
        ChannelAccount.objects.filter(store_id=store_id, channel=channel, is_active=True)
        .order_by("-is_default", "id")
        .first()
    )


def channel_choose(*, customer: Customer, purpose: str, store_id: int) -> str:
    """The channel for a customer when the caller names none: the preferred channel if the
    customer consented to ``purpose`` on it and has an address there, else the first of
    :data:`FALLBACK_ORDER` that qualifies, else SMS (the check at send time then records why
    it is not sent)."""
    ctx = PolicyContext()
    ctx.load(store_id=store_id, customer_ids=[customer.pk], now=timezone.now())
    consent_purpose = CONSENT_PURPOSE.get(Purpose(purpose))
    order: list[str] = []
    if customer.preferred_channel:
        order += [
            c for c in MessageChannel.values if CONSENT_CHANNEL.get(MessageChannel(c)) == customer.preferred_channel
        ]
    order += [c for c in FALLBACK_ORDER if c not in order]
    for channel in order:
        consent_channel = CONSENT_CHANNEL.get(MessageChannel(channel))
        if consent_purpose and not ctx.consents.get((customer.pk, consent_purpose, consent_channel or ""), False):
            continue
        if not address_for(customer=customer, user=None, channel=channel, store_id=store_id):
            continue
        if account_for(store_id=store_id, channel=channel) is None:
            continue
        return channel
    return MessageChannel.SMS


def template_find(*, store_id: int, code: str, channel: str, language: str = "zh-hans") -> MessageTemplate | None:
    rows = MessageTemplate.objects.filter(store_id=store_id, code=code, channel=channel, is_active=True)
    return rows.filter(language=language).first() or rows.order_by("id").first()


def _mask(channel: str, to: str) -> str:
    if not to:
        return ""
    if channel in (MessageChannel.SMS, MessageChannel.CONSOLE) and to.lstrip("+").isdigit():
        return mask_mobile(to)
    if channel == MessageChannel.EMAIL and "@" in to:
        local, _sep, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"[:80]
    return (to[:4] + "***" + to[-2:])[:80] if len(to) > 8 else "***"


def _enqueue(message_id: int, not_before: Any = None) -> None:
    """After the commit: wake the delivery loop (a coalesced kick; in immediate mode this
    message is delivered here and now), or schedule a kick for a message held till later."""
    from .tasks import kick

    if not_before is not None and not_before > timezone.now():
        kick(at=not_before)
    else:
        kick(ids=[message_id])


@transaction.atomic
def message_queue(
    *,
    actor: Actor | None,
    store: Any,
    purpose: str,
    channel: str | None,
    template_code: str | None = None,
    template: MessageTemplate | None = None,
    customer: Customer | None = None,
    user: Any = None,
    to: str | None = None,
    values: Mapping[str, Any] | None = None,
    idempotency_key: str,
    cause: models.Model | None = None,
    text: str | None = None,
    subject: str = "",
    personalised: bool = False,
    track_links: bool = False,
) -> Message:
    """Put one message in the outbox, in the caller's transaction; deliver it after the commit.

    Guarantees: the same ``(store, idempotency_key)`` returns the message already queued (even
    when two transactions race: the unique constraint decides, the loser reads the winner's);
    bad input is a :class:`ValidationError` naming the field and nothing is written; with an
    ``actor`` the purpose must be one the actor's role may send (403) to a customer in its scope
    (404). Consent, the window and the caps are **not** final here: the worker checks them
    again right before the provider call (``policy.check``). ``channel=None`` chooses the
    customer's channel (:func:`channel_choose`). ``track_links``: a ``link`` value becomes a
    tracked short link (``/s/<code>``)."""
    store_id = _store_id(store)
    values = dict(values or {})
    errors: dict[str, list[Any]] = {}
    key = _clean_text("idempotency_key", idempotency_key, MAX_KEY, errors).strip()
    if not key and "idempotency_key" not in errors:
        errors["idempotency_key"] = [_("This field is required.")]
    if purpose not in Purpose.values:
        errors["purpose"] = [_("Choose one of the listed values.")]
    if channel is not None and channel not in MessageChannel.values:
        errors["channel"] = [_("Choose one of the listed values.")]
    if customer is not None and customer.store_id != store_id:
        errors["customer"] = [_("The customer belongs to another store.")]
    body_text = _clean_text("text", text, 2000, errors) if text is not None else None
    subject = _clean_text("subject", subject, 200, errors)
    for name, value in values.items():
        if "\x00" in str(value):
            errors.setdefault(name, []).append(_("The text contains a NUL character."))
    if errors:
        raise ValidationError(fields=errors)
    if actor is not None:
        action = SEND_ACTION.get(purpose)
        if action is None:
            raise ValidationError(fields={"purpose": [_("This purpose is sent by the system only.")]})
        require_model(actor, action, Message)
        if customer is not None and not can(actor, "view", customer):
            from autocrm.core.errors import NotFound

            raise NotFound()
    existing = Message.objects.filter(store_id=store_id, idempotency_key=key).first()
    if existing is not None:
        return existing
    if channel is None:
        if customer is None:
            raise ValidationError(fields={"channel": [_("Name a channel for a message without a customer.")]})
        channel = channel_choose(customer=customer, purpose=purpose, store_id=store_id)
    if template is None and template_code:
        template = template_find(store_id=store_id, code=template_code, channel=channel)
        if template is None and body_text is None:
            raise ValidationError(fields={"template_code": [_("No active template with this code for the channel.")]})
    if template is not None:
        if template.store_id != store_id:
            raise ValidationError(fields={"template": [_("The template belongs to another store.")]})
        if template.purpose != purpose:
            raise ValidationError(fields={"template": [_("The template is for another purpose.")]})
    if template is None and body_text is None:
        raise ValidationError(fields={"template_code": [_("Give a template or a text.")]})
    address = (to or "").strip() or address_for(customer=customer, user=user, channel=channel, store_id=store_id)
    if "\x00" in address or len(address) > 200:
        raise ValidationError(fields={"to": [_("Enter a valid address.")]})
    account = account_for(store_id=store_id, channel=channel)
    message = Message(
        store_id=store_id,
        uid=new_uid(),
        idempotency_key=key,
        customer=customer,
        user=user,
        template=template,
        account=account,
        purpose=purpose,
        channel=channel,
        provider=account.provider if account else "",
        to=address,
        to_display=_mask(channel, address),
        variables={k: str(v)[:500] for k, v in values.items()},
        subject=subject,
        text=body_text or "",
        personalised=bool(personalised),
        cause_type=cause._meta.label_lower if cause is not None else "",
        cause_id=str(cause.pk)[:64] if cause is not None else "",
        created_by=actor.user if actor is not None and actor.user_id else None,
    )
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the caller's transaction usable
            message.save(force_insert=True)
    except IntegrityError:
        winner = Message.objects.filter(store_id=store_id, idempotency_key=key).first()
        if winner is None:
            raise
        return winner
    if track_links and values.get("link"):
        link = shortlink_create(message=message, url=str(values["link"]))
        message.variables = {**message.variables, "link": link}
        message.save(update_fields=["variables", "updated_at"])
    # An early answer for the caller (the API says "suppressed: no consent" at once); the worker
    # checks again right before the provider call, so a later withdrawal still stops it.
    from .policy import check

    decision = check(message, now=timezone.now())
    if decision.kind == "suppress":
        suppression_record(message=message, reason=decision.reason, text=decision.text)
        return message
    if decision.kind == "hold" and decision.hold_until is not None:
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.HELD, not_before=decision.hold_until)
        message.status, message.not_before = MessageStatus.HELD, decision.hold_until
    message_id, not_before = message.pk, message.not_before
    transaction.on_commit(lambda: _enqueue(message_id, not_before))
    return message


# --- short links ---------------------------------------------------------------------------------


def _public_base() -> str:
    from django.conf import settings

    return str(getattr(settings, "AUTOCRM_PUBLIC_URL", "") or "").rstrip("/")


def shortlink_create(*, message: Message, url: str) -> str:
    """A tracked ``/s/<code>`` for ``url`` in ``message``; returns the short URL."""
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["http", "https"])(url)
    except Exception:
        raise ValidationError(fields={"link": [_("Enter a valid URL.")]}) from None
    for _try in range(5):
        code = secrets.token_urlsafe(6)[:8]
        try:
            with transaction.atomic():
                ShortLink.objects.create(store_id=message.store_id, code=code, message=message, url=url[:500])
            break
        except IntegrityError:  # pragma: no cover - 48 bits of randomness
            continue
    return f"{_public_base()}/s/{code}"


@transaction.atomic
def shortlink_click(*, code: str) -> str | None:
    """Count one click on ``/s/<code>``; the first click goes on the customer's timeline.
    Returns the target URL (None: unknown code)."""
    if not code or len(code) > 16 or not code.replace("-", "").replace("_", "").isalnum():
        return None
    link = ShortLink.objects.select_for_update().filter(code=code).select_related("message").first()
    if link is None:
        return None
    first = link.first_clicked_at is None
    ShortLink.objects.filter(pk=link.pk).update(
        clicks=F("clicks") + 1, first_clicked_at=link.first_clicked_at or timezone.now()
    )
    if first and link.message.customer_id:
        timeline_record(
            customer=link.message.customer_id,
            kind="message.clicked",
            summary=link.url[:300],
            store_id=link.store_id,
            obj=link.message,
        )
    return link.url


# --- suppressions and consent on the system's behalf ---------------------------------------------


def suppression_add(
    *,
    store_id: int,
    channel: str,
    address: str,
    reason: str,
    customer: Customer | None = None,
    source: str = "",
    all_purposes: bool = False,
) -> Suppression:
    """Put an address on the suppression list (once: an entry in force is returned as is)."""
    index = Suppression._meta.get_field("address_index").compute(address)
    current = Suppression.objects.filter(
        store_id=store_id, channel=channel, address_index=index, lifted_at__isnull=True
    ).first()
    if current is not None:
        return current
    return Suppression.objects.create(
        store_id=store_id,
        channel=channel,
        address=address,
        address_display=_mask(channel, address),
        customer=customer,
        reason=reason,
        all_purposes=all_purposes,
        source=source[:100],
    )


def marketing_withdraw(*, customer: Customer, channel: str, source: str) -> None:
    """Withdraw the customer's marketing consent on ``channel`` (the consent channel of a message
    channel), on the system's behalf."""
    consent_channel = CONSENT_CHANNEL.get(MessageChannel(channel)) if channel in MessageChannel.values else None
    if consent_channel is None:
        return
    actor = system_actor(customer.store_id)
    consent_withdraw(actor=actor, customer=customer, purpose="marketing", channel=consent_channel, source=source)


def suppression_record(*, message: Message, reason: str, text: Any) -> None:
    """Mark ``message`` suppressed with its reason, and say so on the customer's timeline."""
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SUPPRESSED,
        reason=str(reason)[:20],
        reason_text=str(text)[:300],
        claimed_by="",
        updated_at=timezone.now(),
    )
    message.status, message.reason, message.reason_text = MessageStatus.SUPPRESSED, reason, str(text)[:300]
    if message.customer_id:
        timeline_record(
            customer=message.customer_id,
            kind="message.suppressed",
            summary=f"{MessageChannel(message.channel).label} · {SuppressionReason(reason).label if reason in SuppressionReason.values else reason}: {text}"[
                :300
            ],
            store_id=message.store_id,
            obj=message,
        )


__all__ = [
    "FALLBACK_ORDER",
    "message_queue",
    "shortlink_click",
    "shortlink_create",
    "suppression_add",
    "system_actor",
]
