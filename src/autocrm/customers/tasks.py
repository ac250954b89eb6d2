"""Background jobs of the customers app (discovered by huey's Django integration)."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_task

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core.audit import acting_as

from .dedup import duplicates_find


@db_task()
def duplicates_find_task(store_id: int, user_id: int | None = None, threshold: float | None = None) -> dict[str, Any]:
    """Run the duplicate finder over one store (``dedup.duplicates_find``, the one service). With
    ``user_id`` the user's rights are checked again in that store (they may have lost them since
    the job was queued)."""
    kwargs: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
    # run_now: this is the queued run; the service must not queue it again.
    if user_id is None:
        return duplicates_find(store_id=store_id, **kwargs).as_dict()
    actor = actor_build(user=User.objects.get(pk=user_id), store_id=store_id)
    if actor.store_id != store_id:
        return {"store": store_id, "error": "no access to this store"}
    with acting_as(actor):
        return duplicates_find(actor=actor, run_now=True, **kwargs).as_dict()
