from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartsConfig(AppConfig):
    name = "autocrm.parts"
    label = "parts"
    verbose_name = _("Parts")
    module_key = "aftersales"

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.roles import Role
        from autocrm.messaging.notifications import register_kind

        from . import events, permissions  # noqa: F401  (the rule table and what this app emits)
        from .models import Part, PurchaseOrder
        from .services import LOW_STOCK_KIND

        register_kind(LOW_STOCK_KIND, _("A part fell to its reorder point"))
        menu_roles = {Role.ADVISOR, Role.SERVICE_MANAGER, Role.MANAGER, Role.DIRECTOR}
        register_menu(
            "parts", _("Parts"), "parts:part_list", icon="box", order=45, module="aftersales",
            visible=lambda actor: getattr(actor, "role", None) in menu_roles and can(actor, "view", Part),
        )  # fmt: skip
        register_menu(
            "purchase_orders", _("Purchase orders"), "parts:po_list", icon="truck-delivery", order=46,
            module="aftersales", visible=lambda actor: can(actor, "view", PurchaseOrder),
        )  # fmt: skip
