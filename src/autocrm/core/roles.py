"""The staff roles of SPEC.md. Rule tables in each app's permissions.py are keyed by these codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES = "sales", _("Sales consultant")
    ADVISOR = "advisor", _("Service advisor")
    AGENT = "agent", _("Customer service agent")
    MARKETING = "marketing", _("Marketing specialist")
    MANAGER = "manager", _("Store manager")
    DIRECTOR = "director", _("Group director")
    ADMIN = "admin", _("Administrator")


# Roles whose membership spans every store of the organization (Membership.store is empty).
ORGANIZATION_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})
STAFF_ROLES = tuple(Role)
