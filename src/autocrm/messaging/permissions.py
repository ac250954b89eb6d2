"""Who may send which purpose and who reads the outbox (SPEC §7).

Everyone reads the messages of the customers in their scope (a consultant their own customers',
the desks the store's, directors the organization's). Sending is per purpose: the service desks
(advisors, agents, consultants for their own customers) send service notices and surveys; the
marketing specialist and the managers send marketing. Login codes and staff notifications are
sent by the system (no actor), never from the API.

Attempts follow their message (``follow_parent``). The suppression list is read by those who
send marketing and by the store manager, who also lifts entries."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

#: The permission action that sending a purpose needs.
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


# --- h/msgui: templates, channel settings, the staff inbox --------------------------------------
# Templates are written by the desks that send (marketing, the service and sales managers) and
# by the store manager; every desk reads them (to send one from the customer's page). Channel
# accounts and the store's sending rules hold provider credentials: only the store manager and
# the administrator change them. A notification belongs to the one person it was written for
# (``user``). (The suppression list's rule is h/msgcore's, above.)

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


register(
    "messaging.staffnotification",
    {role: ("view change", Scope.OWN) for role in Role},
    resource="messaging",
)
# --- end h/msgui --------------------------------------------------------------------------------
