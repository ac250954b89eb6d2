"""Huey tasks of care: every 10 minutes each store with the care module escalates its overdue
follow-up calls and its complaints past a deadline (``services.followup_sweep`` /
``services.complaint_sweep``: each escalation once, safe to run again); every night at 02:40
(local) the win-back sweep flags the lapsed customers and contacts them (``services.winback_sweep``)."""

from __future__ import annotations

from huey import crontab

from autocrm.core.modules import store_periodic_task
from autocrm.core.schedule import local_crontab

from .services import complaint_sweep, followup_sweep, winback_sweep


@store_periodic_task("care", crontab(minute="*/10"))
def care_deadlines_sweep(*, store_id: int) -> None:
    followup_sweep(store_id=store_id)
    complaint_sweep(store_id=store_id)


@store_periodic_task("care", local_crontab(minute="40", hour="2"))
def care_winback_sweep(*, store_id: int) -> None:
    """02:40 Beijing time: flag the customers lapsed since the last night and contact them."""
    winback_sweep(store_id=store_id)
