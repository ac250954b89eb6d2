"""What the shell (navigation, store switcher, user menu) needs on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from autocrm.core.extensions import registry
from autocrm.core.navigation import menu_for
from autocrm.core.roles import ORGANIZATION_ROLES
from autocrm.core.views import all_stores_chosen


def shell(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None or not request.user.is_authenticated:
        return {}
    from autocrm.tenancy.models import Store

    # scoped: the stores the actor is a member of (the store switcher), not only the current one
    stores = list(Store.objects.filter(pk__in=actor.member_store_ids).only("id", "name", "brand", "code"))
    current = next((s for s in stores if s.pk == actor.store_id), None)
    return {
        "actor": actor,
        "current_store": current,
        "switchable_stores": stores,
        # An organization-wide role may show every store in the lists ("all stores").
        "can_pick_all_stores": actor.role in ORGANIZATION_ROLES and len(stores) > 1,
        "all_stores": all_stores_chosen(request),
        "menu": menu_for(actor, request.path),
        # Templates higher apps put in the top bar (the notification bell): no query here, each
        # loads its own data after the page (htmx).
        "topbar": registry("shell.topbar").entries(),
    }
