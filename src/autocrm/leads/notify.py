"""How leads tells a colleague something: one function over ``messaging.notifications`` so the
rest of the module does not depend on its signature."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def tell(
    *, user_id: int, kind: str, title: Any, store_id: int, link: str = "", body: str = "", dedup_key: str = ""
) -> None:
    """Put a notification in ``user_id``'s inbox (and WeCom) inside the caller's transaction."""
    from autocrm.messaging.notifications import notify_staff

    notify_staff(user=user_id, kind=kind, title=str(title), body=body, link=link, store=store_id, dedup_key=dedup_key)


def register_kinds() -> None:
    from autocrm.messaging.notifications import register_kind

    register_kind("leads.assigned", _("A lead was assigned to me"))
    register_kind("leads.enquired_again", _("A lead of mine enquired again"))
    register_kind("leads.unassigned", _("A lead no rule could place"))
    register_kind("leads.sla_reminder", _("A lead's deadline is near"))
    register_kind("leads.sla_breach", _("A lead missed its deadline"))
    register_kind("leads.lost_request", _("A lost request to decide"))
    register_kind("leads.lost_decided", _("My lost request was decided"))
