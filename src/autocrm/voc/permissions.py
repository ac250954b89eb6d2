"""Who reads what customers said: the store's managers and customer service agents read their
store's texts; a service advisor or sales consultant reads the texts about themselves (their own
feedback); the group director reads every store's. Nobody edits a text here: it is written by
the care module through ``services.record_text``."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

register(
    "voc.voctext",
    {
        Role.ADVISOR: ("view", Scope.OWN),
        Role.SALES: ("view", Scope.OWN),
        Role.AGENT: ("view", Scope.STORE),
        Role.SALES_MANAGER: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.MANAGER: ("view", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
)
follow_parent("voc.vocphrase", "voc.voctext")
