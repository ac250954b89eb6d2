"""What messaging registers with the shared registries (h/msgui's part): navigation per role,
the customer 360 panel, the bell in the top bar, notification kinds, timeline kinds and audit
labels. Called from ``MessagingConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action, register_model
from autocrm.core.extensions import Panel, register_panel, registry
from autocrm.core.navigation import register_menu
from autocrm.core.permissions import can

TOPBAR = registry("shell.topbar")  # templates the top bar includes (read by accounts' shell)


def customer_messages_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """No query: the panel is a placeholder the page fills after its first paint (htmx)."""
    from .models import Message

    if not can(actor, "view", Message):
        return None
    return {"url": reverse("messaging:customer_messages_part", args=[customer.pk])}


def register() -> None:
    from autocrm.customers.timeline import register_timeline_kind

    from . import notifications
    from .models import ChannelAccount, Message, MessageTemplate, Suppression

    register_menu(
        "messages", _("Messages"), "messaging:message_list", icon="message", order=60,
        visible=lambda actor: can(actor, "view", Message),
    )  # fmt: skip
    register_menu(
        "message_templates", _("Message templates"), "messaging:template_list", icon="template", order=61,
        visible=lambda actor: can(actor, "add", MessageTemplate),
    )  # fmt: skip
    register_menu(
        "suppressions", _("Suppression list"), "messaging:suppression_list", icon="ban", order=62,
        visible=lambda actor: can(actor, "view", Suppression),
    )  # fmt: skip
    register_menu(
        "channel_settings", _("Channel settings"), "messaging:channel_settings", icon="settings", order=130,
        visible=lambda actor: can(actor, "change", ChannelAccount),
    )  # fmt: skip
    register_menu(
        "inbox", _("Notifications"), "messaging:inbox", icon="bell", order=5,
        visible=lambda actor: actor is not None and actor.user_id is not None,
    )  # fmt: skip
    register_panel(
        Panel(
            target="customers.customer",
            key="messages",
            template="messaging/panels/customer_messages.html",
            context=customer_messages_context,
            order=40,
        )
    )
    TOPBAR.register("messaging/partials/bell_slot.html", key="bell", order=10)
    notifications.register_defaults()
    register_timeline_kind("messaging.suppressed", _("Suppressed by staff"))
    register_timeline_kind("messaging.suppression_lifted", _("Suppression lifted"))
    register_action("messaging.secrets_replaced", _("Provider credentials replaced"))
    register_action("messaging.callback_secret_replaced", _("Callback URL replaced"))
    register_action("messaging.channel_tested", _("Provider tested"))
    register_model(
        "messaging.messagetemplate", url=lambda pk: reverse("messaging:template_edit", args=[pk])
    )
    register_model(
        "messaging.channelaccount",
        labels={"public_config": _("settings"), "secret_config": _("secrets")},
        url=lambda pk: reverse("messaging:account_edit", args=[pk]),
    )
