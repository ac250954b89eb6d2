"""After-sales follows the store, not one advisor: the front desk shares its customers (a car
received by one advisor is delivered by another on the late shift), so advisors, the service
manager and the store manager work every appointment and repair order of the store; the
customer service agent books appointments (the call centre); technicians read the store's
repair orders and record progress and findings on jobs (``progress``), nothing else; the group
director reads every store's.

Jobs, part lines, photos, status changes, estimate links and declined work hang on their
repair order and follow its rule (``follow_parent``). Bills have their own table (taking the
payment, ``pay``). Canned jobs and the workshop settings are kept by the service manager and the
store manager."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

register(
    "service.appointment",
    {
        Role.ADVISOR: ("view add change", Scope.STORE),
        Role.AGENT: ("view add change", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change export", Scope.STORE),
        Role.MANAGER: ("view add change export", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.repairorder",
    {
        Role.ADVISOR: ("view add change advance", Scope.STORE),
        Role.TECHNICIAN: ("view progress", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change advance progress export", Scope.STORE),
        Role.MANAGER: ("view add change advance progress export", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
for child in ("service.job", "service.partline", "service.jobphoto", "service.repairorderstatuschange",
              "service.estimatelink", "service.declinedwork"):  # fmt: skip
    follow_parent(child, "service.repairorder")
register(
    "service.bill",
    {
        Role.ADVISOR: ("view add pay", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add pay export", Scope.STORE),
        Role.FINANCE: ("view", Scope.STORE),
        Role.MANAGER: ("view add pay export", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.cannedjob",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.TECHNICIAN: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change delete", Scope.STORE),
        Role.MANAGER: ("view add change delete", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
register(
    "service.servicesettings",
    {Role.SERVICE_MANAGER: ("view change", Scope.STORE), Role.MANAGER: ("view change", Scope.STORE)},
    resource="service",
)
for child in ("service.inspection", "service.inspectionitem", "service.inspectionphoto"):
    follow_parent(child, "service.repairorder")
register(
    "service.inspectiontemplate",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.TECHNICIAN: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view change", Scope.STORE),
        Role.MANAGER: ("view change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)
