"""Huey tasks of the outbox (docs/adr/0013-outbox-exactly-once.md, 0022-batch-delivery.md).

Production delivers in batches: ``message_queue`` wakes the delivery loop once its transaction
commits (:func:`kick`), the kick's worker runs :func:`outbox.drain` — claim a batch with
``SKIP LOCKED``, check it with preloaded facts, send it concurrently on kept-alive connections,
record it in one commit — until nothing is due. Kicks are coalesced: at most one is pending
(not yet started) per queue, whatever the number of messages committed meanwhile; a running
drain that finds a full batch wakes one more worker to share the load. Messages put back for
later (a retry's back-off, a hold to the marketing window, pacing) get a kick scheduled at
their time (one per second of due time); the minute's sweep is the safety net for anything a
lost kick left behind.

Huey's immediate mode (tests, and SQLite development without a consumer) runs the task inline
at the commit: the kick then names the committed messages and delivers exactly those,
synchronously, as one-message delivery did."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.core.cache import caches
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import outbox

log = logging.getLogger("autocrm.messaging")

KICK_KEY = "autocrm:msgkick"
#: A pending kick's mark expires after this (a kick lost with its queue: the next message, or
#: the sweep, sends a new one).
KICK_TTL = 120


def queue_is_immediate() -> bool:
    from huey.contrib.djhuey import HUEY

    return bool(getattr(HUEY, "immediate", False))


def _shared() -> Any:
    return caches["shared"]


def kick(*, ids: Sequence[int] | None = None, at: dt.datetime | None = None, force: bool = False) -> None:
    """Wake the delivery loop: now (at most one pending kick: the first caller enqueues it, the
    others find its mark in the shared cache), or at ``at`` (one scheduled kick per second of
    due time). ``force``: enqueue even if a kick seems pending (the sweep). In immediate mode
    ``ids`` are delivered at once, here, and nothing else; a kick without ids or for later
    does nothing there (the tests deliver those themselves)."""
    now = timezone.now()
    if queue_is_immediate():
        if ids and (at is None or at <= now):
            message_kick_task(list(ids))
        return
    try:
        if at is not None and at > now + dt.timedelta(seconds=1):
            second = int(at.timestamp()) + 1  # the kick comes just after the time, never before
            wait = second - now.timestamp()
            if _shared().add(f"{KICK_KEY}:at:{second}", 1, timeout=int(wait) + 60):
                message_kick_task.schedule(eta=dt.datetime.fromtimestamp(second, tz=dt.UTC))
            return
        if _shared().add(KICK_KEY, 1, timeout=KICK_TTL) or force:
            message_kick_task()
    except Exception:
        # The queue or the shared cache is unreachable: the messages are committed, and the
        # minute's sweep finds them once it is back. The caller's request does not fail for it.
        log.exception("could not wake the delivery loop; the sweep will")


@db_task()
def message_kick_task(ids: list[int] | None = None) -> dict[str, Any]:
    """Deliver what is due (``outbox.drain``), then schedule kicks for what was put back for
    later. With ``ids`` (immediate mode): deliver exactly these messages, once."""
    if ids is not None:
        return outbox.deliver_due(ids=ids, limit=len(ids))
    _shared().delete(KICK_KEY)  # started: a message committed from now on needs a new kick
    drained = outbox.drain(on_busy=kick)
    for second in sorted({int(at.timestamp()) for at in drained.wakeups}):
        kick(at=dt.datetime.fromtimestamp(second, tz=dt.UTC))
    if drained.more:
        kick(force=True)  # to the back of the queue: other tasks get the worker in between
    return {**drained.counts, "batches": drained.batches, "more": drained.more}


@db_task()
def message_deliver_task(message_id: int) -> str:
    """Deliver one message (``outbox.deliver``: claims it, so a second copy of this task is a
    no-op). Kept for tasks queued before batch delivery (and the CLI); a retry or a hold gets
    a kick at its time."""
    result = outbox.deliver(message_id)
    if result.kind in ("retry", "paced", "held") and result.at is not None:
        kick(at=result.at)
    return result.kind


@db_periodic_task(crontab(minute="*"))
def outbox_sweep_task() -> dict[str, Any]:
    """Every minute: reconcile claims of dead workers, kick the loop for messages that are due."""
    return outbox.sweep()
