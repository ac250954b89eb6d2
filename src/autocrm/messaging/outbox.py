"""Delivery: claim, check, send, record — exactly once to the customer (docs/adr/0013-outbox-exactly-once.md).

One message goes through :func:`deliver`:

1. **Claim** with one conditional UPDATE (``queued``/``held`` and due → ``sending``, with
   ``claimed_by``/``claimed_at``), committed on its own: of two workers handed the same id, one
   updates a row and the other none, so a message is never sent by two workers at once.
2. **Reconcile first** when an earlier try may have reached the provider (a previous attempt
   ended in a retryable error such as a timeout): ``client.query`` by our own id; found → sent,
   not resent.
3. **Check** consent, suppressions, the window and the cap (:func:`messaging.policy.check`)
   right before the provider call: suppressed (reason, timeline) or held to the next window.
4. **Pace** to the provider's ``rate_per_second`` (a per-second counter in the shared cache,
   one for all workers); over it, the message goes back to the queue for the next second.
5. **Send** outside any transaction, then record the answer (attempt row, status ``sent``,
   ``provider_id``) in one transaction. Errors by kind: ``retry``/``rate_limited`` →
   back-off with jitter up to :data:`MAX_ATTEMPTS`, then failed; ``blacklist`` → suppressed,
   a Suppression row, marketing consent withdrawn, never retried; ``permanent``/``auth`` → failed.

A worker that dies between the provider's acceptance and step 5's commit leaves the message in
``sending`` with its claim. :func:`sweep` finds claims older than :data:`STALE_AFTER` and
:func:`reconcile` asks the provider before anything is resent: found → ``sent`` (attempt
``reconciled``); no record → back to the queue (resending is safe); a provider that cannot
answer → ``uncertain`` (shown for a person to decide, never doubled) unless its client declares
``resend_is_idempotent = True`` and the first try is younger than its ``idempotency_window`` (the
provider itself drops a second copy with the same id: WeChat's ``client_msg_id``, WeCom's duplicate
check).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from autocrm.channels.base import ChannelClient, ChannelError, Outgoing, SendResult, StatusReport, client_class
from autocrm.core.cache import counter_hit
from autocrm.customers.models import Customer

from . import policy, rendering
from .choices import AttemptOutcome, MessageChannel, MessageStatus, Purpose, SuppressionReason
from .models import (
    ChannelAccount,
    Message,
    MessageAttempt,
    MessageTemplate,
    MessagingSettings,
    SubscribeGrant,
    WeChatBinding,
)

log = logging.getLogger("autocrm.messaging")

MAX_ATTEMPTS = 5
BACKOFF_BASE = 30.0  # seconds before the second try; doubles each time
BACKOFF_CAP = 3600.0
STALE_AFTER = dt.timedelta(minutes=5)  # a claim older than this belongs to a dead worker
SWEEP_BATCH = 500


def worker_id() -> str:
    """This process and thread, as written into ``claimed_by``."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


# --- clients -------------------------------------------------------------------------------------

_clients: dict[tuple[int, str], ChannelClient] = {}
_clients_lock = threading.Lock()


def account_config(account: ChannelAccount) -> dict[str, str]:
    config = {str(k): str(v) for k, v in (account.public_config or {}).items()}
    if account.secret_config:
        try:
            secret = json.loads(account.secret_config)
        except ValueError:
            secret = {}
        if isinstance(secret, dict):
            config.update({str(k): str(v) for k, v in secret.items()})
    return config


def client_for(account: ChannelAccount) -> ChannelClient:
    """The account's client, reused by this process (its connection pool) until the account changes."""
    key = (account.pk, account.updated_at.isoformat() if getattr(account, "updated_at", None) else "")
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            cls = client_class(account.provider)
            client = cls(account_config(account), endpoint=account.endpoint or None)
            _clients[key] = client
    return client


def clients_close() -> None:
    with _clients_lock:
        for client in _clients.values():
            try:
                client.close()
            except Exception:
                log.debug("client close failed", exc_info=True)
        _clients.clear()


# --- pacing --------------------------------------------------------------------------------------


def rate_wait(account_id: int, rate_per_second: float, *, now: float | None = None) -> float:
    """Take one slot of the account's per-second budget (shared by every worker through the
    shared cache); 0 when granted, else the seconds until the next window opens."""
    granted, wait = rate_take(account_id, rate_per_second, 1, now=now)
    return 0.0 if granted else wait


def rate_take(account_id: int, rate_per_second: float, wanted: int, *, now: float | None = None) -> tuple[int, float]:
    """Take ``wanted`` slots of the account's per-second budget with one counter hit (a batch
    of the delivery loop): ``(granted, seconds until the next window)``. The slots over the
    budget are counted too (the counter only grows within its second), which is what a slot
    taken one at a time does as well: over the limit, nobody else is granted that second."""
    now = time.time() if now is None else now
    limit = max(1, int(rate_per_second))
    second = int(now)
    count, _expires = counter_hit(f"autocrm:msgrate:{account_id}:{second}", timeout=2, amount=wanted)
    before = count - wanted
    granted = max(0, min(wanted, limit - before))
    return granted, (second + 1) - now


