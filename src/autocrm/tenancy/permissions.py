from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

# Every role working in a store reads that store (name, address, opening hours).
_STAFF = (
    Role.SALES, Role.ADVISOR, Role.AGENT, Role.MARKETING, Role.SALES_MANAGER, Role.SERVICE_MANAGER,
    Role.TECHNICIAN, Role.FINANCE,
)  # fmt: skip

register(
    "tenancy.store",
    {
        **dict.fromkeys(_STAFF, ("view", Scope.STORE)),
        Role.MANAGER: ("view change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
        Role.ADMIN: ("view add change modules", Scope.ORGANIZATION),  # modules: switch them on and off
    },
    resource="stores",
)
