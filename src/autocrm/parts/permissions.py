"""Parts are the store's: service advisors read the catalogue and stock, reserve and issue parts
to their repair orders; technicians read it; the service manager (who is the parts clerk until
a parts role exists) keeps the catalogue, receives, adjusts, transfers and orders; the store
manager likewise; the group director reads every store's.

The cost of a part (and of a purchase order line) is hidden from every role but the service
manager, the store manager and the director. Purchase orders are for those same roles only: they
are all about cost. Reservations and ledger rows follow their part (``follow_parent``); lines
follow their order."""

from autocrm.core.permissions import Access, Scope, follow_parent, register
from autocrm.core.roles import Role

KEEPER = "view add change reserve issue receive adjust transfer export"
COST_ACCESS = (Role.SERVICE_MANAGER, Role.MANAGER, Role.DIRECTOR)
NO_COST = {role: Access.HIDDEN for role in Role if role not in COST_ACCESS}

PART_RULES = {
    Role.ADVISOR: ("view reserve issue", Scope.STORE),
    Role.TECHNICIAN: ("view", Scope.STORE),
    Role.SERVICE_MANAGER: (KEEPER, Scope.STORE),
    Role.MANAGER: (KEEPER, Scope.STORE),
    Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
}
register("parts.part", PART_RULES, resource="parts", fields={"cost": NO_COST})
follow_parent("parts.reservation", "parts.part")
follow_parent("parts.stockmovement", "parts.part")

register(
    "parts.supplier",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="parts",
)
register(
    "parts.purchaseorder",
    {
        Role.SERVICE_MANAGER: ("view add change receive", Scope.STORE),
        Role.MANAGER: ("view add change receive", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="parts",
)
follow_parent("parts.purchaseorderline", "parts.purchaseorder")
