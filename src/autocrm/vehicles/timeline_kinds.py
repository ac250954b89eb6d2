"""The timeline kinds vehicles writes on a customer's timeline, with their labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.customers.timeline import register_timeline_kind


def register() -> None:
    register_timeline_kind("vehicle.added", _("Vehicle added"))
    register_timeline_kind("vehicle.transferred_in", _("Vehicle received"))
    register_timeline_kind("vehicle.transferred_out", _("Vehicle handed over"))
