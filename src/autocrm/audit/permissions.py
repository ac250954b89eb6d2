"""The audit trail is the store manager's (总经理) and the group's: managers of one side of the
store and the desks see their own actions on the home page, and a record's history only where
their role has the ``audit`` action on that record's model."""

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
