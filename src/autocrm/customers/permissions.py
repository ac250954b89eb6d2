"""Who may do what with customer master data (SPEC "Who uses it", §1, §10).

Sales consultants see the customers assigned to them; the sales manager every consultant's
customers in the store, and assigns them; the service, care and marketing desks and the service
manager see the store's customers; the store manager (总经理) everything in the store; directors
read across the organization. The finance and insurance specialist reads the store's customers
with personal data masked and no reveal: deals needing finance do not exist yet, and a loan
file is prepared from the deal, not from the customer book — when the sales module lands, the
grant narrows to the customers of those deals. Technicians have no customer access: what a
repair order needs of its car and owner will come with the repair order.

Child rows (consents, households, household members, timeline events) have no table of their
own: they follow their customer's rule (``follow_parent``): reading one needs ``view`` on the
customer, writing one needs ``change``. Personal data is masked for everyone until revealed,
and each reveal is logged."""

from autocrm.core.permissions import Access, Scope, follow_parent, register
from autocrm.core.roles import Role

CUSTOMER_RULES = {
    Role.SALES: ("view add change reveal", Scope.OWN),
    Role.ADVISOR: ("view add change reveal", Scope.STORE),
    Role.AGENT: ("view change reveal", Scope.STORE),
    Role.MARKETING: ("view export", Scope.STORE),
    Role.SALES_MANAGER: ("view add change reveal export assign quality", Scope.STORE),
    Role.SERVICE_MANAGER: ("view add change reveal export quality", Scope.STORE),
    Role.FINANCE: ("view", Scope.STORE),
    Role.MANAGER: ("view add change delete reveal export merge import assign quality", Scope.STORE),
    Role.DIRECTOR: ("view export quality", Scope.ORGANIZATION),
}

register(
    "customers.customer",
    CUSTOMER_RULES,
    fields={
        # Marketing works with segments, not identity documents or street addresses; finance
        # gets them from the deal's loan file, not from here.
        "id_number": {Role.MARKETING: Access.HIDDEN, Role.FINANCE: Access.HIDDEN},
        "address": {Role.MARKETING: Access.HIDDEN, Role.FINANCE: Access.HIDDEN},
        "other_phones": {Role.MARKETING: Access.HIDDEN, Role.FINANCE: Access.HIDDEN},
    },
    resource="customers",
)

for model in ("customers.consent", "customers.household", "customers.householdmember", "customers.timelineevent"):
    follow_parent(model, "customers.customer")

register(
    "customers.tag",
    {
        Role.SALES: ("view add", Scope.STORE),
        Role.ADVISOR: ("view add", Scope.STORE),
        Role.AGENT: ("view add", Scope.STORE),
        Role.MARKETING: ("view add change delete", Scope.STORE),
        Role.SALES_MANAGER: ("view add change", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.MANAGER: ("view add change delete", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="customers",
)

# A pair is shown only when both of its customers are visible to the actor (customers.dedup),
# so a consultant sees the pairs among their own customers.
register(
    "customers.duplicatepair",
    {
        Role.SALES: ("view", Scope.STORE),
        Role.ADVISOR: ("view", Scope.STORE),
        Role.AGENT: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
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
