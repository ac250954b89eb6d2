"""Provider callbacks: delivery receipts, inbound replies and mini-program grant events.

``POST /api/v1/channels/<provider>/callback?account=<id>&secret=<callback secret>`` (the URL a
store gives its provider; providers that sign their pushes verify with the same secret) →
:func:`callback_handle`:

* the account must exist, be active and be of that provider, and the client must accept the
  callback (``parse_callback`` verifies the secret or signature and the timestamp); otherwise
  :class:`Rejected` (403) and **nothing is changed**;
* a :class:`StatusReport` updates its message (found by our id, else by the provider's id, in
  the account's store): ``delivered`` / ``failed``; ``blacklisted`` → suppressed, a
  Suppression row, marketing consent withdrawn. The same receipt twice changes nothing more;
* an :class:`InboundReply` whose text is an unsubscribe word (R, T, TD, N, 退订, 取消, 拒收 —
  an exact match after trimming and case folding, full-width letters too) withdraws marketing
  consent on that channel for every customer of the store with that number, adds a Suppression
  row and a timeline entry; any other text is a timeline entry;
* a mini-program ``subscribe_msg_popup_event`` / ``subscribe_msg_change_event`` adds to (or
  empties) the SubscribeGrant ledger of (openid, template).

``GET`` on the same URL is the WeChat server check (``echostr``): answered by the client's
``verify_echo(query=..., secret=...)`` when it has one, else 403.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from autocrm.channels.base import CallbackAnswer, CallbackRejected, InboundReply, StatusReport, client_class
from autocrm.customers.models import Customer
from autocrm.customers.services import timeline_record

from .choices import AttemptOutcome, MessageChannel, MessageStatus, SuppressionReason
from .models import ChannelAccount, Message, MessageAttempt, SubscribeGrant, WeChatBinding

log = logging.getLogger("autocrm.messaging")

UNSUBSCRIBE_WORDS = frozenset({"r", "t", "td", "n", "退订", "取消", "拒收"})
MAX_BODY = 256 * 1024


class Rejected(Exception):
    """Forged, stale, unknown account or provider: answered 403, nothing changed."""


def is_unsubscribe(text: str) -> bool:
    """R, T, TD, N, 退订, 取消, 拒收 — exactly, after NFKC (full-width Ｒ → R), trim and case-fold."""
    word = unicodedata.normalize("NFKC", text or "").strip().casefold()
    return word in UNSUBSCRIBE_WORDS


def _account(provider: str, account_id: Any) -> ChannelAccount:
    try:
        pk = int(str(account_id))
        if not 0 < pk < 2**63:
            raise ValueError
    except (TypeError, ValueError):
        raise Rejected("account") from None
    account = ChannelAccount.objects.filter(pk=pk, provider=provider, is_active=True).first()
    if account is None:
        raise Rejected("account")
    return account


def _client(account: ChannelAccount) -> Any:
    from .outbox import client_for

    try:
        return client_for(account)
    except LookupError:
        raise Rejected("provider") from None


def known_provider(provider: str) -> bool:
    try:
        client_class(provider)
    except LookupError:
        return False
    return True


def callback_handle(
    *, provider: str, account_id: Any, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
) -> CallbackAnswer:
    """Verify and apply one provider callback (see the module docstring). Raises :class:`Rejected`."""
    if len(body) > MAX_BODY:
        raise Rejected("too large")
    account = _account(provider, account_id)
    client = _client(account)
    try:
        items = client.parse_callback(headers=headers, body=body, query=query, secret=account.callback_secret or "")
    except CallbackRejected as exc:
        raise Rejected(str(exc)) from None
    except Exception as exc:  # a client that trips over hostile input still changes nothing
        log.warning("callback of %s account %s refused: %r", provider, account.pk, exc)
        raise Rejected("unreadable") from None
    with transaction.atomic():
        for item in items:
            if isinstance(item, StatusReport):
                receipt_apply(account=account, report=item)
            elif isinstance(item, InboundReply):
                reply_apply(account=account, reply=item)
    return client.callback_answer()


def echo_handle(*, provider: str, account_id: Any, query: Mapping[str, str]) -> str:
    """The WeChat server check: the echo string when the signature over the account's token holds."""
    account = _account(provider, account_id)
    client = _client(account)
    verify = getattr(client, "verify_echo", None)
    if verify is None:
        raise Rejected("no echo check")
    try:
        echo = verify(query=query, secret=account.callback_secret or "")
    except CallbackRejected as exc:
        raise Rejected(str(exc)) from None
    except Exception:
        raise Rejected("unreadable") from None
    if not isinstance(echo, str):
        raise Rejected("no echo")
    return echo


