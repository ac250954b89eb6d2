"""The suppression list kept by staff (issue 12 item 6): add an address by hand, lift one.

Unsubscribe replies and provider blacklists are added by the outbox (h/msgcore's receipts);
this module is the page's. An SMS address is kept as E.164 (``+8613812345678``), the form the
outbox sends to, so its blind index matches the message's."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, ValidationError
from autocrm.core.fields import blind_lookup
from autocrm.core.masking import mask_generic, mask_mobile
from autocrm.core.normalize import normalize_mobile
from autocrm.core.permissions import require, require_model
from autocrm.customers.services import timeline_record

from .choices import MessageChannel, SuppressionReason
from .models import Suppression

ADDRESS_CHANNELS = (MessageChannel.SMS, MessageChannel.EMAIL, MessageChannel.WECHAT, MessageChannel.MINIPROGRAM)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


def address_normalize(channel: str, address: str) -> str:
    """The address as the outbox sends to it; a ``ValidationError`` on ``address`` if it is none."""
    text = (address or "").strip()
    if channel == MessageChannel.SMS:
        digits = normalize_mobile(text)
        if not re.fullmatch(r"1[3-9]\d{9}", digits):
            raise ValidationError(fields={"address": [_("Enter an 11-digit mainland mobile number.")]})
        return f"+86{digits}"
    if channel == MessageChannel.EMAIL:
        if not _EMAIL.match(text) or len(text) > 254:
            raise ValidationError(fields={"address": [_("Enter an email address.")]})
        return text.lower()
    if not re.fullmatch(r"[A-Za-z0-9_-]{6,64}", text):
        raise ValidationError(fields={"address": [_("Enter the openid (letters, digits, - and _).")]})
    return text


def _display(channel: str, address: str) -> str:
    return mask_mobile(address) if channel == MessageChannel.SMS else mask_generic(address)


def active_suppression(*, store_id: int, channel: str, address: str) -> Suppression | None:
    """The suppression in force for an address of the store on a channel, if any."""
    return (
        Suppression.objects.filter(  # scoped: the store's own list
            store_id=store_id, channel=channel, lifted_at__isnull=True, **blind_lookup(Suppression, "address_index", address)
        )
        .order_by("-at")
        .first()
    )


@transaction.atomic
def suppression_add_manual(
    *,
    actor: Actor,
    channel: str,
    address: str = "",
    customer: Any = None,
    all_purposes: bool = False,
    source: str = "",
) -> Suppression:
    """Stop marketing (or, with ``all_purposes``, everything) to one address on one channel in
    the actor's store. With a ``customer`` (read in the actor's scope) and no address, their
    mobile or email is used. 409 when the address is suppressed already."""
    require_model(actor, "add", Suppression)
    store_id = actor.require_store_id()
    if channel not in [c.value for c in ADDRESS_CHANNELS]:
        raise ValidationError(fields={"channel": [_("Choose one of the listed values.")]})
    if customer is not None:
        require(actor, "view", customer)
        if customer.store_id != store_id:
            raise ValidationError(fields={"customer": [_("Choose a customer of this store.")]})
        if not address:
            address = customer.mobile if channel == MessageChannel.SMS else customer.email if channel == "email" else ""
    if not address:
        raise ValidationError(fields={"address": [_("Enter the address to suppress.")]})
    normalized = address_normalize(channel, address)
    if active_suppression(store_id=store_id, channel=channel, address=normalized) is not None:
        raise Conflict(_("This address is suppressed already."), fields={"address": [_("Suppressed already.")]})
    row = Suppression.objects.create(
        store_id=store_id,
        channel=channel,
        address=normalized,
        address_display=_display(channel, normalized),
        customer=customer,
        reason=SuppressionReason.MANUAL,
        all_purposes=bool(all_purposes),
        source=(str(source).strip() or actor.label)[:100],
    )
    if customer is not None:
        timeline_record(
            customer=customer, kind="messaging.suppressed",
            summary=f"{MessageChannel(channel).label} · {SuppressionReason.MANUAL.label}",
        )  # fmt: skip
    return row


@transaction.atomic
def suppression_lift(*, actor: Actor, suppression: Suppression) -> Suppression:
    """Lift a suppression (the customer asked again, or it was a mistake): messages go to the
    address again, consent permitting."""
    require(actor, "change", suppression)
    if suppression.lifted_at is None:
        suppression.lifted_at = timezone.now()
        suppression.save(update_fields=["lifted_at", "updated_at"])
        if suppression.customer_id:
            timeline_record(
                customer=suppression.customer_id, store_id=suppression.store_id, kind="messaging.suppression_lifted",
                summary=str(MessageChannel(suppression.channel).label),
            )  # fmt: skip
    return suppression
