"""Delivery: claim, check, send, record — exactly once to the customer (docs/adr/0014).

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
``idempotent_resend = True`` (the provider itself drops a second copy with the same id).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from autocrm.channels.base import ChannelClient, ChannelError, Outgoing, SendResult, StatusReport, client_class
from autocrm.core.cache import counter_hit

from . import policy, rendering
from .choices import AttemptOutcome, MessageChannel, MessageStatus, Purpose, SuppressionReason
from .models import ChannelAccount, Message, MessageAttempt, MessagingSettings, SubscribeGrant, WeChatBinding

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
    now = time.time() if now is None else now
    limit = max(1, int(rate_per_second))
    second = int(now)
    count, _expires = counter_hit(f"autocrm:msgrate:{account_id}:{second}", timeout=2)
    if count <= limit:
        return 0.0
    return (second + 1) - now


# --- the message to the provider -----------------------------------------------------------------


def outgoing(message: Message) -> Outgoing:
    """The provider's view of a message: rendered from its template and values (or its text)."""
    template = message.template
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
    try:
        return _deliver_claimed(message, worker, now)
    except Exception:
        # Our own fault (a bug, the database): the message goes back to the queue with back-off
        # rather than staying claimed until the stale sweep.
        log.exception("delivery of message %s failed", message_id)
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
        found = _query(client, message)
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


def _query(client: ChannelClient, message: Message) -> StatusReport | None:
    try:
        return client.query(message.uid, to=message.to, sent_at=message.claimed_at or timezone.now())
    except (ChannelError, NotImplementedError):
        return None


def _failed(
    message: Message, worker: str, exc: ChannelError, *, ms: int, now: dt.datetime, client: ChannelClient
) -> Outcome:
    kind = exc.kind
    in_doubt = bool(getattr(exc, "in_doubt", False))
    if in_doubt and not client.can_query and not getattr(client, "idempotent_resend", False):
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
    if client is not None and getattr(client, "idempotent_resend", False):
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
    from .tasks import message_deliver_task

    def queue(pk: int) -> None:
        message_deliver_task(pk)

    for pk in ids:
        transaction.on_commit(functools.partial(queue, pk))


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
    from .tasks import message_deliver_task

    for pk in due:
        message_deliver_task(pk)
    counts["queued"] = len(due)
    return counts


def deliver_batch(ids: Iterable[int], *, worker: str | None = None) -> dict[str, int]:
    """Deliver several messages in this process (the benchmark's and the CLI's loop)."""
    counts: dict[str, int] = {}
    for pk in ids:
        kind = deliver(pk, worker=worker).kind
        counts[kind] = counts.get(kind, 0) + 1
    return counts


__all__ = ["MAX_ATTEMPTS", "Outcome", "WeChatBinding", "backoff", "claim", "deliver", "reconcile", "sweep"]
