"""Scheduled after-sales work: the day-before appointment reminders, per store with the
after-sales module on."""

from __future__ import annotations

from autocrm.core.modules import store_periodic_task
from autocrm.core.schedule import local_crontab


@store_periodic_task("aftersales", local_crontab(minute="0", hour="10"))
def appointment_reminders(*, store_id: int) -> None:
    """Remind the owners of tomorrow's appointments (SMS or WeChat by their consent)."""
    from .services import appointment_reminders_send

    appointment_reminders_send(store_id=store_id)


@store_periodic_task("aftersales", local_crontab(minute="5", hour="0"))
def plans_expire_nightly(*, store_id: int) -> None:
    """Just after midnight in Shanghai: the store's prepaid plans past their end date become
    expired (ADR 0025), so lists, the 360 page and the API read them right all day."""
    from .plans import plans_expire

    plans_expire(store_id=store_id)
