"""Who may do what with care moments and the car club (SPEC §4–§5, issue 15 items 10 and 12).

The store manager sets the store's moment triggers; customer service agents and marketing read
them and the log of what was sent (a consultant sees what their own customers were sent); the
group director reads every store. Club events are run by customer service and marketing (and the
store manager); consultants and advisors register their customers and check them in. A
registration follows its event (reading needs the event's view, writing its change)."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

register(
    "moments.momenttrigger",
    {
        Role.AGENT: ("view", Scope.STORE),
        Role.MARKETING: ("view", Scope.STORE),
        Role.MANAGER: ("view change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="moments",
)
register(
    "moments.momentsend",
    {
        Role.SALES: ("view", Scope.OWN),
        Role.AGENT: ("view", Scope.STORE),
        Role.MARKETING: ("view", Scope.STORE),
        Role.MANAGER: ("view", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="moments",
)
register(
    "moments.weatherwarning",
    {
        Role.AGENT: ("view", Scope.STORE),
        Role.MARKETING: ("view", Scope.STORE),
        Role.MANAGER: ("view", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="moments",
)
register(
    "moments.clubevent",
    {
        Role.SALES: ("view change", Scope.STORE),
        Role.ADVISOR: ("view change", Scope.STORE),
        Role.AGENT: ("view add change", Scope.STORE),
        Role.MARKETING: ("view add change", Scope.STORE),
        Role.SALES_MANAGER: ("view change", Scope.STORE),
        Role.SERVICE_MANAGER: ("view change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="moments",
)
follow_parent("moments.clubregistration", "moments.clubevent")
