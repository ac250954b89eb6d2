"""Huey tasks of the outbox: deliver one message (queued on commit by ``message_queue``), and
the minute's sweep (stale claims reconciled, due and held messages queued again)."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import outbox


@db_task()
def message_deliver_task(message_id: int) -> str:
    """Deliver one message (``outbox.deliver``: claims it, so a second copy of this task is a
    no-op). A retry or a hold is scheduled here for its time; the sweep is the safety net."""
    result = outbox.deliver(message_id)
    if result.kind in ("retry", "paced", "held") and result.at is not None and not queue_is_immediate():
        message_deliver_task.schedule((message_id,), eta=result.at)
    return result.kind


def queue_is_immediate() -> bool:
    from huey.contrib.djhuey import HUEY

    return bool(getattr(HUEY, "immediate", False))


@db_periodic_task(crontab(minute="*"))
def outbox_sweep_task() -> dict[str, Any]:
    """Every minute: reconcile claims of dead workers, queue messages that are due."""
    return outbox.sweep()
