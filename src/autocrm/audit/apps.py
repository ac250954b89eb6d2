from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "autocrm.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import (
            labels,
            signals,  # noqa: F401
            views,
        )
        from .models import AuditEvent

        register_menu(
            "audit", _("Audit log"), "audit:event_list", icon="history", order=800,
            visible=lambda actor: can(actor, "view", AuditEvent),
        )  # fmt: skip
        labels.register()  # the actions core records; apps register their own
        from autocrm.core.roles import Role
        from autocrm.core.views import lazy_for

        # Not a consultant's first screen (their lead to-do is): it loads after the first paint.
        register_home_panel("activity", template="audit/panels/activity.html", context=views.panel_activity, order=30,
                            lazy=lazy_for(Role.SALES), title=_("Your recent activity"))  # fmt: skip
