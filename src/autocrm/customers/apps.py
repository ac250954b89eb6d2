from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "autocrm.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import audit_labels, events, exporting, home, importing, timeline  # noqa: F401  (events: what this app emits)
        from .models import Customer, DuplicatePair

        audit_labels.register()  # how the audit trail names customers' actions and fields
        timeline.register()  # labels of the timeline kinds customers writes

        register_menu(
            "customers", _("Customers"), "customers:customer_list", icon="users", order=20,
            visible=lambda actor: can(actor, "view", Customer),
        )  # fmt: skip
        register_menu(
            "duplicates", _("Possible duplicates"), "duplicates:duplicate_list", icon="copy", order=25,
            visible=lambda actor: can(actor, "merge", DuplicatePair),
        )  # fmt: skip
        register_menu(
            "data_quality", _("Data quality"), "quality:quality_overview", icon="checkup-list", order=120,
            visible=lambda actor: can(actor, "quality", Customer),
        )  # fmt: skip
        importing.register()  # customers in the import engine (autocrm.imports)
        exporting.register()
        register_home_panel(
            "consultants", template="customers/panels/home_consultants.html", context=home.panel_consultants, order=25
        )
        register_home_panel("stores", template="customers/panels/home_stores.html", context=home.panel_stores, order=24)
        register_home_panel(
            "audience", template="customers/panels/home_audience.html", context=home.panel_audience, order=23
        )
