"""Who keeps the item → part mapping: the parts keepers (service manager, store manager) of
their store; advisors read it; directors read every store's. The forecast itself is read by
whoever may see the store's parts (``parts.part`` view)."""

from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

register(
    "partsforecast.itempart",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change delete", Scope.STORE),
        Role.MANAGER: ("view add change delete", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="parts",
)