# --- the message to the provider -----------------------------------------------------------------


_NO_SETTINGS: Any = object()


def outgoing(message: Message, *, settings_row: Any = _NO_SETTINGS) -> Outgoing:
    """The provider's view of a message: rendered from its template and values (or its text)."""
    template = message.template
    if settings_row is _NO_SETTINGS:
        settings_row = MessagingSettings.objects.filter(store_id=message.store_id).first()
    unsubscribe = settings_row.unsubscribe_text if settings_row else "拒收请回复R"
    sign_name = settings_row.sms_signature if settings_row else ""
    values = dict(message.variables or {})
    if template is not None:
        rendered = rendering.render(
            purpose=message.purpose,
            channel=message.channel,
            body=template.body,
            subject=template.subject,
            html=template.html,
            param_order=list(template.param_order or []),
            values=values,
            unsubscribe_text=unsubscribe,
        )
        text, subject, html, params, data = (
            rendered.text,
            rendered.subject or message.subject,
            rendered.html,
            rendered.params,
            rendered.data,
        )
        code = template.provider_template_id
    else:
        text, subject, html, params, data, code = message.text, message.subject, message.html, (), {}, ""
        marketing_sms = message.purpose == Purpose.MARKETING and message.channel == MessageChannel.SMS
        if marketing_sms and unsubscribe and not text.rstrip().endswith(unsubscribe):
            text = f"{text.rstrip()}{unsubscribe}"
    return Outgoing(
        message_id=message.uid,
        to=message.to,
        template_code=code,
        params=tuple(params),
        data=dict(data),
        subject=subject,
        text=text,
        html=html,
        sign_name=sign_name,
        link=str(values.get("link", "")),
    )


# --- claim and record ----------------------------------------------------------------------------


