"""Huey tasks of leads: the follow-up sweep, every minute (reminders before a deadline,
escalation to the sales manager on breach, each once; ``leads.services.lead_sla_sweep``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from .services import lead_sla_sweep


@db_periodic_task(crontab(minute="*"), name="leads.sla_sweep")
@lock_task("leads-sla-sweep")
def sla_sweep() -> dict[str, int]:
    result = lead_sla_sweep()
    return {"reminded": result.reminded, "escalated": result.escalated,
            "follow_up_reminded": result.follow_up_reminded, "follow_up_escalated": result.follow_up_escalated}  # fmt: skip


@db_task()
def lead_rescore(run_id: int) -> dict[str, int]:
    """Rescore a store's open leads (``leads.rules.rescore_run``): chunk by chunk, each one
    transaction; a retry or a second delivery resumes at the run's cursor."""
    from .rules import rescore_run

    run = rescore_run(run_id)
    return {"scanned": run.scanned, "changed": run.changed, "newly_hot": run.newly_hot, "routed": run.routed}
