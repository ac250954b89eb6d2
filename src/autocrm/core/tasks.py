"""Platform tasks: the worker's heartbeat, which /api/v1/health reports."""

from __future__ import annotations

import time

from django.apps import apps
from huey import crontab
from huey.contrib.djhuey import HUEY, db_task, periodic_task

from . import bulk

HEARTBEAT_KEY = "autocrm:worker-heartbeat"


@db_task()
def table_analyze_task(label: str) -> None:
    """Refresh the planner's statistics of a table a bulk write just grew (PostgreSQL)."""
    bulk.analyze(apps.get_model(label))


@periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    """Every minute a running worker stamps the queue's storage with the time."""
    HUEY.put(HEARTBEAT_KEY, time.time())


def worker_last_seen() -> float | None:
    """Seconds since a worker last stamped the queue, or None if never (or storage down)."""
    try:
        stamp = HUEY.get(HEARTBEAT_KEY, peek=True)
    except Exception:
        return None
    return None if stamp is None else max(0.0, time.time() - float(stamp))
