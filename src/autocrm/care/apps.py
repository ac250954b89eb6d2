from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """客户关怀: follow-up calls after a delivery or a service, complaints with deadlines and escalation."""

    name = "autocrm.care"
    label = "care"
    verbose_name = _("Customer care")
    module_key = "care"

    def ready(self) -> None:
        from autocrm.core.events import subscribe
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.messaging.notifications import register_kind

        from . import audit_labels, panels, permissions, tasks  # noqa: F401  (rules, sweeps)
        from .models import Complaint, FollowUp
        from .services import ASSIGNED_KIND, on_deal_delivered, on_repair_order_closed

        audit_labels.register()
        panels.register()
        register_kind(ASSIGNED_KIND, _("Complaint assigned to you"))
        register_menu(
            "care_followups", _("Follow-up calls"), "care:followup_list", icon="phone-call", order=64, module="care",
            visible=lambda actor: can(actor, "view", FollowUp),
        )  # fmt: skip
        register_menu(
            "care_complaints", _("Complaints"), "care:complaint_list", icon="message-report", order=65, module="care",
            visible=lambda actor: can(actor, "view", Complaint),
        )  # fmt: skip
        from .models import SurveyResponse

        register_menu(
            "care_surveys", _("Surveys"), "care:survey_list", icon="star", order=66, module="care",
            visible=lambda actor: can(actor, "view", SurveyResponse),
        )  # fmt: skip
        from .models import CareSettings, WinBack

        register_menu(
            "care_winbacks", _("Win-back"), "care:winback_list", icon="user-heart", order=67, module="care",
            visible=lambda actor: can(actor, "view", WinBack),
        )  # fmt: skip
        register_menu(
            "care_settings", _("Care settings"), "care:settings", icon="settings", order=68, module="care",
            visible=lambda actor: can(actor, "change", CareSettings),
        )  # fmt: skip
        from autocrm.messaging.rendering import register_variable

        register_variable("link", _("Link"), "https://example.cn/q/abc/")
        # The moments that start a follow-up call (payloads: sales/events.py, service/events.py).
        subscribe("sales.deal_delivered", on_deal_delivered, key="care.deal_delivered")
        subscribe("service.repair_order_closed", on_repair_order_closed, key="care.repair_order_closed")
