from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "autocrm.messaging"
    label = "messaging"
    verbose_name = _("Messaging")
    # The API modules mounted under /api/v1 (core.api.mount_routers): the outbox's and the templates'.
    api_modules = ("api", "api_templates")

    def ready(self) -> None:
        from . import timeline_kinds

        timeline_kinds.register()  # labels of the timeline kinds the outbox writes

        # --- h/msgui: pages, navigation, the 360 panel, the bell, notification kinds ---------
        from . import home, permissions  # noqa: F401  (permissions: the rule tables)

        home.register()
        # --- end h/msgui ---------------------------------------------------------------------
