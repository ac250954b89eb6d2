"""Reads of the outbox: the message log (keyset pages), one message with its attempts, the
suppression list. Every read starts from ``for_actor``: a consultant sees the messages of their
own customers, the desks the store's, directors the organization's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import require_model

from .choices import MessageChannel, MessageStatus, Purpose
from .models import Message, MessageAttempt, Suppression

FILTERS = ("customer", "status", "channel", "purpose")


def _filtered(actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Message]:
    require_model(actor, "view", Message)
    qs = Message.objects.for_actor(actor, "view").select_related("customer")
    errors: dict[str, list[Any]] = {}
    for name, choices in (("status", MessageStatus), ("channel", MessageChannel), ("purpose", Purpose)):
        value = filters.get(name)
        if value in (None, ""):
            continue
        if value not in choices.values:
            errors[name] = [_("Choose one of the listed values.")]
        else:
            qs = qs.filter(**{name: value})
    customer = filters.get("customer")
    if customer not in (None, ""):
        try:
            customer_id = int(customer)
            if not 0 < customer_id < 2**63:
                raise ValueError
        except (TypeError, ValueError):
            errors["customer"] = [_("Enter a whole number.")]
        else:
            qs = qs.filter(customer_id=customer_id)
    if errors:
        raise ValidationError(fields=errors)
    return qs


def message_list(
    *, actor: Actor, filters: Mapping[str, Any] | None = None, limit: Any = None, cursor: Any = None
) -> Page:
    """The message log, newest first, keyset paginated (no count). Filters: ``customer`` (id),
    ``status``, ``channel``, ``purpose``; a bad value is a 400 naming it."""
    return paginate(_filtered(actor, filters or {}), ordering=("-id",), limit=limit, cursor=cursor)


def message_get(*, actor: Actor, uid: str) -> Message:
    """One message in scope by its ``uid``, with ``attempt_list`` (oldest first); 404 otherwise."""
    require_model(actor, "view", Message)
    if not isinstance(uid, str) or len(uid) != 32 or any(c not in "0123456789abcdef" for c in uid):
        raise NotFound()
    message = (
        Message.objects.for_actor(actor, "view")
        .select_related("customer", "template")
        .prefetch_related(
            Prefetch("attempt_set", queryset=MessageAttempt.objects.order_by("at", "id"), to_attr="attempt_list")
        )
        .filter(uid=uid)
        .first()
    )
    if message is None:
        raise NotFound()
    return message


def suppression_list(*, actor: Actor, limit: Any = None, cursor: Any = None, channel: str = "") -> Page:
    """The store's suppression list in force, newest first."""
    require_model(actor, "view", Suppression)
    qs = Suppression.objects.for_actor(actor, "view").filter(lifted_at__isnull=True)
    if channel:
        if channel not in MessageChannel.values:
            raise ValidationError(fields={"channel": [_("Choose one of the listed values.")]})
        qs = qs.filter(channel=channel)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def message_key_used(*, actor: Actor, idempotency_key: str) -> bool:
    """Has the actor's store a message with this idempotency key already (the API's 200 vs 201)?
    Store-wide on purpose: a key is unique per store whoever queued it."""
    store_id = actor.require_store_id()
    # scoped: the key's uniqueness is per store; only a yes/no leaves, never the row
    return Message.objects.filter(store_id=store_id, idempotency_key=idempotency_key[:200]).exists()
