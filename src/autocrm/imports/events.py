"""What the import engine emits (``core.events``): an import file was written. Subscribers
(analytics refreshes, care or marketing reacting to new customers) take the job id and re-read."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class ImportCommitted:
    job_id: int
    kind: str  # "customers", "vehicles", … (the importer's kind)
    created: int
    updated: int


IMPORT_COMMITTED = define_event(
    "imports.committed", ImportCommitted, _("An import file was written (rows created and updated).")
)
