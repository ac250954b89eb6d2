"""A scheduled job of the test module: once per store that has the module on."""

from huey import crontab

from autocrm.core.modules import store_periodic_task

SWEPT: list[int] = []  # the stores the last runs visited, for the tests


@store_periodic_task("testapp", crontab(minute="0", hour="3"))
def ticket_sweep(*, store_id: int) -> None:
    SWEPT.append(store_id)
