"""Deals follow their consultant: a sales consultant works their own deals; the sales manager and
the store manager every deal of the store (they assign, approve discounts, export); the finance
and insurance specialist reads the store's deals and quotes and approves the finance of a deal at
the finance stage (``finance``: delivery waits for it); the group director reads every store's.

Documents, stage changes, test drives, needs analyses and trade-ins hang on their deal and follow
its rule (``follow_parent``): reading one needs ``view`` on the deal, writing one ``change``.
Quotes have their own table because approving a discount is a manager's action.

Stock is the store's: consultants read it to sell it, the sales manager and the store manager
keep it, marketing exports the price-sensitive prospects of an ageing model. The purchase cost
(and so the gross profit, 单车毛利) is hidden from every role but the managers and the director.

The sales-script library (话术库) is the store's: consultants and call-centre agents read it,
the sales manager and the store manager keep it."""

from autocrm.core.permissions import Access, Scope, follow_parent, register
from autocrm.core.roles import Role

DEAL_RULES = {
    Role.SALES: ("view add change advance", Scope.OWN),
    Role.SALES_MANAGER: ("view add change advance finance export", Scope.STORE),
    Role.FINANCE: ("view finance", Scope.STORE),
    Role.MANAGER: ("view add change advance finance export", Scope.STORE),
    Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
}
COST_ACCESS = (Role.SALES_MANAGER, Role.MANAGER, Role.DIRECTOR)
NO_COST = {role: Access.HIDDEN for role in Role if role not in COST_ACCESS}

# The gross profit of a deal is shown exactly to those who see the stock cost.
register("sales.deal", DEAL_RULES, resource="deals")
for child in ("sales.dealdocument", "sales.dealstagechange", "sales.testdrive", "sales.needsanalysis",
              "sales.tradein"):  # fmt: skip
    follow_parent(child, "sales.deal")

register(
    "sales.quote",
    {
        Role.SALES: ("view add", Scope.OWN),
        Role.SALES_MANAGER: ("view add approve", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.MANAGER: ("view add approve", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="deals",
)
register(
    "sales.stockvehicle",
    {
        Role.SALES: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view add change export", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.MARKETING: ("view export", Scope.STORE),
        Role.MANAGER: ("view add change delete export", Scope.STORE),
        Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
    },
    resource="stock",
    fields={"cost": NO_COST},
)
register(
    "sales.salessettings",
    {Role.SALES_MANAGER: ("view", Scope.STORE), Role.MANAGER: ("view change", Scope.STORE)},
    resource="deals",
)

# Sales KPIs (sales.kpis): the roles that have the page and the API; each sees the figures of
# the leads and deals its rules above let it read (a consultant their own, managers and finance
# the store, the director the group).
KPI_ROLES = (Role.SALES, Role.SALES_MANAGER, Role.MANAGER, Role.DIRECTOR, Role.FINANCE)


def sees_gross_profit(actor: object) -> bool:
    """Cost access: the gross profit per vehicle (单车毛利) is shown exactly to the roles that see
    the stock cost (``COST_ACCESS``), and not through an API token without the stock scope."""
    from autocrm.core.permissions import token_allows

    role = getattr(actor, "role", None)
    return role in COST_ACCESS and token_allows(actor, "sales.stockvehicle", "view")  # type: ignore[arg-type]


def sees_kpis(actor: object) -> bool:
    return getattr(actor, "role", None) in KPI_ROLES and getattr(actor, "store_id", None) is not None


register(
    "sales.salesscript",
    {
        Role.SALES: ("view", Scope.STORE),
        Role.AGENT: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view add change delete", Scope.STORE),
        Role.MANAGER: ("view add change delete", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="deals",
)
