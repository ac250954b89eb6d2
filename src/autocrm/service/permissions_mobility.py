"""Mobility rule tables (ADR 0023). The front desk (advisors, the service manager, the store
manager) books loaners, takes errand and rescue requests and dispatches them, store-wide like the
rest of after-sales; the call centre (agent) takes errand requests. There is no driver role: the
driver of an errand and the rescue crew are technicians (the workshop's staff who drive cars
today), who see and move only their own errands and rescues (``progress``). The fleet and the
mobility settings are kept by the service manager and the store manager."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

register(
    "service.loaner",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.loanerbooking",
    {
        Role.ADVISOR: ("view add change", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
follow_parent("service.loanerphoto", "service.loanerbooking")
register(
    "service.errand",
    {
        Role.ADVISOR: ("view add change progress", Scope.STORE),
        Role.AGENT: ("view add", Scope.STORE),
        Role.TECHNICIAN: ("view progress", Scope.OWN),
        Role.SERVICE_MANAGER: ("view add change progress", Scope.STORE),
        Role.MANAGER: ("view add change progress", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.rescue",
    {
        Role.ADVISOR: ("view add change progress", Scope.STORE),
        Role.TECHNICIAN: ("view progress", Scope.OWN),
        Role.SERVICE_MANAGER: ("view add change progress", Scope.STORE),
        Role.MANAGER: ("view add change progress", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.mobilitysettings",
    {Role.SERVICE_MANAGER: ("view change", Scope.STORE), Role.MANAGER: ("view change", Scope.STORE)},
    resource="service",
)
