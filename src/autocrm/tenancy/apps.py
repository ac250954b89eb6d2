from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "autocrm.tenancy"
    label = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can

        from . import audit_labels
        from .models import Store

        audit_labels.register()  # how the audit trail names store settings

        register_menu(
            "stores_admin", _("Stores and modules"), "tenancy:store_list", icon="building-store", order=810,
            visible=lambda actor: can(actor, "modules", Store),
        )  # fmt: skip