def claim(message_id: int, *, worker: str, now: dt.datetime | None = None) -> bool:
    """Take the message for this worker: one conditional UPDATE, committed at once."""
    now = now or timezone.now()
    with transaction.atomic():
        return (
            Message.objects.filter(
                pk=message_id, status__in=(MessageStatus.QUEUED, MessageStatus.HELD), not_before__lte=now
            ).update(
                status=MessageStatus.SENDING,
                claimed_by=worker[:64],
                claimed_at=now,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
            == 1
        )


def _attempt(
    message: Message, outcome: str, *, code: str = "", detail: str = "", provider_id: str = "", ms: int = 0
) -> None:
    MessageAttempt.objects.create(
        store_id=message.store_id,
        message=message,
        outcome=outcome,
        code=str(code)[:80],
        detail=str(detail)[:500],
        provider_id=str(provider_id)[:100],
        duration_ms=max(0, int(ms)),
    )


def _mine(message: Message, worker: str) -> Q:
    """Only the worker that holds the claim writes the outcome (a reconciler may have taken it)."""
    return Q(pk=message.pk, status=MessageStatus.SENDING, claimed_by=worker[:64])


def _release(
    message: Message, worker: str, *, status: str, not_before: dt.datetime | None = None, **fields: Any
) -> bool:
    now = timezone.now()
    updates: dict[str, Any] = {"status": status, "claimed_by": "", "updated_at": now, **fields}
    if not_before is not None:
        updates["not_before"] = not_before
    done = Message.objects.filter(_mine(message, worker)).update(**updates) == 1
    if done:
        for k, v in updates.items():
            setattr(message, k, v)
    return done


def backoff(attempts: int, *, retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds before try ``attempts + 1``: exponential (30 s, 60 s, 120 s …, at most an hour)
    with ±50 % jitter so that a provider's outage does not end in a thundering herd."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    delay = base * (rng or random).uniform(0.5, 1.5)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


@dataclass(frozen=True)
class Outcome:
    """What :func:`deliver` did: ``skipped`` (not claimable), ``sent``, ``held``, ``suppressed``,
    ``retry`` (with ``at``), ``failed``, ``reconciled``, ``uncertain``, ``paced`` (rate limit)."""

    kind: str
    at: dt.datetime | None = None


def _blacklisted(message: Message, code: str) -> None:
    from .services import marketing_withdraw, suppression_add, suppression_record

    suppression_record(
        message=message, reason=SuppressionReason.BLACKLIST, text=SuppressionReason.BLACKLIST.label + f" ({code})"
    )
    suppression_add(
        store_id=message.store_id,
        channel=message.channel,
        address=message.to,
        reason=SuppressionReason.BLACKLIST,
        customer=message.customer,
        source=f"{message.provider}:{code}",
    )
    if message.customer is not None:
        marketing_withdraw(customer=message.customer, channel=message.channel, source=f"{message.provider}:{code}")


def _record_sent(message: Message, worker: str, result: SendResult | StatusReport, *, ms: int, outcome: str) -> bool:
    now = timezone.now()
    delivered = result.status == "delivered"
    with transaction.atomic():
        done = _release(
            message,
            worker,
            status=MessageStatus.DELIVERED if delivered else MessageStatus.SENT,
            provider_id=str(result.provider_id)[:100],
            sent_at=message.sent_at or now,
            **({"delivered_at": now} if delivered else {}),
        )
        if not done:
            # The provider's receipt was quicker than our record: delivered already, still our claim.
            done = (
                Message.objects.filter(pk=message.pk, status=MessageStatus.DELIVERED, claimed_by=worker[:64]).update(
                    claimed_by="",
                    provider_id=str(result.provider_id)[:100],
                    sent_at=Coalesce(F("sent_at"), now),
                    updated_at=now,
                )
                == 1
            )
        if done:
            _attempt(message, outcome, provider_id=result.provider_id, ms=ms, code=getattr(result, "code", ""))
    return done


def _use_grant(message: Message) -> bool:
    """A mini-program subscribe message spends one grant of (openid, template): atomically."""
    template_id = message.template.provider_template_id if message.template else ""
    return (
        SubscribeGrant.objects.filter(
            store_id=message.store_id, openid=message.to, template_id=template_id, remaining__gt=0
        ).update(remaining=F("remaining") - 1)
        == 1
    )


def _reroute_to_sms(message: Message, worker: str) -> bool:
    """No grant left: the same message (same idempotency key: still one message to the
    customer) is re-routed to SMS with the store's SMS template of the same code."""
    from .services import _mask, account_for, template_find

    if message.customer is None or not message.customer.mobile:
        return False
    template = None
    if message.template is not None:
        template = template_find(store_id=message.store_id, code=message.template.code, channel=MessageChannel.SMS)
        if template is None:
            return False
    account = account_for(store_id=message.store_id, channel=MessageChannel.SMS)
    message.channel = MessageChannel.SMS
    message.template = template
    message.account = account
    message.provider = account.provider if account else ""
    message.to = message.customer.mobile
    message.to_display = _mask(MessageChannel.SMS, message.to)
    message.save(
        update_fields=["channel", "template", "account", "provider", "to", "to_index", "to_display", "updated_at"]
    )
    _attempt(message, AttemptOutcome.RETRY, code="no_grant", detail="mini-program grant used up: re-routed to SMS")
    return True


def deliver(message_id: int, *, worker: str | None = None, now: dt.datetime | None = None) -> Outcome:
    """Deliver one message (see the module docstring). Safe to call any number of times and from
    any number of workers: only a claimable message is touched."""
    worker = worker or worker_id()
    now = now or timezone.now()
    if not claim(message_id, worker=worker, now=now):
        return Outcome("skipped")
    message = Message.objects.select_related("customer", "template", "account").get(pk=message_id)
    return _deliver_guarded(message, worker, now)


def _deliver_guarded(message: Message, worker: str, now: dt.datetime) -> Outcome:
    """:func:`_deliver_claimed` of a claimed message; our own fault (a bug, the database) puts
    the message back in the queue with back-off rather than leaving it claimed until the stale
    sweep."""
    try:
        return _deliver_claimed(message, worker, now)
    except Exception:
        log.exception("delivery of message %s failed", message.pk)
        _release(
            message,
            worker,
            status=MessageStatus.QUEUED,
            not_before=timezone.now() + dt.timedelta(seconds=backoff(message.attempts)),
        )
        return Outcome("retry", message.not_before)


def _deliver_claimed(message: Message, worker: str, now: dt.datetime) -> Outcome:
    from .services import account_for, suppression_record

    if not message.to:
        with transaction.atomic():
            suppression_record(
                message=message, reason=SuppressionReason.NO_ADDRESS, text=SuppressionReason.NO_ADDRESS.label
            )
        return Outcome("suppressed")
    decision = policy.check(message, now=now)
    if decision.kind == "suppress":
        with transaction.atomic():
            suppression_record(message=message, reason=decision.reason, text=decision.text)
        return Outcome("suppressed")
    if decision.kind == "hold":
        _release(message, worker, status=MessageStatus.HELD, not_before=decision.hold_until, attempts=F("attempts") - 1)
        return Outcome("held", decision.hold_until)
    if message.channel == MessageChannel.MINIPROGRAM and not _use_grant(message):
        if not _reroute_to_sms(message, worker):
            with transaction.atomic():
                suppression_record(
                    message=message, reason=SuppressionReason.NO_GRANT, text=SuppressionReason.NO_GRANT.label
                )
            return Outcome("suppressed")
        decision = policy.check(message, now=now)  # SMS consent is its own
        if decision.kind == "suppress":
            with transaction.atomic():
                suppression_record(message=message, reason=decision.reason, text=decision.text)
            return Outcome("suppressed")
    account = message.account
    if account is None or not account.is_active:
        account = account_for(store_id=message.store_id, channel=message.channel)
        if account is None:
            with transaction.atomic():
                suppression_record(
                    message=message, reason=SuppressionReason.NO_ACCOUNT, text=SuppressionReason.NO_ACCOUNT.label
                )
            return Outcome("suppressed")
        Message.objects.filter(pk=message.pk).update(account=account, provider=account.provider)
        message.account, message.provider = account, account.provider
    try:
        client = client_for(account)
    except LookupError:
        with transaction.atomic():
            _release(
                message,
                worker,
                status=MessageStatus.FAILED,
                reason="unknown_provider",
                reason_text=account.provider[:300],
            )
            _attempt(message, AttemptOutcome.FAILED, code="unknown_provider", detail=account.provider)
        return Outcome("failed")
    # An earlier try ended in a retryable error (a timeout may hide an acceptance): ask first.
    if message.attempts > 1 and client.can_query:
        try:
            found = client.query(message.uid, to=message.to, sent_at=message.claimed_at or timezone.now())
        except ChannelError as exc:
            # Cannot ask now: sending could double an accepted message, so try again later.
            return _failed(message, worker, ChannelError("retry", exc.code, exc.message), ms=0, now=now, client=client)
        except NotImplementedError:
            found = None
        if found is not None:
            _record_sent(message, worker, found, ms=0, outcome=AttemptOutcome.RECONCILED)
            return Outcome("reconciled")
    wait = rate_wait(account.pk, client.rate_per_second)
    if wait > 0:
        at = timezone.now() + dt.timedelta(seconds=wait)
        _release(message, worker, status=MessageStatus.QUEUED, not_before=at, attempts=F("attempts") - 1)
        return Outcome("paced", at)
    try:
        payload = outgoing(message)
    except rendering.RenderError as exc:
        with transaction.atomic():
            _release(message, worker, status=MessageStatus.FAILED, reason="render", reason_text=str(exc)[:300])
            _attempt(message, AttemptOutcome.FAILED, code="render", detail=f"missing: {exc}")
        return Outcome("failed")
    started = time.monotonic()
    try:
        result = client.send(payload)
    except ChannelError as exc:
        ms = int((time.monotonic() - started) * 1000)
        return _failed(message, worker, exc, ms=ms, now=now, client=client)
    except Exception as exc:
        ms = int((time.monotonic() - started) * 1000)
        return _failed(
            message, worker, ChannelError("retry", type(exc).__name__, str(exc)[:200]), ms=ms, now=now, client=client
        )
    ms = int((time.monotonic() - started) * 1000)
    if not _record_sent(message, worker, result, ms=ms, outcome=AttemptOutcome.ACCEPTED):
        log.warning("message %s: claim lost before the answer was recorded", message.pk)
    return Outcome("sent")


def _resend_is_safe(client: ChannelClient, message: Message, now: dt.datetime) -> bool:
    """A second copy is dropped by the provider itself: its client says so, and the first try
    (the claim) is still inside the provider's de-duplication window."""
    if not getattr(client, "resend_is_idempotent", False):
        return False
    window = getattr(client, "idempotency_window", None)
    started = message.claimed_at or now
    return window is None or (now - started).total_seconds() < float(window) * 0.9


def _failed(
    message: Message, worker: str, exc: ChannelError, *, ms: int, now: dt.datetime, client: ChannelClient
) -> Outcome:
    kind = exc.kind
    in_doubt = bool(getattr(exc, "in_doubt", False))
    if in_doubt and not client.can_query and not _resend_is_safe(client, message, now):
        # The provider may have accepted it and cannot be asked: a resend could double it.
        with transaction.atomic():
            if _release(message, worker, status=MessageStatus.UNCERTAIN, reason="in_doubt", reason_text=exc.code[:300]):
                _attempt(message, AttemptOutcome.FAILED, code=exc.code, detail="in doubt: " + exc.message, ms=ms)
        return Outcome("uncertain")
    if kind == "blacklist":
        with transaction.atomic():
            _attempt(message, AttemptOutcome.FAILED, code=exc.code, detail=exc.message, ms=ms)
            _blacklisted(message, exc.code)
        return Outcome("suppressed")
    if kind in ("retry", "rate_limited") and message.attempts < MAX_ATTEMPTS:
        at = max(now, timezone.now()) + dt.timedelta(seconds=backoff(message.attempts, retry_after=exc.retry_after))
        with transaction.atomic():
            if _release(message, worker, status=MessageStatus.QUEUED, not_before=at, reason=exc.code[:20]):
                _attempt(message, AttemptOutcome.RETRY, code=exc.code, detail=exc.message, ms=ms)
        return Outcome("retry", at)
    with transaction.atomic():
        if _release(
            message,
            worker,
            status=MessageStatus.FAILED,
            reason=exc.code[:20],
            reason_text=(exc.message or exc.code)[:300],
        ):
            _attempt(message, AttemptOutcome.FAILED, code=exc.code, detail=exc.message, ms=ms)
    return Outcome("failed")


# --- reconciliation and the sweep ----------------------------------------------------------------


def reconcile(message_id: int, *, now: dt.datetime | None = None, stale_after: dt.timedelta = STALE_AFTER) -> Outcome:
    """A message left in ``sending`` by a dead worker: ask the provider before anything is resent.

    The reconciler takes the claim over with the same conditional UPDATE (only if the claim is
    still the stale one it saw), so two reconcilers never both act."""
    now = now or timezone.now()
    row = Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).values("claimed_by", "claimed_at").first()
    if row is None or row["claimed_at"] is None or row["claimed_at"] > now - stale_after:
        return Outcome("skipped")
    me = worker_id() + ":r"
    with transaction.atomic():
        taken = Message.objects.filter(
            pk=message_id, status=MessageStatus.SENDING, claimed_by=row["claimed_by"], claimed_at=row["claimed_at"]
        ).update(claimed_by=me[:64], updated_at=now)
    if taken != 1:
        return Outcome("skipped")
    message = Message.objects.select_related("customer", "template", "account").get(pk=message_id)
    account = message.account
    client = None
    if account is not None:
        try:
            client = client_for(account)
        except LookupError:
            client = None
    if client is not None and client.can_query:
        try:
            found = client.query(message.uid, to=message.to, sent_at=row["claimed_at"])
        except ChannelError as exc:
            # Could not ask now: leave it in doubt (still sending, claim stale again) for the next sweep.
            with transaction.atomic():
                Message.objects.filter(_mine(message, me)).update(claimed_by=row["claimed_by"])
                _attempt(message, AttemptOutcome.RETRY, code=exc.code, detail="reconciliation query failed")
            return Outcome("retry")
        if found is not None:
            _record_sent(message, me, found, ms=0, outcome=AttemptOutcome.RECONCILED)
            return Outcome("reconciled")
        with transaction.atomic():
            _release(message, me, status=MessageStatus.QUEUED, not_before=min(now, timezone.now()))
            _attempt(message, AttemptOutcome.RECONCILED, code="not_found", detail="the provider has no record: resent")
        _enqueue_after_commit([message.pk])
        return Outcome("requeued")
    if client is not None and _resend_is_safe(client, message, now):
        with transaction.atomic():
            _release(message, me, status=MessageStatus.QUEUED, not_before=min(now, timezone.now()))
            _attempt(message, AttemptOutcome.RECONCILED, code="idempotent", detail="the provider drops a second copy")
        _enqueue_after_commit([message.pk])
        return Outcome("requeued")
    with transaction.atomic():
        _release(message, me, status=MessageStatus.UNCERTAIN, reason="in_doubt")
        _attempt(
            message, AttemptOutcome.FAILED, code="in_doubt", detail="worker died mid-send; provider cannot be asked"
        )
    return Outcome("uncertain")


def _enqueue_after_commit(ids: Sequence[int]) -> None:
    """Wake the delivery loop for these messages once the transaction commits."""
    from .tasks import kick

    transaction.on_commit(functools.partial(kick, ids=list(ids)))


def sweep(
    *,
    now: dt.datetime | None = None,
    stale_after: dt.timedelta = STALE_AFTER,
    grace: dt.timedelta = dt.timedelta(seconds=30),
) -> dict[str, int]:
    """The periodic safety net: reconcile stale claims, then queue due messages (``queued`` ones
    older than ``grace`` — the on-commit task should have taken them — and ``held`` ones whose
    window opened)."""
    now = now or timezone.now()
    stale = list(
        Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - stale_after).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]
    )
    counts = {"reconciled": 0, "requeued": 0, "uncertain": 0, "queued": 0}
    for pk in stale:
        out = reconcile(pk, now=now, stale_after=stale_after)
        if out.kind in counts:
            counts[out.kind] += 1
    due = list(
        Message.objects.filter(
            Q(status=MessageStatus.QUEUED, not_before__lte=now, updated_at__lte=now - grace)
            | Q(status=MessageStatus.HELD, not_before__lte=now)
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due:
        from .tasks import kick

        # One kick for the lot (the delivery loop takes every due message, not just these);
        # forced: the sweep is the safety net for a kick that was lost.
        kick(ids=due, force=True)
    counts["queued"] = len(due)
    return counts


def claim_due(
    *, worker: str, limit: int, now: dt.datetime | None = None, ids: Sequence[int] | None = None
) -> list[int]:
    """Claim up to ``limit`` due messages in one statement (PostgreSQL: ``FOR UPDATE SKIP
    LOCKED``, so workers claiming at once take disjoint batches and never wait on each other).
    ``ids``: only these messages (Huey's immediate mode delivers exactly the committed ones)."""
    now = now or timezone.now()
    if ids is not None:
        ids = [int(pk) for pk in ids][: max(0, int(limit))]
        if not ids:
            return []
    table = connection.ops.quote_name(Message._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # Written as the ORM writes it (SQLite: text without the offset, so that the reconciler's
    # ``claimed_at=`` matches); compared with the aware value, which on SQLite sorts after both
    # the ORM's and a raw insert's text of the same moment.
    at = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {table} SET status = %s, claimed_by = %s, claimed_at = %s, attempts = attempts + 1, updated_at = %s "
        f"WHERE id IN (SELECT id FROM {table} WHERE status IN (%s, %s) AND not_before <= %s "
        f"{'AND id IN (' + ', '.join(['%s'] * len(ids)) + ') ' if ids else ''}"
        f"ORDER BY not_before LIMIT %s{lock}) RETURNING id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql,
            [MessageStatus.SENDING, worker[:64], at, at, MessageStatus.QUEUED, MessageStatus.HELD, now,
             *(ids or ()), int(limit)],
        )  # fmt: skip
        return [row[0] for row in cursor.fetchall()]


#: Messages a worker claims in one statement (and records in one transaction).
DUE_BATCH = 200


def deliver_due(
    *,
    worker: str | None = None,
    limit: int = DUE_BATCH,
    now: dt.datetime | None = None,
    ids: Sequence[int] | None = None,
    wakeups: list[dt.datetime] | None = None,
) -> dict[str, int]:
    """The worker's loop step: claim a batch of due messages and deliver them with a fixed
    number of statements for the batch, whatever its size:

    - one claim (``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``),
      then the claimed rows, their templates and accounts (read once each, not per row) and the
      customers' quiet hours and PIPL opt-out (no encrypted column decrypted);
    - the checks for the whole batch preloaded (consents, sent marketing, suppressions, the
      store's rules: four queries) and each message decided in memory;
    - pacing with one counter hit per account for the batch;
    - the sends concurrently (``client.concurrent_sends`` threads, each on its own kept-alive
      connection), outside any transaction;
    - the answers recorded in one transaction (one UPDATE for the batch conditional on each
      message's claim, the attempts by COPY).

    A worker that dies between the sends and that commit leaves the batch ``sending`` with its
    claim: the sweep reconciles each message with the provider before anything is resent, as
    for one message (ADR 0013). Anything off the plain path — a retry that must reconcile
    first, a mini-program grant, a missing or inactive account, a decision to hold or suppress,
    a provider error — takes the one-message path (:func:`_deliver_claimed` / :func:`_failed`).
    Returns counts by outcome. ``ids``: only these messages (immediate mode). ``wakeups``
    collects when messages put back for later (a retry, a hold, pacing) are due again, for
    the caller to schedule a kick at that time."""
    worker = worker or worker_id()
    now = now or timezone.now()
    ids = claim_due(worker=worker, limit=limit, now=now, ids=ids)
    counts: dict[str, int] = {}
    if not ids:
        return counts

    def count(kind: str, n: int = 1) -> None:
        counts[kind] = counts.get(kind, 0) + n

    def note(out: Outcome) -> None:
        count(out.kind)
        if wakeups is not None and out.at is not None and out.kind in ("retry", "paced", "held"):
            wakeups.append(out.at)

    messages = list(Message.objects.filter(pk__in=ids).order_by("not_before", "id"))
    templates = {
        t.pk: t for t in MessageTemplate.objects.filter(pk__in={m.template_id for m in messages if m.template_id})
    }
    accounts = {a.pk: a for a in ChannelAccount.objects.filter(pk__in={m.account_id for m in messages if m.account_id})}
    facts = {
        cid: (qs, qe, bool(opt_out))
        for cid, qs, qe, opt_out in Customer.objects.filter(
            pk__in={m.customer_id for m in messages if m.customer_id}
        ).values_list("id", "quiet_hours_start", "quiet_hours_end", "personalised_marketing_opt_out")
    }
    for m in messages:
        if m.template_id:
            m.template = templates.get(m.template_id)
        if m.account_id:
            m.account = accounts.get(m.account_id)
    # Ready to send, by account: (message, client, payload).
    ready: dict[int, list[tuple[Message, ChannelClient, Outgoing]]] = {}
    by_store: dict[int, list[Message]] = {}
    for m in messages:
        by_store.setdefault(m.store_id, []).append(m)
    for store_id, group in by_store.items():
        ctx = policy.PolicyContext()
        ctx.load(
            store_id=store_id,
            customer_ids=[m.customer_id for m in group if m.customer_id],
            addresses=[(m.channel, m.to_index) for m in group if m.to_index],
            now=now,
        )
        settings_row = MessagingSettings.objects.filter(store_id=store_id).first()
        for m in group:
            account = m.account
            plain = m.attempts == 1 and m.to and account is not None and account.is_active
            if not plain or m.channel == MessageChannel.MINIPROGRAM or (m.customer_id and m.customer_id not in facts):
                # (a customer the default manager does not list: the one-message path reads it as the FK does)
                note(_deliver_guarded(_full(m), worker, now))
                continue
            if m.purpose == Purpose.STAFF or m.channel in (MessageChannel.INBOX, MessageChannel.WECOM):
                ok = True
            else:
                quiet_start, quiet_end, opt_out = facts.get(m.customer_id, (None, None, False))  # type: ignore[arg-type]
                quiet = None
                if m.customer_id and quiet_start and quiet_end:
                    quiet = (policy._as_time(quiet_start), policy._as_time(quiet_end))
                decision = policy.decide(
                    ctx=ctx,
                    now=now,
                    store_id=m.store_id,
                    purpose=m.purpose,
                    channel=m.channel,
                    customer_id=m.customer_id if m.customer_id in facts else None,
                    address_index=m.to_index or "",
                    personalised=m.personalised,
                    opt_out=opt_out,
                    quiet=quiet,
                )
                ok = decision.ok
            if not ok:
                note(_deliver_guarded(_full(m), worker, now))  # records the hold or the suppression
                continue
            try:
                client = client_for(account)  # type: ignore[arg-type]
            except LookupError:
                note(_deliver_guarded(_full(m), worker, now))
                continue
            try:
                payload = outgoing(m, settings_row=settings_row)
            except rendering.RenderError:
                note(_deliver_guarded(_full(m), worker, now))
                continue
            ready.setdefault(account.pk, []).append((m, client, payload))  # type: ignore[union-attr]
    sent: list[tuple[Message, SendResult, int]] = []
    for account_id, items in ready.items():
        client = items[0][1]
        granted, wait = rate_take(account_id, client.rate_per_second, len(items))
        if granted < len(items):
            at = timezone.now() + dt.timedelta(seconds=wait)
            late = [m.pk for m, _c, _p in items[granted:]]
            Message.objects.filter(pk__in=late, status=MessageStatus.SENDING, claimed_by=worker[:64]).update(
                status=MessageStatus.QUEUED,
                claimed_by="",
                not_before=at,
                attempts=F("attempts") - 1,
                updated_at=timezone.now(),
            )
            count("paced", len(late))
            if wakeups is not None:
                wakeups.append(at)
            items = items[:granted]
        for m, result in _send_all(client, items):
            if isinstance(result, tuple):
                sent.append((m, result[0], result[1]))
            else:
                full = _full(m)
                note(_failed(full, worker, result.error, ms=result.ms, now=now, client=client))
    if sent:
        recorded = _record_sent_many(sent, worker)
        count("sent", len(sent))
        if recorded < len(sent):
            log.warning("%d messages: claim lost before the answer was recorded", len(sent) - recorded)
    return counts


#: How long one kick's drain may run before it hands the worker back (other tasks wait for
#: the worker threads) and kicks again at the back of the queue.
DRAIN_SECONDS = 10.0


@dataclass
class Drained:
    """What :func:`drain` did: counts by outcome, the batches it claimed, whether it stopped
    with messages still due (its time was up), when put-back messages are due again."""

    counts: dict[str, int]
    batches: int = 0
    more: bool = False
    wakeups: list[dt.datetime] = dataclasses.field(default_factory=list)


def drain(
    *,
    worker: str | None = None,
    limit: int = DUE_BATCH,
    max_seconds: float = DRAIN_SECONDS,
    on_busy: Callable[[], None] | None = None,
) -> Drained:
    """The production delivery loop (what a kick runs): :func:`deliver_due` batches until none
    is due. ``on_busy`` is called once, after the first full batch (more is probably due: the
    caller wakes another worker to share the load). Stops after ``max_seconds``, with
    ``more=True`` if its last batch was full (messages may still be due)."""
    worker = worker or worker_id()
    out = Drained(counts={})
    started = time.monotonic()
    busy_told = False
    while True:
        step = deliver_due(worker=worker, limit=limit, wakeups=out.wakeups)
        if not step:
            return out
        out.batches += 1
        for kind, n in step.items():
            out.counts[kind] = out.counts.get(kind, 0) + n
        full = sum(step.values()) >= limit
        if full and on_busy is not None and not busy_told:
            busy_told = True
            on_busy()
        if time.monotonic() - started >= max_seconds:
            out.more = full
            return out


def _full(message: Message) -> Message:
    """The message with its customer, for the one-message path (suppression records, blacklist
    handling, re-routing need the customer object; the batch path reads only its facts)."""
    return Message.objects.select_related("customer", "template", "account").get(pk=message.pk)


@dataclass(frozen=True)
class _SendFailed:
    error: ChannelError
    ms: int


def _send_one(client: ChannelClient, payload: Outgoing) -> tuple[SendResult, int] | _SendFailed:
    started = time.monotonic()
    try:
        result = client.send(payload)
    except ChannelError as exc:
        return _SendFailed(exc, int((time.monotonic() - started) * 1000))
    except Exception as exc:
        err = ChannelError("retry", type(exc).__name__, str(exc)[:200])  # as the one-message path
        return _SendFailed(err, int((time.monotonic() - started) * 1000))
    return result, int((time.monotonic() - started) * 1000)


_pools: dict[int, Any] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> Any:
    from concurrent.futures import ThreadPoolExecutor

    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="outbox-send")
        return pool


def _send_all(
    client: ChannelClient, items: Sequence[tuple[Message, ChannelClient, Outgoing]]
) -> list[tuple[Message, tuple[SendResult, int] | _SendFailed]]:
    """Send each payload: ``client.concurrent_sends`` at a time (threads; no database use in
    them), in order otherwise. Every send's answer or error, by message."""
    width = min(int(getattr(client, "concurrent_sends", 1) or 1), len(items))
    if width <= 1:
        return [(m, _send_one(client, p)) for m, _c, p in items]
    results = _pool(width).map(lambda item: _send_one(client, item[2]), items)
    return [(m, r) for (m, _c, _p), r in zip(items, results, strict=True)]


def _record_sent_many(sent: Sequence[tuple[Message, SendResult, int]], worker: str) -> int:
    """Record a batch of acceptances: one UPDATE for the lot (PostgreSQL: ``UPDATE … FROM
    (VALUES …)``; elsewhere one statement a message in one round trip), each conditional on
    the message still being this worker's claim, and the attempt rows by COPY — in one
    transaction. Returns how many messages were still ours."""
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = [
        (
            m.pk,
            MessageStatus.DELIVERED if r.status == "delivered" else MessageStatus.SENT,
            str(r.provider_id)[:100],
            r.status == "delivered",
        )
        for m, r, _ms in sent
    ]
    from autocrm.core.bulk import RawRows

    attempts = RawRows(MessageAttempt, ("store_id", "message_id", "at", "outcome", "code", "detail", "provider_id",
                                        "duration_ms", "created_at", "updated_at"))  # fmt: skip
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # four array parameters, whatever the batch's size (a statement text of its own
                # per size would be parsed by psycopg and planned by the server every time)
                cursor.execute(
                    # a receipt quicker than this record has made it delivered already: it stays so
                    f"UPDATE {table} AS m SET status = CASE WHEN m.status = %s THEN m.status ELSE v.status END, "
                    f"provider_id = v.provider_id, sent_at = COALESCE(m.sent_at, %s), "
                    f"delivered_at = COALESCE(m.delivered_at, CASE WHEN v.delivered THEN %s::timestamptz END), "
                    f"claimed_by = '', updated_at = %s "
                    f"FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::boolean[]) AS v(id, status, provider_id, delivered) "
                    f"WHERE m.id = v.id AND m.status IN (%s, %s) AND m.claimed_by = %s RETURNING m.id",
                    [
                        MessageStatus.DELIVERED,
                        now,
                        now,
                        now,
                        [row[0] for row in rows],
                        [str(row[1]) for row in rows],
                        [row[2] for row in rows],
                        [row[3] for row in rows],
                        MessageStatus.SENDING,
                        MessageStatus.DELIVERED,
                        worker[:64],
                    ],
                )
                mine = {pk for (pk,) in cursor.fetchall()}
            else:
                cursor.execute(
                    f"SELECT id FROM {table} WHERE status IN (%s, %s) AND claimed_by = %s AND id IN "
                    f"({', '.join(['%s'] * len(rows))})",
                    [MessageStatus.SENDING, MessageStatus.DELIVERED, worker[:64], *[row[0] for row in rows]],
                )
                mine = {pk for (pk,) in cursor.fetchall()}
                cursor.executemany(
                    f"UPDATE {table} SET status = CASE WHEN status = %s THEN status ELSE %s END, provider_id = %s, "
                    f"sent_at = COALESCE(sent_at, %s), delivered_at = COALESCE(delivered_at, %s), claimed_by = '', "
                    f"updated_at = %s WHERE id = %s AND status IN (%s, %s) AND claimed_by = %s",
                    [
                        (
                            MessageStatus.DELIVERED,
                            status,
                            provider_id,
                            at,
                            at if delivered else None,
                            at,
                            pk,
                            MessageStatus.SENDING,
                            MessageStatus.DELIVERED,
                            worker[:64],
                        )
                        for pk, status, provider_id, delivered in rows
                        if pk in mine
                    ],
                )
        for m, r, ms in sent:
            if m.pk in mine:
                attempts.add(m.store_id, m.pk, now, AttemptOutcome.ACCEPTED, "", "", str(r.provider_id)[:100], ms,
                             now, now)  # fmt: skip
        if mine:
            attempts.flush()
    return len(mine)


def deliver_batch(ids: Iterable[int], *, worker: str | None = None) -> dict[str, int]:
    """Deliver several messages in this process (the benchmark's and the CLI's loop)."""
    counts: dict[str, int] = {}
    for pk in ids:
        kind = deliver(pk, worker=worker).kind
        counts[kind] = counts.get(kind, 0) + 1
    return counts


from .planner import plan_bulk  # noqa: E402  (the bulk planner is part of the outbox's surface)

__all__ = [
    "MAX_ATTEMPTS",
    "Outcome",
    "WeChatBinding",
    "backoff",
    "claim",
    "deliver",
    "deliver_due",
    "drain",
    "plan_bulk",
    "reconcile",
    "sweep",
]
