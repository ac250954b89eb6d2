from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "autocrm.service"
    label = "service"
    verbose_name = _("After-sales service")
    module_key = "aftersales"
    # /appointments, /repair-orders…; /service-kpis (ADR 0026); /loaners, /errands, /rescues (ADR 0023)
    api_modules = ("api", "api_kpis", "api_mobility", "api_inspection")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        # Rule tables, events, the reminder sweep; the plan discount (ADR 0025); KPIs' cost basis
        # (ADR 0026); mobility (ADR 0023).
        from . import (  # noqa: F401
            accessories,
            events,
            insurance,
            labels,
            panels,
            permissions,
            permissions_kpis,
            permissions_mobility,
            plans,
            tasks,
            views,
            views_kpis,
            views_mobility,
        )
        from .kpis import sees_service_kpis
        from .models import (
            Accessory,
            Appointment,
            CannedJob,
            Errand,
            InspectionTemplate,
            InsuranceClaim,
            RepairOrder,
            VehiclePlan,
        )

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
        register_menu(
            "mobility", _("Mobility services"), "mobility:errands", icon="car", order=43, module="aftersales",
            visible=lambda actor: can(actor, "view", Errand),  # whoever sees loaners or rescues sees errands too
        )  # fmt: skip
        register_menu(
            "service_plans", _("Service plans"), "service:plan_list", icon="ticket", order=44,
            module="aftersales", visible=lambda actor: can(actor, "view", VehiclePlan),
        )  # fmt: skip
        register_menu(
            "accessories", _("Accessories and modifications"), "service:accessory_list", icon="gift", order=45,
            module="aftersales", visible=lambda actor: can(actor, "view", Accessory),
        )  # fmt: skip
        register_menu(
            "insurer_claims", _("Insurer receivables"), "service:claim_list", icon="shield", order=46,
            module="aftersales", visible=lambda actor: can(actor, "pay", InsuranceClaim),
        )  # fmt: skip
        register_menu(
            "service_kpis", _("Service KPIs"), "service_kpis:page", icon="chart-bar", order=47, module="aftersales",
            visible=sees_service_kpis,
        )  # fmt: skip
        register_menu(
            "inspection_checklist", _("Inspection checklist"), "service:inspection_checklist", icon="list-check",
            order=48, module="aftersales", visible=lambda actor: can(actor, "change", InspectionTemplate),
        )  # fmt: skip
        register_home_panel("service_day", template="service/panels/home_advisor.html", context=views.panel_advisor,
                            order=7)  # fmt: skip
        register_home_panel("service_jobs", template="service/panels/home_technician.html",
                            context=views.panel_technician, order=8)  # fmt: skip
        register_home_panel("service_throughput", template="service/panels/home_throughput.html",
                            context=views.panel_throughput, order=9)  # fmt: skip
        register_home_panel("service_workshop", template="service/panels/home_workshop.html",
                            context=views_kpis.panel_workshop, order=10)  # fmt: skip
        register_home_panel("mobility_driver", template="service/panels/home_driver.html",
                            context=views_mobility.panel_driver, order=11)  # fmt: skip
