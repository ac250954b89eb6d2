"""Vehicles follow their owner: a sales consultant sees their customers' cars; the sales and
service managers and the store's service and care desks see the store's; directors read across
the organization. Technicians read the store's vehicles — VIN, model, mileage history are what a
job needs; when repair orders land the grant narrows to the cars of their orders. The finance
and insurance specialist reads them for insurance renewals (续保). The brand catalogue is shared
and read-only to staff.

Odometer readings and ownerships have no table of their own: they follow the vehicle's rule
(``follow_parent``): reading one needs ``view`` on the vehicle, recording one ``change``."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

VEHICLE_RULES = {
    Role.SALES: ("view add change", Scope.OWN),
    Role.ADVISOR: ("view add change transfer", Scope.STORE),
    Role.AGENT: ("view", Scope.STORE),
    Role.MARKETING: ("view export", Scope.STORE),
    Role.SALES_MANAGER: ("view add change export", Scope.STORE),
    Role.SERVICE_MANAGER: ("view add change transfer export", Scope.STORE),
    Role.TECHNICIAN: ("view", Scope.STORE),
    Role.FINANCE: ("view", Scope.STORE),
    Role.MANAGER: ("view add change delete transfer export import", Scope.STORE),
    Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
}
register("vehicles.vehicle", VEHICLE_RULES, resource="vehicles")
for model in ("vehicles.odometerreading", "vehicles.ownership"):
    follow_parent(model, "vehicles.vehicle")