def _find_message(account: ChannelAccount, report: StatusReport) -> Message | None:
    qs = Message.objects.select_related("customer").filter(store_id=account.store_id)
    if report.message_id and len(report.message_id) == 32:
        found = qs.filter(uid=report.message_id).first()
        if found is not None:
            return found
    if report.provider_id:
        return qs.filter(provider=account.provider, provider_id=str(report.provider_id)[:100]).first()
    return None


def receipt_apply(*, account: ChannelAccount, report: StatusReport) -> Message | None:
    """One receipt onto its message; idempotent (a receipt already applied changes nothing)."""
    message = _find_message(account, report)
    if message is None:
        return None
    code = str(report.code or report.status)[:80]
    if MessageAttempt.objects.filter(message=message, outcome=AttemptOutcome.RECEIPT, code=code).exists():
        return message
    now = timezone.now()
    if report.blacklisted:
        from .outbox import _blacklisted

        MessageAttempt.objects.create(
            store_id=message.store_id, message=message, outcome=AttemptOutcome.RECEIPT, code=code,
            detail=str(report.description)[:500], provider_id=str(report.provider_id)[:100],
        )  # fmt: skip
        _blacklisted(message, code)
        return message
    # A late receipt never moves a message back: delivered and failed are final.
    final = (MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.SUPPRESSED)
    if report.status == "delivered":
        Message.objects.filter(pk=message.pk).exclude(status__in=final).update(
            status=MessageStatus.DELIVERED, delivered_at=report.at or now, updated_at=now,
            provider_id=F("provider_id") if message.provider_id else str(report.provider_id)[:100],
        )  # fmt: skip
    elif report.status == "failed":
        Message.objects.filter(pk=message.pk).exclude(status__in=final).update(
            status=MessageStatus.FAILED, reason=code[:20], reason_text=str(report.description or code)[:300],
            updated_at=now,
        )  # fmt: skip
    MessageAttempt.objects.create(
        store_id=message.store_id, message=message, outcome=AttemptOutcome.RECEIPT, code=code,
        detail=str(report.description)[:500], provider_id=str(report.provider_id)[:100],
    )  # fmt: skip
    return message


def _customers_with(store_id: int, channel: str, sender: str) -> list[Customer]:
    if channel == MessageChannel.SMS:
        from autocrm.core.fields import blind_lookup

        try:
            lookup = blind_lookup(Customer, "mobile_index", sender)
        except Exception:  # an unparseable number matches nobody
            return []
        return list(Customer.objects.filter(store_id=store_id, **lookup)[:20])
    ids = WeChatBinding.objects.filter(store_id=store_id, openid=sender[:64]).values_list("customer_id", flat=True)
    return list(Customer.objects.filter(store_id=store_id, pk__in=list(ids)[:20]))


def reply_apply(*, account: ChannelAccount, reply: InboundReply) -> None:
    """An inbound reply: an unsubscribe word withdraws marketing consent; anything else goes on
    the timeline of the customers with that number; grant events feed the mini-program ledger."""
    from .services import marketing_withdraw, suppression_add

    if reply.event in ("subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event"):
        _grants_apply(account=account, reply=reply)
        return
    sender = str(reply.sender or "")[:200].replace("\x00", "")
    if not sender:
        return
    channel = account.channel
    customers = _customers_with(account.store_id, channel, sender)
    text = unicodedata.normalize("NFKC", str(reply.text or "")).replace("\x00", "")[:300]
    if is_unsubscribe(text):
        suppression_add(
            store_id=account.store_id, channel=channel, address=sender, reason=SuppressionReason.UNSUBSCRIBED,
            customer=customers[0] if customers else None, source=f"{account.provider}:reply",
        )  # fmt: skip
        for customer in customers:
            marketing_withdraw(customer=customer, channel=channel, source=f"{account.provider}:reply")
            timeline_record(customer=customer, kind="message.unsubscribed", summary=text, store_id=customer.store_id)
        return
    for customer in customers:
        timeline_record(customer=customer, kind="message.reply", summary=text, store_id=customer.store_id)


def _grants_apply(*, account: ChannelAccount, reply: InboundReply) -> None:
    """WeChat's subscribe events: ``accept`` adds one send of that template to the ledger;
    ``reject`` (or a ``ban``) empties it."""
    openid = str(reply.sender or "")[:64]
    items = reply.data.get("list") if isinstance(reply.data, Mapping) else None
    if not openid or not isinstance(items, list):
        return
    for item in items[:20]:
        if not isinstance(item, Mapping):
            continue
        template_id = str(item.get("TemplateId") or item.get("template_id") or "")[:80]
        status = str(item.get("SubscribeStatusString") or item.get("status") or "").lower()
        if not template_id:
            continue
        grant, _created = SubscribeGrant.objects.get_or_create(
            store_id=account.store_id, openid=openid, template_id=template_id
        )
        if status == "accept":
            SubscribeGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") + 1)
        elif status in ("reject", "ban"):
            SubscribeGrant.objects.filter(pk=grant.pk).update(remaining=0)
