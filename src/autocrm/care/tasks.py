"""Huey tasks of care: every 10 minutes each store with the care module escalates its overdue
follow-up calls and its complaints past a deadline (``services.followup_sweep`` /
``services.complaint_sweep``: each escalation once, safe to run again)."""

from __future__ import annotations

from huey import crontab

from autocrm.core.modules import store_periodic_task

from .services import complaint_sweep, followup_sweep


@store_periodic_task("care", crontab(minute="*/10"))
def care_deadlines_sweep(*, store_id: int) -> None:
    followup_sweep(store_id=store_id)
    complaint_sweep(store_id=store_id)
