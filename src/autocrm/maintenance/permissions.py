"""Who may do what with maintenance predictions and recalls (SPEC §3, issue 14).

The service desk (advisors, the service manager, the store manager) works the due list and the
recalls of its store: advisors call owners, record work done by hand and mark a recall done;
the service manager and the store manager import recall files and send the owners' notices.
Customer service agents call owners too, so they read the due list and the recalls. A sales
consultant sees their own customers' cars; directors read every store of the group.

Records and the per-vehicle summary follow the vehicle's owner (``scope_owner_field``);
recalled vehicles follow their campaign (``follow_parent``)."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

# The next service is read wherever the vehicle is (the same roles and scopes as the vehicle).
DUE_RULES = {
    Role.SALES: ("view", Scope.OWN),
    Role.ADVISOR: ("view export", Scope.STORE),
    Role.AGENT: ("view export", Scope.STORE),
    Role.MARKETING: ("view export", Scope.STORE),
    Role.SALES_MANAGER: ("view", Scope.STORE),
    Role.SERVICE_MANAGER: ("view export", Scope.STORE),
    Role.TECHNICIAN: ("view", Scope.STORE),
    Role.FINANCE: ("view", Scope.STORE),
    Role.MANAGER: ("view export", Scope.STORE),
    Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
}
register("maintenance.vehicledue", DUE_RULES, resource="maintenance")

register(
    "maintenance.maintenancerecord",
    {
        Role.SALES: ("view", Scope.OWN),
        Role.ADVISOR: ("view add", Scope.STORE),
        Role.AGENT: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add", Scope.STORE),
        Role.TECHNICIAN: ("view", Scope.STORE),
        Role.MANAGER: ("view add", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="maintenance",
)

register(
    "maintenance.recallcampaign",
    {
        Role.ADVISOR: ("view change", Scope.STORE),
        Role.AGENT: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view change import notify", Scope.STORE),
        Role.MANAGER: ("view change import notify", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="maintenance",
)
follow_parent("maintenance.recallvehicle", "maintenance.recallcampaign")

# The plan editor: the service manager (and the store manager) keeps the store's own plans (per
# series and the store's default, overriding the shipped ones); the service desk reads them.
register(
    "maintenance.serviceplan",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="maintenance",
)
