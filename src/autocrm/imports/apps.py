from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """The import/export engine: ``ImportJob``, the importer and exporter registries, the
    generic job pages, API and worker tasks. Apps above it register what they import and export."""

    name = "autocrm.imports"
    label = "imports"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can

        from . import audit_labels, exporting
        from .models import ImportJob

        audit_labels.register()  # how the audit trail names imports and their jobs

        register_menu(
            "imports", _("Import and export"), "imports:job_list", icon="file-import", order=28,
            visible=lambda actor: can(actor, "view", ImportJob) or bool(exporting.exporters_for(actor)),
        )  # fmt: skip
