"""Vehicles follow their owner: a sales consultant sees their customers' cars; the store's
service and care desks see the store's; directors read across the organization. The brand
catalogue is shared and read-only to staff."""

from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

VEHICLE_RULES = {
    Role.SALES: ("view add change", Scope.OWN),
    Role.ADVISOR: ("view add change transfer", Scope.STORE),
    Role.AGENT: ("view", Scope.STORE),
    Role.MARKETING: ("view export", Scope.STORE),
    Role.MANAGER: ("view add change delete transfer export import", Scope.STORE),
    Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
}
register("vehicles.vehicle", VEHICLE_RULES, resource="vehicles")
for model in ("vehicles.odometerreading", "vehicles.ownership"):
    register(
        model,
        {
            Role.SALES: ("view add", Scope.OWN),
            Role.ADVISOR: ("view add", Scope.STORE),
            Role.AGENT: ("view", Scope.STORE),
            Role.MARKETING: ("view", Scope.STORE),
            Role.MANAGER: ("view add", Scope.STORE),
            Role.DIRECTOR: ("view", Scope.ORGANIZATION),
        },
        resource="vehicles",
    )
