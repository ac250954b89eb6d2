"""Consent and fatigue, checked at send time: the last word before the provider is called.

:func:`check` is what the worker asks right before ``client.send`` (and what ``message_queue``
asks once at queue time, to record an early suppression): a message that was fine when it was
planned may not be fine when it goes — the customer withdrew consent, replied 退订, the provider
blacklisted the number, the cap filled up, or it is 21:00.

The rules, in order (the first that applies decides):

1. **Suppression list** (by the address's blind index, on the message's channel): a blacklist
   or an unsubscribe suppresses marketing; an ``all_purposes`` row suppresses everything.
2. **Consent** per purpose × channel from the customer's record (``customers.Consent``, the
   newest row in force): service notices need service consent, surveys survey consent,
   marketing marketing consent; mini-program messages ride on the WeChat consent. **Login codes
   need no consent** (the person asked for the code; PIPL Art. 13(2) — necessary to perform a
   contract the person is party to) and staff notifications are not for customers.
   Marketing and surveys to an address with no customer record are suppressed (no consent can
   exist); a service notice to a bare address (a number typed in for a login) goes.
3. **PIPL Art. 24**: a message marked ``personalised`` (chosen by a segment or a score) is not
   sent to a customer who opted out of personalised marketing.
4. **Cap**: marketing at most ``MessagingSettings.marketing_weekly_cap`` (default 2) a customer
   in the last 7 days, across channels (sent or delivered messages count). Service notices are
   exempt from the cap, never from consent.
5. **Window**: marketing only inside the store's sending window (default 08:00–20:00
   Asia/Shanghai) and outside the customer's own quiet hours; otherwise **held** until the next
   moment both allow (``hold_until``).

:class:`PolicyContext` preloads what the checks need for many messages at once (the planner's
batches): consents in force, suppressed addresses, counts of sent marketing and store settings.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from autocrm.customers.choices import Channel, ConsentPurpose
from autocrm.customers.models import Consent, Customer

from .choices import MessageChannel, MessageStatus, Purpose, SuppressionReason
from .models import Message, MessagingSettings, Suppression

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
CAP_DAYS = 7
DEFAULT_WINDOW = (dt.time(8, 0), dt.time(20, 0))
DEFAULT_CAP = 2

#: The consent channel (customers.choices.Channel) that covers a message channel.
CONSENT_CHANNEL = {
    MessageChannel.SMS: "sms",
    MessageChannel.WECHAT: "wechat",
    MessageChannel.MINIPROGRAM: "wechat",
    MessageChannel.EMAIL: "email",
}
#: The consent purpose (customers.choices.ConsentPurpose) a message purpose needs; absent: none.
CONSENT_PURPOSE = {
    Purpose.SERVICE: "service",
    Purpose.MARKETING: "marketing",
    Purpose.SURVEY: "survey",
}
#: Sent marketing that counts toward the cap.
COUNTED = (MessageStatus.SENT, MessageStatus.DELIVERED)


@dataclass(frozen=True)
class Decision:
    """``ok``; ``hold`` until ``hold_until``; or ``suppress`` with a SuppressionReason and a text."""

    kind: str
    hold_until: dt.datetime | None = None
    reason: str = ""
    text: Any = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    @classmethod
    def allow(cls) -> Decision:
        return cls("ok")

    @classmethod
    def hold(cls, until: dt.datetime) -> Decision:
        return cls("hold", hold_until=until)

    @classmethod
    def suppress(cls, reason: str, text: Any = "") -> Decision:
        return cls("suppress", reason=reason, text=text or SuppressionReason(reason).label)


@dataclass
class StoreRules:
    window_start: dt.time
    window_end: dt.time
    cap: int


@dataclass
class PolicyContext:
    """What :func:`check` reads, loaded once for many messages (or lazily for one).

    ``consents``: (customer_id, purpose, channel) → allowed; ``suppressed``: (channel,
    address_index) → all_purposes; ``marketing_sent``: customer_id → sent marketing in the last
    7 days; ``rules``: store_id → StoreRules."""

    consents: dict[tuple[int, str, str], bool] = field(default_factory=dict)
    suppressed: dict[tuple[str, str], tuple[bool, str]] = field(default_factory=dict)
    windows: dict[tuple[int, Any, Any], dt.datetime | None] = field(default_factory=dict)
    marketing_sent: dict[int, int] = field(default_factory=dict)
    rules: dict[int, StoreRules] = field(default_factory=dict)
    loaded_customers: set[int] = field(default_factory=set)
    loaded_addresses: set[tuple[str, str]] = field(default_factory=set)

    def load(
        self,
        *,
        store_id: int,
        customer_ids: Iterable[int],
        addresses: Iterable[tuple[str, str]] = (),
        now: dt.datetime,
        purposes: Iterable[str] | None = None,
    ) -> None:
        """Preload consents, sent-marketing counts and suppressions for a batch (three queries)."""
        ids = [i for i in set(customer_ids) if i not in self.loaded_customers]
        if ids:
            rows = Consent.objects.filter(customer_id__in=ids)
            if purposes is not None:
                rows = rows.filter(purpose__in=list(purposes))
            # The newest row per (customer, purpose, channel) is in force: read in order, first wins.
            for cid, purpose, channel, granted, withdrawn in rows.order_by("customer_id", "-at", "-id").values_list(
                "customer_id", "purpose", "channel", "granted", "withdrawn_at"
            ):
                self.consents.setdefault((cid, purpose, channel), bool(granted and withdrawn is None))
            since = now - dt.timedelta(days=CAP_DAYS)
            for cid, n in (
                Message.objects.filter(
                    customer_id__in=ids, purpose=Purpose.MARKETING, status__in=COUNTED, sent_at__gte=since
                )
                .values_list("customer_id")
                .annotate(n=Count("id"))
            ):
                self.marketing_sent[cid] = n
            self.loaded_customers.update(ids)
        wanted = [a for a in set(addresses) if a not in self.loaded_addresses and a[1]]
        if wanted:
            indexes = {a[1] for a in wanted}
            for channel, index, every, reason in (
                Suppression.objects.filter(store_id=store_id, address_index__in=indexes, lifted_at__isnull=True)
                .order_by("at", "id")
                .values_list("channel", "address_index", "all_purposes", "reason")
            ):
                key = (channel, index)
                before = self.suppressed.get(key, (False, ""))
                shown = reason if reason in SuppressionReason.values else SuppressionReason.UNSUBSCRIBED
                self.suppressed[key] = (before[0] or every, shown)
            self.loaded_addresses.update(wanted)
        self.rules_for(store_id)

    def load_one(self, *, store_id: int, customer_id: int | None, channel: str, address_index: str,
                 now: dt.datetime) -> None:  # fmt: skip
        """:meth:`load` for one message in **one** round trip (the worker's single-message path):
        the customer's consents, their sent marketing of the last 7 days, the address's
        suppressions and the store's rules as one ``UNION ALL`` — where four ORM queries cost
        about 2.7 ms of CPU, this costs a few tenths."""
        qn = connection.ops.quote_name
        consent, message, suppression, settings_t = (
            qn(m._meta.db_table) for m in (Consent, Message, Suppression, MessagingSettings)
        )
        parts: list[str] = []
        params: list[Any] = []
        new_customer = customer_id is not None and customer_id not in self.loaded_customers
        if new_customer:
            parts.append(
                f"SELECT 0, purpose, channel, CASE WHEN granted AND withdrawn_at IS NULL THEN 1 ELSE 0 END, at, id "
                f"FROM {consent} WHERE customer_id = %s"
            )
            params.append(customer_id)
            marks = ", ".join(["%s"] * len(COUNTED))
            parts.append(
                f"SELECT 1, '', '', COUNT(*), NULL, 0 FROM {message} WHERE customer_id = %s AND purpose = %s "
                f"AND status IN ({marks}) AND sent_at >= %s"
            )
            params += [customer_id, Purpose.MARKETING, *COUNTED, now - dt.timedelta(days=CAP_DAYS)]
        key = (channel, address_index)
        new_address = bool(address_index) and key not in self.loaded_addresses
        if new_address:
            parts.append(
                f"SELECT 2, channel, reason, CASE WHEN all_purposes THEN 1 ELSE 0 END, at, id FROM {suppression} "
                f"WHERE store_id = %s AND address_index = %s AND lifted_at IS NULL"
            )
            params += [store_id, address_index]
        new_rules = store_id not in self.rules
        if new_rules:
            parts.append(
                f"SELECT 3, CAST(window_start AS TEXT), CAST(window_end AS TEXT), marketing_weekly_cap, NULL, 0 "
                f"FROM {settings_t} WHERE store_id = %s"
            )
            params.append(store_id)
        if not parts:
            return
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 5 DESC, 6 DESC", params)
            rows = cursor.fetchall()
        suppressed: list[tuple[str, bool, str]] = []
        for kind, a, b, n, _at, _id in rows:
            if kind == 0:
                # newest first: the first row per (purpose, channel) is in force
                self.consents.setdefault((customer_id, a, b), bool(n))  # type: ignore[arg-type]
            elif kind == 1 and n:
                self.marketing_sent[customer_id] = int(n)  # type: ignore[index]
            elif kind == 2 and a == channel:
                suppressed.append((a, bool(n), b))
            elif kind == 3:
                self.rules[store_id] = StoreRules(_as_time(a), _as_time(b), int(n))
        if new_customer:
            self.loaded_customers.add(customer_id)  # type: ignore[arg-type]
        if new_address:
            if suppressed:
                shown = suppressed[0][2]  # the newest row's reason
                self.suppressed[key] = (
                    any(every for _c, every, _r in suppressed),
                    shown if shown in SuppressionReason.values else SuppressionReason.UNSUBSCRIBED,
                )
            self.loaded_addresses.add(key)
        if new_rules and store_id not in self.rules:
            self.rules[store_id] = StoreRules(*DEFAULT_WINDOW, DEFAULT_CAP)

    def load_range(
        self, *, store_id: int, lo: int, hi: int, now: dt.datetime, purposes: Iterable[str] | None = None
    ) -> None:
        """:meth:`load` for every customer of the store with ``lo <= id <= hi`` (the planner's
        keyset batches): range conditions instead of lists of twenty thousand ids."""
        rows = Consent.objects.filter(store_id=store_id, customer_id__gte=lo, customer_id__lte=hi)
        if purposes is not None:
            rows = rows.filter(purpose__in=list(purposes))
        for cid, purpose, channel, granted, withdrawn in rows.order_by("customer_id", "-at", "-id").values_list(
            "customer_id", "purpose", "channel", "granted", "withdrawn_at"
        ):
            self.consents.setdefault((cid, purpose, channel), bool(granted and withdrawn is None))
        since = now - dt.timedelta(days=CAP_DAYS)
        for cid, n in (
            Message.objects.filter(
                store_id=store_id, customer_id__gte=lo, customer_id__lte=hi, purpose=Purpose.MARKETING,
                status__in=COUNTED, sent_at__gte=since,
            )
            .values_list("customer_id")
            .annotate(n=Count("id"))
        ):  # fmt: skip
            self.marketing_sent[cid] = n

    def load_suppressions(self, *, store_id: int, channel: str) -> None:
        """The store's whole suppression list on ``channel`` (the planner: a few per cent of the
        numbers, read once instead of per batch)."""
        for index, every, reason in (
            Suppression.objects.filter(store_id=store_id, channel=channel, lifted_at__isnull=True)
            .order_by("at", "id")
            .values_list("address_index", "all_purposes", "reason")
        ):
            before = self.suppressed.get((channel, index), (False, ""))
            shown = reason if reason in SuppressionReason.values else SuppressionReason.UNSUBSCRIBED
            self.suppressed[(channel, index)] = (before[0] or every, shown)

    def window_next(
        self, now: dt.datetime, *, store_id: int, quiet: tuple[dt.time, dt.time] | None
    ) -> dt.datetime | None:
        """:func:`next_allowed` for the store's window, remembered per (store, quiet hours) for
        one ``now`` (the planner asks it a million times with the same few answers)."""
        key = (store_id, quiet, now)
        if key not in self.windows:
            rules = self.rules_for(store_id)
            window = (_as_time(rules.window_start), _as_time(rules.window_end))
            self.windows[key] = next_allowed(now, window=window, quiet=quiet)
        return self.windows[key]

    def rules_for(self, store_id: int) -> StoreRules:
        rules = self.rules.get(store_id)
        if rules is None:
            row = MessagingSettings.objects.filter(store_id=store_id).first()
            rules = (
                StoreRules(row.window_start, row.window_end, row.marketing_weekly_cap)
                if row is not None
                else StoreRules(*DEFAULT_WINDOW, DEFAULT_CAP)
            )
            self.rules[store_id] = rules
        return rules


def _as_time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def _inside(t: dt.time, start: dt.time, end: dt.time) -> bool:
    """Is ``t`` in [start, end)? A range over midnight (22:00–07:00) wraps."""
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def next_allowed(
    now: dt.datetime, *, window: tuple[dt.time, dt.time], quiet: tuple[dt.time, dt.time] | None
) -> dt.datetime | None:
    """``None`` when ``now`` is inside the window and outside the quiet hours; else the next
    moment (Asia/Shanghai, minute steps over the next two days) when it is."""
    start, end = window
    local = now.astimezone(TZ)

    def allowed(moment: dt.datetime) -> bool:
        t = moment.timetz().replace(tzinfo=None)
        if not _inside(t, start, end):
            return False
        return not (quiet and _inside(t, *quiet))

    if allowed(local):
        return None
    # Candidates: each boundary (window open, quiet end) today and the next two days.
    candidates = []
    for day in range(3):
        date = (local + dt.timedelta(days=day)).date()
        for t in (start, *((quiet[1],) if quiet else ())):
            moment = dt.datetime.combine(date, t, tzinfo=TZ)
            if moment > local and allowed(moment):
                candidates.append(moment)
    return min(candidates) if candidates else None


def check(message: Message, *, now: dt.datetime, context: PolicyContext | None = None) -> Decision:
    """May ``message`` go now? See the module docstring for the rules and their order.

    Reads one round trip of four small indexed selects for one message (none with a preloaded
    ``context``); the message's customer is read from the row already joined."""
    ctx = context or PolicyContext()
    if message.purpose == Purpose.STAFF or message.channel in (MessageChannel.INBOX, MessageChannel.WECOM):
        return Decision.allow()
    customer: Customer | None = message.customer if message.customer_id else None
    index = message.to_index or ""
    if context is None:
        ctx.load_one(
            store_id=message.store_id, customer_id=message.customer_id, channel=message.channel,
            address_index=index, now=now,
        )  # fmt: skip
    else:
        ctx.load(
            store_id=message.store_id,
            customer_ids=[message.customer_id] if message.customer_id else [],
            addresses=[(message.channel, index)],
            now=now,
        )
    quiet = None
    if customer is not None and customer.quiet_hours_start and customer.quiet_hours_end:
        quiet = (_as_time(customer.quiet_hours_start), _as_time(customer.quiet_hours_end))
    return decide(
        ctx=ctx,
        now=now,
        store_id=message.store_id,
        purpose=message.purpose,
        channel=message.channel,
        customer_id=customer.pk if customer is not None else None,
        address_index=index,
        personalised=message.personalised,
        opt_out=bool(customer is not None and customer.personalised_marketing_opt_out),
        quiet=quiet,
    )


