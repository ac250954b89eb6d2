from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "autocrm.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can

        from .models import Customer

        register_menu(
            "customers", _("Customers"), "customers:customer_list", icon="users", order=20,
            visible=lambda actor: can(actor, "view", Customer),
        )  # fmt: skip
