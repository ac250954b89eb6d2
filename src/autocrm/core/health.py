"""Liveness of what the app depends on: the database and the task queue's storage."""

from __future__ import annotations

import contextlib
import logging

from django.db import connection

log = logging.getLogger(__name__)


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # any driver error means down
        log.warning("health: database check failed", exc_info=True)
        with contextlib.suppress(Exception):
            connection.close()
        return False


def check_queue() -> bool:
    """The queue's storage answers (Redis PING, or the SQLite queue file opens and reads)."""
    from huey.contrib.djhuey import HUEY

    try:
        storage = HUEY.storage
        client = getattr(storage, "conn", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()
        else:
            storage.queue_size()
        return True
    except Exception:
        log.warning("health: queue check failed", exc_info=True)
        return False
