"""Who may do what with messaging.

h/msgcore and h/msgui each keep their rules in a block of their own (merged by hand)."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

# --- h/msgcore's message rules (copied from its branch so that this one's pages have them
# before the merge; keep h/msgcore's) --------------------------------------------------------
SEND_ACTION = {"service": "send_service", "survey": "send_survey", "marketing": "send_marketing"}
MESSAGE_RULES = {
    Role.SALES: ("view send_service", Scope.OWN),
    Role.ADVISOR: ("view send_service send_survey", Scope.STORE),
    Role.AGENT: ("view send_service send_survey", Scope.STORE),
    Role.MARKETING: ("view send_marketing send_survey", Scope.STORE),
    Role.SALES_MANAGER: ("view send_service send_survey send_marketing", Scope.STORE),
    Role.SERVICE_MANAGER: ("view send_service send_survey send_marketing", Scope.STORE),
    Role.FINANCE: ("view", Scope.STORE),
    Role.MANAGER: ("view send_service send_survey send_marketing", Scope.STORE),
    Role.DIRECTOR: ("view", Scope.ORGANIZATION),
}
register("messaging.message", MESSAGE_RULES, resource="messages")
follow_parent("messaging.messageattempt", "messaging.message")
# --- end of the copy ------------------------------------------------------------------------------

# --- h/msgui: templates, channel settings, suppressions, the staff inbox ----------------------
# Templates are written by the desks that send (marketing, the service and sales managers) and
# by the store manager; every desk reads them (to send one from the customer's page). Channel
# accounts and the store's sending rules hold provider credentials: only the store manager and
# the administrator change them. The suppression list is kept by marketing, the care desk and
# the store manager. A notification belongs to the one person it was written for (``user``).

TEMPLATE_RULES = {
    Role.SALES: ("view", Scope.STORE),
    Role.ADVISOR: ("view", Scope.STORE),
    Role.AGENT: ("view", Scope.STORE),
    Role.MARKETING: ("view add change", Scope.STORE),
    Role.SALES_MANAGER: ("view add change", Scope.STORE),
    Role.SERVICE_MANAGER: ("view add change", Scope.STORE),
    Role.MANAGER: ("view add change delete", Scope.STORE),
    Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    Role.ADMIN: ("view", Scope.ORGANIZATION),
}
register("messaging.messagetemplate", TEMPLATE_RULES, resource="messaging")

CHANNEL_SETTINGS_RULES = {
    Role.MANAGER: ("view add change delete", Scope.STORE),
    Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    Role.ADMIN: ("view add change delete", Scope.ORGANIZATION),
}
register("messaging.channelaccount", CHANNEL_SETTINGS_RULES, resource="messaging")
register("messaging.messagingsettings", CHANNEL_SETTINGS_RULES, resource="messaging")

# The suppression list's rule is h/msgcore's (its permissions.py block); the same table is
# here only so that this branch's pages have it before the merge: keep one of the two.
register(
    "messaging.suppression",
    {
        Role.MARKETING: ("view add", Scope.STORE),
        Role.SALES_MANAGER: ("view", Scope.STORE),
        Role.SERVICE_MANAGER: ("view", Scope.STORE),
        Role.MANAGER: ("view add change delete", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="messages",
)

register(
    "messaging.staffnotification",
    {role: ("view change", Scope.OWN) for role in Role},
    resource="messaging",
)
# --- end h/msgui --------------------------------------------------------------------------------
