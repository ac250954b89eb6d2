from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """保养预测、召回与续保: vehicle-centric predictions that service, care and marketing read."""

    name = "autocrm.maintenance"
    label = "maintenance"
    verbose_name = _("Maintenance")
    module_key = "aftersales"

    def ready(self) -> None:
        from autocrm.core.events import subscribe
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import audit_labels, exporting, panels, permissions, tasks  # noqa: F401  (rules, nightly task)
        from .models import RecallCampaign, VehicleDue
        from .services import on_repair_order_closed

        audit_labels.register()
        panels.register()
        exporting.register()
        from autocrm.core.roles import Role

        # In the menu of those who call owners (the service desk, agents) and their managers; the
        # insurance renewals (续保) also of the finance and insurance desk. The pages answer by the rules.
        callers = {Role.ADVISOR, Role.SERVICE_MANAGER, Role.MANAGER, Role.AGENT, Role.DIRECTOR}
        register_menu(
            "maintenance_due", _("Due for service"), "maintenance:due_list", icon="calendar-due", order=40,
            module="aftersales", visible=lambda actor: actor.role in callers and can(actor, "view", VehicleDue),
        )  # fmt: skip
        register_menu(
            "recalls", _("Recalls"), "maintenance:recall_list", icon="alert-triangle", order=41,
            module="aftersales", visible=lambda actor: actor.role in callers and can(actor, "view", RecallCampaign),
        )  # fmt: skip
        register_menu(
            "renewals", _("Insurance renewals"), "maintenance:renewal_list", icon="shield-check", order=42,
            module="aftersales",
            visible=lambda actor: actor.role in callers | {Role.FINANCE} and can(actor, "view", VehicleDue),
        )  # fmt: skip
        from .models import ServicePlan

        register_menu(
            "maintenance_plans", _("Maintenance plans"), "maintenance:plan_list", icon="list-check", order=43,
            module="aftersales",
            visible=lambda actor: actor.role in {Role.SERVICE_MANAGER, Role.MANAGER} and can(actor, "change", ServicePlan),
        )  # fmt: skip
        register_home_panel("maintenance_due_week", template="maintenance/panels/home_due.html",
                            context=panels.panel_home_due, order=7)  # fmt: skip
        # The service app emits it when a repair order closes (payload: docs/conventions.md §3).
        subscribe("service.repair_order_closed", on_repair_order_closed, key="maintenance.repair_order_closed")
        from autocrm.messaging.rendering import register_variable

        register_variable("campaign", _("Recall campaign"), "制动软管更换")
        register_variable("recall_code", _("Recall campaign code"), "R2026-01")
