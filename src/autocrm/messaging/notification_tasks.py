"""The staff notifications' periodic task: WeCom digests of the folded floods
(``notifications.digests_send``). Kept apart from the outbox's ``tasks.py`` (h/msgcore's)."""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import notifications

EVERY_MINUTES = 10


@db_periodic_task(crontab(minute=f"*/{EVERY_MINUTES}"))
def notification_digests_task() -> int:
    """Every 10 minutes: one WeCom digest per folded entry that grew since (idempotent by count)."""
    return notifications.digests_send(since=dt.timedelta(minutes=EVERY_MINUTES * 3))
