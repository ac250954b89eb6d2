"""Who may do what with leads (SPEC §2, issue 13).

Sales consultants work their own leads (log activities, request lost); the sales manager and
the store manager see and assign every lead of the store, approve lost requests and set the
store's lead rules and duty roster; directors read every store of the group. Customer service
agents take phone enquiries: they may add leads (which the rules then assign) and see the
store's unassigned ones. Activities follow their lead (``follow_parent``)."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

LEAD_RULES = {
    Role.SALES: ("view add change lost", Scope.OWN),
    Role.AGENT: ("view add", Scope.OWN_OR_UNASSIGNED),
    Role.SALES_MANAGER: ("view add change assign lost approve import export", Scope.STORE),
    Role.MANAGER: ("view add change assign lost approve import export", Scope.STORE),
    Role.DIRECTOR: ("view export", Scope.ORGANIZATION),
}

register("leads.lead", LEAD_RULES, resource="leads")
follow_parent("leads.leadactivity", "leads.lead")
follow_parent("leads.conversationrecord", "leads.lead")

# Browsing events: posted by the website's integration (a store manager's role, narrowed by the
# token's ``leads:write``); read with their lead.
register(
    "leads.leadevent",
    {
        Role.SALES: ("view", Scope.OWN),
        Role.SALES_MANAGER: ("view add", Scope.STORE),
        Role.MANAGER: ("view add", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="leads",
)
register(
    "leads.lostrequest",
    {
        Role.SALES: ("view add", Scope.OWN),
        Role.SALES_MANAGER: ("view add approve", Scope.STORE),
        Role.MANAGER: ("view add approve", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="leads",
)
register(
    "leads.consultantduty",
    {
        Role.SALES: ("view change", Scope.OWN),
        Role.SALES_MANAGER: ("view add change", Scope.STORE),
        Role.MANAGER: ("view add change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="leads",
)
register(
    "leads.leadsettings",
    {
        Role.SALES_MANAGER: ("view change", Scope.STORE),
        Role.MANAGER: ("view change", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="leads",
)
