"""The timeline kinds messaging writes on a customer's timeline, with their labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.customers.timeline import register_timeline_kind


def register() -> None:
    register_timeline_kind("message.suppressed", _("Message not sent"))
    register_timeline_kind("message.unsubscribed", _("Unsubscribed"))
    register_timeline_kind("message.reply", _("Reply to a message"))
    register_timeline_kind("message.clicked", _("Link clicked"))
