"""Platform tasks: the worker's heartbeat, which /api/v1/health reports, and the sweep of the
database-backed shared cache's expired rows."""

from __future__ import annotations

import time

from huey import crontab
from huey.contrib.djhuey import HUEY, periodic_task

HEARTBEAT_KEY = "autocrm:worker-heartbeat"


@periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    """Every minute a running worker stamps the queue's storage with the time."""
    HUEY.put(HEARTBEAT_KEY, time.time())


@periodic_task(crontab(minute="*/5"))
def shared_cache_sweep() -> None:
    """Every five minutes: expired rows of the shared cache deleted (its counters skip Django's
    cull on every write; nothing to do with Redis)."""
    from .cache import shared_cache_sweep as sweep

    sweep()


def worker_last_seen() -> float | None:
    """Seconds since a worker last stamped the queue, or None if never (or storage down)."""
    try:
        stamp = HUEY.get(HEARTBEAT_KEY, peek=True)
    except Exception:
        return None
    return None if stamp is None else max(0.0, time.time() - float(stamp))
