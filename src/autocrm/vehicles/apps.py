from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VehiclesConfig(AppConfig):
    name = "autocrm.vehicles"
    label = "vehicles"
    verbose_name = _("Vehicles")

    def ready(self) -> None:
        from autocrm.core.forms import register_create_extra
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.core.views import register_home_panel

        from . import (
            audit_labels,
            events,  # noqa: F401  (declares the events this app emits)
            home,
            panels,
            timeline_kinds,
            views,
        )
        from .models import Vehicle

        register_menu(
            "vehicles", _("Vehicles"), "vehicles:vehicle_list", icon="car", order=22,
            visible=lambda actor: can(actor, "view", Vehicle),
        )  # fmt: skip

        audit_labels.register()  # vehicles' fields in the audit trail
        timeline_kinds.register()  # labels of the timeline kinds vehicles writes
        panels.register()  # the vehicles panel of the customer 360 page
        register_create_extra("customers.customer", views.FIRST_VEHICLE)  # the optional first vehicle on "new customer"
        from . import importing as vehicle_importing

        vehicle_importing.register()  # vehicles in the import/export engine (autocrm.imports)
        from . import extensions

        extensions.register()  # search keys, data-quality checks and duplicate evidence for customers
        from autocrm.core.roles import Role
        from autocrm.core.views import lazy_for

        # A consultant's first screen is the lead to-do: their customers' cars falling due load after it.
        register_home_panel("due", template="vehicles/panels/home_due.html", context=home.panel_due, order=26,
                            lazy=lazy_for(Role.SALES), title=_("Due in the next 30 days"))  # fmt: skip
        register_home_panel(
            "readings", template="vehicles/panels/home_readings.html", context=home.panel_readings, order=27
        )
