from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class SalesConfig(AppConfig):
    name = "autocrm.sales"
    label = "sales"
    verbose_name = _("Sales")
    module_key = "sales"
    api_modules = ("api", "api_kpis")  # /deals…, and /sales-kpis

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can

        from . import (
            events,  # noqa: F401  (declares the events this app emits)
            panels,
            timeline_kinds,
        )
        from .models import Deal, Quote, SalesScript, StockVehicle

        timeline_kinds.register()
        panels.register()  # the deals panel (with repeat purchases) of the customer 360 page
        from autocrm.core.audit import register_action

        register_action("deal.advance", _("Deal moved to a later stage"))
        register_action("deal.cancel", _("Deal cancelled"))
        register_action("deal.finance_approve", _("Deal finance approved"))
        register_action("quote.approve", _("Quote discount approved"))
        register_action("quote.reject", _("Quote discount rejected"))
        from autocrm.messaging.notifications import register_kind

        register_kind(
            "sales.quote_approval",
            _("Quote discounts to approve and decided"),
            lambda n: (
                ngettext("%(count)d quote to approve or decided", "%(count)d quotes to approve or decided", n)
                % {"count": n}
            ),
            order=40,
        )
        register_menu(
            "deals", _("Deals"), "sales:deal_list", icon="briefcase", order=30, module="sales",
            visible=lambda actor: can(actor, "view", Deal),
        )  # fmt: skip
        from . import views_kpis
        from .permissions import sees_kpis

        register_menu(
            "sales_kpis", _("Sales KPIs"), "sales_kpis:page", icon="chart-bar", order=32, module="sales",
            visible=sees_kpis,
        )  # fmt: skip
        from autocrm.core.views import register_home_panel

        register_home_panel("sales_funnel", template="sales/panels/home_funnel.html", context=views_kpis.panel_funnel,
                            order=7)  # fmt: skip
        register_menu(
            "stock", _("Stock"), "sales:stock_list", icon="building-warehouse", order=31, module="sales",
            visible=lambda actor: can(actor, "view", StockVehicle),
        )  # fmt: skip
        register_menu(
            "quotes_to_approve", _("Quotes to approve"), "sales:quote_queue", icon="discount-check", order=32,
            module="sales", visible=lambda actor: can(actor, "approve", Quote),
        )  # fmt: skip
        register_menu(
            "sales_scripts", _("Sales scripts"), "sales:script_list", icon="message-chatbot", order=33,
            module="sales", visible=lambda actor: can(actor, "view", SalesScript),
        )  # fmt: skip
