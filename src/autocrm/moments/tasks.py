"""Huey tasks of care moments: every night each store's triggers queue the day's moments (the
outbox holds them until the sending window and the customer's quiet hours are over), and every
half hour the store city's weather alerts are read."""

from __future__ import annotations

from huey import crontab

from autocrm.core.modules import store_periodic_task
from autocrm.core.schedule import local_crontab

from .services import moments_run, weather_check


@store_periodic_task("care", local_crontab(minute="40", hour="1"))
def care_moments_daily(*, store_id: int) -> None:
    moments_run(store_id=store_id)


@store_periodic_task("care", crontab(minute="*/30"))
def care_weather_alerts(*, store_id: int) -> None:
    weather_check(store_id=store_id)
