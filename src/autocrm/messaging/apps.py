from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "autocrm.messaging"
    label = "messaging"
    verbose_name = _("Messaging")
    # The API modules mounted under /api/v1 (core.api.mount_routers): the outbox's and the templates'.
    api_modules = ("api", "api_templates")

    def ready(self) -> None:
        from . import audit_labels, timeline_kinds

        timeline_kinds.register()  # labels of the timeline kinds the outbox writes
        audit_labels.register()  # labels of audited fields without a translated verbose_name

        # pages, navigation, the 360 panel, the bell, notification kinds
        from . import home, notification_tasks, permissions  # noqa: F401  (rule tables; the digest task)

        home.register()
