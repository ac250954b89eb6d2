from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "autocrm.leads"
    label = "leads"
    verbose_name = _("Leads")
    api_modules = ("api", "api_settings")

    def ready(self) -> None:
        from . import events, notify, permissions  # noqa: F401  (the rule table and what this app emits)

        notify.register_kinds()
        from . import audit_labels

        audit_labels.register()  # how the audit trail names leads' actions and fields
        from . import timeline_kinds

        timeline_kinds.register()  # the badges of what leads writes on a customer's timeline
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import views
        from .models import Lead, LeadSettings

        register_menu(
            "leads", _("Leads"), "leads:lead_list", icon="target-arrow", order=15,
            visible=lambda actor: can(actor, "view", Lead),
        )  # fmt: skip
        register_menu(
            "lead_rules", _("Lead rules"), "leads:lead_rules", icon="adjustments", order=16,
            visible=lambda actor: can(actor, "view", LeadSettings),
        )  # fmt: skip
        register_home_panel("leads_todo", template="leads/panels/home_todo.html", context=views.panel_todo, order=5)
        register_home_panel("leads_board", template="leads/panels/home_board.html", context=views.panel_board, order=6)
        from django.db.models.signals import post_save

        from autocrm.tenancy.models import Store

        from .services import rules_changed

        def forget(sender: Any, instance: Any, **kwargs: Any) -> None:
            rules_changed(instance.pk if sender is Store else instance.store_id)

        post_save.connect(forget, sender=Store, dispatch_uid="leads.rules.store", weak=False)
        post_save.connect(forget, sender=LeadSettings, dispatch_uid="leads.rules.settings", weak=False)
        from . import importing

        importing.register()  # leads in the import engine (autocrm.imports)
        from autocrm.core.events import subscribe

        from . import browsing

        # browsing events that waited for this person's lead join it: in the worker, after the
        # intake's commit, so the intake request reads nothing more for them
        subscribe(events.LEAD_CREATED, browsing.on_lead_created, worker=True)
