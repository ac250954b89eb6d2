"""Who may upload, check and commit imports. Importing records of a kind needs, besides these,
the right to add that kind's model (``importing._may_import``); exporting needs the ``export``
right on the exported model. API tokens keep the ``customers`` resource the jobs had before
they moved here (``customers:read`` / ``customers:write``), so existing integrations go on working."""

from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

register(
    "imports.importjob",
    {
        Role.ADVISOR: ("view add", Scope.OWN),
        Role.SALES_MANAGER: ("view add", Scope.OWN),
        Role.SERVICE_MANAGER: ("view add", Scope.OWN),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="customers",
)
