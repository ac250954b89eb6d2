from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MomentsConfig(AppConfig):
    """关怀时刻与车友会: store-configurable care moments sent through the outbox, weather alerts,
    and the car club's events, registrations and check-ins."""

    name = "autocrm.moments"
    label = "moments"
    verbose_name = _("Care moments and car club")
    module_key = "care"

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can
        from autocrm.messaging.rendering import register_variable

        from . import audit_labels, permissions, tasks  # noqa: F401  (rules, periodic tasks)
        from .models import ClubEvent, MomentSend, MomentTrigger

        audit_labels.register()
        register_menu(
            "care_moments", _("Care moments"), "moments:moment_log", icon="gift", order=68, module="care",
            visible=lambda actor: can(actor, "view", MomentSend) or can(actor, "view", MomentTrigger),
        )  # fmt: skip
        register_menu(
            "car_club", _("Car club"), "moments:event_list", icon="users-group", order=69, module="care",
            visible=lambda actor: can(actor, "view", ClubEvent),
        )  # fmt: skip
        for name, label, sample in (
            ("years", _("years with the car"), "3"),
            ("holiday", _("holiday"), "中秋节"),
            ("gift", _("gift"), "生日券 BD8K2Q"),
            ("warning", _("weather warning"), "成都市气象台发布暴雨橙色预警"),
            ("tips", _("driving tips"), "暴雨天请减速慢行"),
            ("event_title", _("club event"), "川西自驾游"),
            ("event_time", _("club event time"), "2026-12-12 09:00"),
            ("event_place", _("club event place"), "4S店门口集合"),
        ):
            register_variable(name, label, sample)
