from autocrm.core.permissions import Access, Scope, register
from autocrm.core.roles import Role

register(
    "testapp.ticket",
    {
        Role.SALES: ("view add change reveal", Scope.OWN),
        Role.ADVISOR: ("view add change", Scope.OWN_OR_UNASSIGNED),
        Role.AGENT: ("view reveal", Scope.STORE),
        Role.MARKETING: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view change reveal export", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.MANAGER: ("view add change delete reveal export", Scope.STORE),
        Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
    },
    fields={"cost_price": {Role.SALES: Access.HIDDEN, Role.AGENT: Access.HIDDEN, Role.ADVISOR: Access.HIDDEN}},
    resource="customers",
)
