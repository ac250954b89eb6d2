"""The store's cost basis for the service KPIs (``ServiceCosts``): kept by the store manager,
read by the service manager and the director (ADR 0026)."""

from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

register(
    "service.servicecosts",
    {
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.MANAGER: ("view change", Scope.STORE),
        Role.DIRECTOR: ("view change", Scope.ORGANIZATION),
    },
    resource="service",
)


def _labels() -> None:
    from django.utils.translation import gettext_lazy as _

    from autocrm.core.audit import register_action

    register_action("service_costs.set", _("Service cost basis changed"))


_labels()
