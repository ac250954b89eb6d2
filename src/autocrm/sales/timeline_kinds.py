"""The timeline kinds sales writes on a customer's timeline, with their labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.customers.timeline import register_timeline_kind


def register() -> None:
    register_timeline_kind("deal.opened", _("Deal opened"))
    register_timeline_kind("deal.advanced", _("Deal stage"))
    register_timeline_kind("deal.delivered", _("Car delivered"))
    register_timeline_kind("deal.test_drive", _("Test drive"))
    register_timeline_kind("deal.quote", _("Quote"))
    register_timeline_kind("deal.cancelled", _("Deal cancelled"))
