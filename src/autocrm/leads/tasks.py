"""Huey tasks of leads: the follow-up sweep, every minute (reminders before a deadline,
escalation to the sales manager on breach, each once; ``leads.services.lead_sla_sweep``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .services import lead_sla_sweep


@db_periodic_task(crontab(minute="*"), name="leads.sla_sweep")
@lock_task("leads-sla-sweep")
def sla_sweep() -> dict[str, int]:
    result = lead_sla_sweep()
    return {"reminded": result.reminded, "escalated": result.escalated,
            "follow_up_reminded": result.follow_up_reminded, "follow_up_escalated": result.follow_up_escalated}  # fmt: skip
