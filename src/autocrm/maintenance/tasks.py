"""Huey tasks of maintenance: every night each store's vehicles get their next visit recomputed
(``services.due_recompute``: set-based, in chunks; 1,000,000 vehicles in under two minutes on
PostgreSQL, benchmarks/maintenance_due.py)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from autocrm.core.modules import store_periodic_task
from autocrm.core.schedule import local_crontab

from .services import due_recompute


@store_periodic_task("aftersales", local_crontab(minute="20", hour="2"))
def maintenance_due_nightly(*, store_id: int) -> None:
    due_recompute(store_id=store_id)


@db_task()
def maintenance_plan_recompute(*, store_id: int) -> None:
    """After a plan edit: the store's vehicles again, in the recompute's keyset chunks."""
    due_recompute(store_id=store_id)
