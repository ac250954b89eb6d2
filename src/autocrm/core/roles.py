"""The staff roles of SPEC.md. Rule tables in each app's permissions.py are keyed by these codes.

Three tiers (销售-经理-总监): the desks (consultant, advisor, agent, marketing, technician, finance
and insurance), the managers of one side of the store (sales manager, service manager), then the
store manager — the store's general manager (店总/总经理), the last step of every escalation
ladder (总经理督办) — and the group director over every store."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES = "sales", _("Sales consultant")
    ADVISOR = "advisor", _("Service advisor")
    AGENT = "agent", _("Customer service agent")
    MARKETING = "marketing", _("Marketing specialist")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    TECHNICIAN = "technician", _("Technician")
    FINANCE = "finance", _("Finance and insurance specialist")
    MANAGER = "manager", _("Store manager (general manager)")
    DIRECTOR = "director", _("Group director")
    ADMIN = "admin", _("Administrator")


# What each role is for, shown beside the role where it is chosen (SPEC "Who uses it").
ROLE_DESCRIPTIONS = {
    Role.SALES: _("Follows up their own leads and customers: test drives, quotes, contracts, deliveries."),
    Role.ADVISOR: _("The store's service customers: appointments, repair orders, estimates, reminders."),
    Role.AGENT: _("The store's customers: follow-up calls, surveys, complaints."),
    Role.MARKETING: _("The store's segments and campaigns."),
    Role.SALES_MANAGER: _("The store's sales side: every consultant's customers, assigns them, coaches the team."),
    Role.SERVICE_MANAGER: _("The store's after-sales side: workshop, escalations from advisors, service KPIs."),
    Role.TECHNICIAN: _("Only what their repair orders need: the vehicles in the workshop."),
    Role.FINANCE: _("Finance and insurance of deals: customers read-only and masked, insurance renewals."),
    Role.MANAGER: _(
        "The store's general manager: everything in the store, approvals, and the last step of every escalation."
    ),
    Role.DIRECTOR: _("Every store of the group: group dashboards, cross-store views."),
    Role.ADMIN: _("Configuration: users, roles, stores, integrations."),
}

# Roles whose membership spans every store of the organization (Membership.store is empty).
ORGANIZATION_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})
# Managers of a store or of one side of it: they see their store's team and may turn on TOTP.
MANAGER_ROLES = frozenset({Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.MANAGER})
# Who may own a customer as its sales consultant or service advisor: the role itself and the managers
# above it on its side (a sales manager keeps a book of their own, as do many general managers).
CONSULTANT_ROLES = (Role.SALES, Role.SALES_MANAGER, Role.MANAGER)
ADVISOR_ROLES = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.MANAGER)
# The escalation ladder of a store, lowest first: a breach climbs one step at a time and ends
# with the general manager (总经理督办).
ESCALATION_LADDER = {
    "sales": (Role.SALES, Role.SALES_MANAGER, Role.MANAGER),
    "service": (Role.ADVISOR, Role.SERVICE_MANAGER, Role.MANAGER),
    "care": (Role.AGENT, Role.MANAGER),
}
STAFF_ROLES = tuple(Role)
