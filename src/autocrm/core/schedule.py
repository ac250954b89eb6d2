"""Schedules on the dealership's clock.

Huey reads a ``crontab`` against UTC (its ``utc=True`` default, which keeps ETAs and retries
unambiguous), so ``crontab(hour="2")`` runs at 10:00 in Shanghai — not at night. Periodic jobs that
mean a time of day use :func:`local_crontab`, which reads the same fields on ``settings.TIME_ZONE``
(Asia/Shanghai by default)::

    @store_periodic_task("aftersales", local_crontab(minute="20", hour="2"))   # 02:20 Beijing time

Jobs that run every few minutes keep Huey's ``crontab``: their times of day mean nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from huey import crontab


def local_crontab(
    minute: str = "*", hour: str = "*", day: str = "*", month: str = "*", day_of_week: str = "*"
) -> Callable[[dt.datetime], bool]:
    """A Huey schedule whose fields are read on the local clock (settings.TIME_ZONE)."""
    matches = crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, strict=True)

    def validate(timestamp: dt.datetime) -> bool:
        # Huey hands a naive UTC datetime (utc=True); an aware one is taken as it is.
        aware = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=dt.UTC)
        local = aware.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        return bool(matches(local))

    return validate
