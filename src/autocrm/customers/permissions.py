"""Who may do what with customer master data (SPEC §1, §10).

Sales consultants see the customers assigned to them; the service, care and marketing
desks see the store's customers; managers everything in the store; directors read across
the organization. Child rows (consents, households, timeline) follow their customer's
owner. Personal data is masked for everyone until revealed, and each reveal is logged."""

from autocrm.core.permissions import Access, Scope, register
from autocrm.core.roles import Role

CUSTOMER_RULES = {
    Role.SALES: ("view add change reveal", Scope.OWN),
    Role.ADVISOR: ("view add change reveal", Scope.STORE),
    Role.AGENT: ("view change reveal", Scope.STORE),
    Role.MARKETING: ("view export", Scope.STORE),
    Role.MANAGER: ("view add change delete reveal export merge import assign quality", Scope.STORE),
    Role.DIRECTOR: ("view export quality", Scope.ORGANIZATION),
}

register(
    "customers.customer",
    CUSTOMER_RULES,
    fields={
        # Marketing works with segments, not identity documents or street addresses.
        "id_number": {Role.MARKETING: Access.HIDDEN},
        "address": {Role.MARKETING: Access.HIDDEN},
        "other_phones": {Role.MARKETING: Access.HIDDEN},
    },
    resource="customers",
)

_CHILD_RULES = {
    Role.SALES: ("view add change", Scope.OWN),
    Role.ADVISOR: ("view add change", Scope.STORE),
    Role.AGENT: ("view add change", Scope.STORE),
    Role.MARKETING: ("view", Scope.STORE),
    Role.MANAGER: ("view add change delete", Scope.STORE),
    Role.DIRECTOR: ("view", Scope.ORGANIZATION),
}
for model in ("customers.consent", "customers.household", "customers.householdmember", "customers.timelineevent"):
    register(model, _CHILD_RULES, resource="customers")

register(
    "customers.tag",
    {
        Role.SALES: ("view add", Scope.STORE),
        Role.ADVISOR: ("view add", Scope.STORE),
        Role.AGENT: ("view add", Scope.STORE),
        Role.MARKETING: ("view add change delete", Scope.STORE),
        Role.MANAGER: ("view add change delete", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="customers",
)

register(
    "customers.duplicatepair",
    {
        Role.SALES: ("view", Scope.STORE),
        Role.ADVISOR: ("view", Scope.STORE),
        Role.AGENT: ("view", Scope.STORE),
        Role.MANAGER: ("view change merge", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="customers",
)
register(
    "customers.customermerge",
    {Role.MANAGER: ("view undo", Scope.STORE), Role.DIRECTOR: ("view", Scope.ORGANIZATION)},
    resource="customers",
)
