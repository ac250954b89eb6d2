from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "autocrm.service"
    label = "service"
    verbose_name = _("After-sales service")
    module_key = "aftersales"
    api_modules = ("api", "api_mobility")  # /appointments…, and /loaners, /errands, /rescues (ADR 0023)

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import events, labels, panels, permissions, permissions_mobility, tasks, views, views_mobility  # noqa: F401  (rule table, events, the reminder sweep)  # noqa: F401  (mobility rule tables, ADR 0023)
        from .models import Appointment, CannedJob, Errand, RepairOrder

        labels.register()
        panels.register()
        register_menu(
            "appointments", _("Appointments"), "service:appointment_list", icon="calendar", order=40,
            module="aftersales", visible=lambda actor: can(actor, "view", Appointment),
        )  # fmt: skip
        register_menu(
            "repair_orders", _("Repair orders"), "service:repair_order_list", icon="tool", order=41,
            module="aftersales", visible=lambda actor: can(actor, "view", RepairOrder),
        )  # fmt: skip
        register_menu(
            "canned_jobs", _("Canned jobs"), "service:canned_job_list", icon="package", order=42,
            module="aftersales", visible=lambda actor: can(actor, "add", CannedJob),
        )  # fmt: skip
        register_menu(
            "mobility", _("Mobility services"), "mobility:errands", icon="car", order=43, module="aftersales",
            visible=lambda actor: can(actor, "view", Errand),  # whoever sees loaners or rescues sees errands too
        )  # fmt: skip
        register_home_panel("service_day", template="service/panels/home_advisor.html", context=views.panel_advisor,
                            order=7)  # fmt: skip
        register_home_panel("service_jobs", template="service/panels/home_technician.html",
                            context=views.panel_technician, order=8)  # fmt: skip
        register_home_panel("service_throughput", template="service/panels/home_throughput.html",
                            context=views.panel_throughput, order=9)  # fmt: skip
        register_home_panel("mobility_driver", template="service/panels/home_driver.html",
                            context=views_mobility.panel_driver, order=10)  # fmt: skip
