from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartsForecastConfig(AppConfig):
    """配件需求预测: the next four weeks of each part's demand from the maintenance due list and
    the part's own issue history (ADR 0027). Sits above parts and maintenance (beside service),
    the only place the layers allow reading both."""

    name = "autocrm.partsforecast"
    label = "partsforecast"
    verbose_name = _("Parts forecast")
    module_key = "aftersales"

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.roles import Role
        from autocrm.parts.models import Part

        from . import permissions  # noqa: F401  (the rule table)

        menu_roles = {Role.SERVICE_MANAGER, Role.MANAGER, Role.DIRECTOR}
        register_menu(
            "parts_forecast", _("Parts forecast"), "partsforecast:forecast", icon="chart-line", order=47,
            module="aftersales",
            visible=lambda actor: getattr(actor, "role", None) in menu_roles and can(actor, "view", Part),
        )  # fmt: skip
