from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "autocrm.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from . import events, notify, permissions  # noqa: F401  (the rule table and what this app emits)

        notify.register_kinds()
        from . import importing

        importing.register()  # leads in the import engine (autocrm.imports)
