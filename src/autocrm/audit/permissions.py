from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

register(
    "audit.auditevent",
    {
        Role.MANAGER: ("view", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
        Role.ADMIN: ("view", Scope.ORGANIZATION),
    },
    resource="audit",
)
