from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "autocrm.service"
    label = "service"
    verbose_name = _("After-sales service")
    module_key = "aftersales"
    api_modules = ("api", "api_kpis")  # /repair-orders…, and /service-kpis

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import accessories, events, insurance, labels, panels, permissions, plans, tasks, views  # noqa: F401  (rule table, events, the reminder sweep)  # noqa: F401  (ADR 0025: rule tables, the plan discount)
        from .models import Appointment, CannedJob, RepairOrder

        plans.install()
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
        from .models import Accessory, InsuranceClaim, VehiclePlan

        register_menu(
            "service_plans", _("Service plans"), "service:plan_list", icon="ticket", order=43,
            module="aftersales", visible=lambda actor: can(actor, "view", VehiclePlan),
        )  # fmt: skip
        register_menu(
            "accessories", _("Accessories and modifications"), "service:accessory_list", icon="gift", order=44,
            module="aftersales", visible=lambda actor: can(actor, "view", Accessory),
        )  # fmt: skip
        register_menu(
            "insurer_claims", _("Insurer receivables"), "service:claim_list", icon="shield", order=45,
            module="aftersales", visible=lambda actor: can(actor, "pay", InsuranceClaim),
        )  # fmt: skip
        register_home_panel("service_day", template="service/panels/home_advisor.html", context=views.panel_advisor,
                            order=7)  # fmt: skip
        register_home_panel("service_jobs", template="service/panels/home_technician.html",
                            context=views.panel_technician, order=8)  # fmt: skip
        register_home_panel("service_throughput", template="service/panels/home_throughput.html",
                            context=views.panel_throughput, order=9)  # fmt: skip
        from . import permissions_kpis, views_kpis  # noqa: F401  (the cost basis's rules, ADR 0026)
        from .kpis import sees_service_kpis

        register_menu(
            "service_kpis", _("Service KPIs"), "service_kpis:page", icon="chart-bar", order=43, module="aftersales",
            visible=sees_service_kpis,
        )  # fmt: skip
        register_home_panel("service_workshop", template="service/panels/home_workshop.html",
                            context=views_kpis.panel_workshop, order=10)  # fmt: skip
