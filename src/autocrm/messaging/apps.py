from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "autocrm.messaging"
    label = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from . import audit_labels, timeline_kinds

        timeline_kinds.register()  # labels of the timeline kinds the outbox writes
        audit_labels.register()  # labels of audited fields without a translated verbose_name
