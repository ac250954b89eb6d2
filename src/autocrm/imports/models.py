from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import ImportMode, ImportStatus
from .storage import sealed_storage


class ImportJob(TenantModel):
    """An upload of records of one registered kind (customers, vehicles, …) from CSV or Excel:
    column mapping, a dry run that lists every bad row with its reasons, then an all-or-nothing
    (or valid-rows-only) commit. Big files run in the worker; ``processed_rows`` drives the
    progress bar. The upload is stored encrypted (``storage.SealedStorage``) and deleted once
    the job is done, or by the nightly sweep.

    The table keeps the name it had when the model lived in ``customers`` (migration
    ``imports.0001``): moving it renamed nothing in the database."""

    kind = models.CharField(_("kind"), max_length=40)  # a key of the importer registry
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", storage=sealed_storage)
    original_name = models.CharField(_("file name"), max_length=200)
    mapping = models.JSONField(_("column mapping"), default=dict)
    mode = models.CharField(_("mode"), max_length=12, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    bad_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(_("report"), default=dict)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    scope_owner_field = "created_by"

    class Meta:
        db_table = "customers_importjob"
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.original_name

    def get_kind_display(self) -> Any:
        """The registered importer's label (``Customers``, ``Vehicles``…), or the key itself."""
        from .importing import IMPORTERS

        importer = IMPORTERS.get(self.kind)
        return importer.label if importer is not None else self.kind
