"""How leads tells a colleague something: one function over ``messaging.notifications`` so the
rest of the module does not depend on its signature."""

from __future__ import annotations

from typing import Any


def tell(
    *, user_id: int, kind: str, title: Any, store_id: int, link: str = "", body: str = "", dedup_key: str = ""
) -> None:
    """Put a notification in ``user_id``'s inbox (and WeCom) inside the caller's transaction."""
    from autocrm.messaging.notifications import notify_staff

    notify_staff(user=user_id, kind=kind, title=str(title), body=body, link=link, store=store_id, dedup_key=dedup_key)


# The kinds messaging names for the first modules (messaging.notifications.register_defaults):
# each person's preferences then cover leads too, without a kind per leads event.
ASSIGNED = "leads.assigned"  # a lead given to me, enquiring again, my lost request decided
REMINDER = "sla.breach"  # a deadline of mine is near
ESCALATED = "escalated"  # to the sales manager: a lead no rule could place, a missed deadline, a lost request
INVITE = ASSIGNED  # a customer kept coming back to one model's configuration: invite them (the consultant's kind)


def register_kinds() -> None:
    """Nothing of its own: leads tells people under the kinds above (a kind of its own would
    need every person's preference for it)."""