_NO_CONSENT_TEXT: dict[tuple[str | None, str, str], str] = {}


def _no_consent_text(consent_purpose: str, consent_channel: str) -> str:
    """ "No marketing consent on SMS." in the active language, formatted once per language (the
    bulk planner suppresses a hundred thousand messages of a campaign for it)."""
    key = (get_language(), consent_purpose, consent_channel)
    text = _NO_CONSENT_TEXT.get(key)
    if text is None:
        text = _NO_CONSENT_TEXT[key] = str(
            _("No %(purpose)s consent on %(channel)s.")
            % {"purpose": ConsentPurpose(consent_purpose).label, "channel": Channel(consent_channel).label}
        )
    return text


def decide(
    *,
    ctx: PolicyContext,
    now: dt.datetime,
    store_id: int,
    purpose: str,
    channel: str,
    customer_id: int | None,
    address_index: str,
    personalised: bool = False,
    opt_out: bool = False,
    quiet: tuple[dt.time, dt.time] | None = None,
) -> Decision:
    """The rules over preloaded facts (``ctx`` loaded for the customer and address): what
    :func:`check` asks for one message and the bulk planner for each of a million."""
    if purpose == Purpose.STAFF:
        return Decision.allow()
    found = ctx.suppressed.get((channel, address_index)) if address_index else None
    if found is not None and (found[0] or purpose == Purpose.MARKETING):
        return Decision.suppress(found[1])
    consent_purpose = CONSENT_PURPOSE.get(purpose)  # type: ignore[call-overload]
    if consent_purpose is not None:
        consent_channel = CONSENT_CHANNEL.get(channel)  # type: ignore[call-overload]
        if customer_id is None:
            if purpose != Purpose.SERVICE:
                return Decision.suppress(SuppressionReason.NO_CONSENT)
        elif consent_channel is not None and not ctx.consents.get((customer_id, consent_purpose, consent_channel)):
            # (console has no consent channel: it reaches nobody)
            return Decision.suppress(SuppressionReason.NO_CONSENT, _no_consent_text(consent_purpose, consent_channel))
    if purpose != Purpose.MARKETING:
        return Decision.allow()
    if customer_id is not None and personalised and opt_out:
        return Decision.suppress(SuppressionReason.PERSONALISATION)
    rules = ctx.rules_for(store_id)
    sent = ctx.marketing_sent.get(customer_id, 0) if customer_id is not None else 0
    if sent >= rules.cap:
        return Decision.suppress(
            SuppressionReason.CAP,
            _("%(n)d marketing messages in the last 7 days (at most %(cap)d).") % {"n": sent, "cap": rules.cap},
        )
    until = ctx.window_next(now, store_id=store_id, quiet=quiet)
    if until is not None:
        return Decision.hold(until)
    return Decision.allow()


def marketing_sent_filter(since: dt.datetime) -> Q:
    return Q(purpose=Purpose.MARKETING, status__in=COUNTED, sent_at__gte=since)
