"""Who may do what in customer care (SPEC §4, issue 15).

Customer service agents work the store's follow-up calls as one team (a colleague's calls are
covered when they are away) and receive and handle complaints. An advisor or a consultant
records a complaint a customer makes at the desk and handles those assigned to them. The
department managers (sales, service) and the store manager (总经理) handle, assign and escalate
every complaint of the store; directors read every store of the group."""

from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

register(
    "care.followup",
    {
        Role.AGENT: ("view change", Scope.STORE),
        Role.SALES_MANAGER: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.MANAGER: ("view change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="care",
)

register(
    "care.complaint",
    {
        Role.AGENT: ("view add change", Scope.STORE),
        Role.SALES: ("view add change", Scope.OWN),
        Role.ADVISOR: ("view add change", Scope.OWN),
        Role.SALES_MANAGER: ("view add change escalate", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change escalate", Scope.STORE),
        Role.MANAGER: ("view add change escalate", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="care",
)

register(
    "care.caresettings",
    {Role.MANAGER: ("view change", Scope.STORE), Role.DIRECTOR: ("view change", Scope.ORGANIZATION)},
    resource="care",
)

# Survey answers: the agents and managers read the store's; an advisor or a consultant reads the
# answers about themselves; the store manager reviews the flagged ones (刷分 checks).
register(
    "care.surveyresponse",
    {
        Role.SALES: ("view", Scope.OWN),
        Role.ADVISOR: ("view", Scope.OWN),
        Role.AGENT: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.MANAGER: ("view review", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="care",
)

# Win-backs (issue 15 item 3b): the agents work them (their calls) and read the store's; the
# managers read the rate; the store manager reviews a flagged answer; directors read every store.
register(
    "care.winback",
    {
        Role.AGENT: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.MANAGER: ("view review", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="care",
)
