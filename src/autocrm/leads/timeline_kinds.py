"""The timeline kinds leads writes on a customer's timeline (``lead.created``, ``lead.enquired_again``
and ``lead.<activity kind>``), with their labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.customers.timeline import register_timeline_kind

from .choices import ActivityKind


def register() -> None:
    register_timeline_kind("lead.created", _("New lead"))
    register_timeline_kind("lead.enquired_again", _("Enquired again"))
    for kind in ActivityKind:
        register_timeline_kind(f"lead.{kind.value}", kind.label)
