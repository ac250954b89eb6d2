"""How the audit trail names what the import engine records: the ``import`` action with a
summary of its report (rows, created, updated, bad, linked to the job), and the job's fields.
Registered in ``ImportsConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import Fact, Names, register_action, register_model

from .choices import ImportMode

JOB = "imports.importjob"
OLD_JOB = "customers.importjob"  # events recorded before the engine moved out of customers


def _kind_label(kind: str) -> str:
    from .importing import IMPORTERS

    importer = IMPORTERS.get(kind)
    return str(importer.label) if importer is not None and importer.label is not None else kind


def _import_facts(event: Any, names: Names) -> list[Fact]:
    extra = event.extra
    facts = [
        Fact(_("File"), extra.get("file", ""), names.url(JOB, event.object_id)),
        Fact(_("Rows"), extra.get("rows", 0)),
        Fact(_("Records created"), extra.get("created", 0)),
        Fact(_("Records updated"), extra.get("updated", 0)),
        Fact(_("Bad rows"), extra.get("skipped", 0)),
    ]
    if extra.get("kind"):
        facts.append(Fact(_("Kind"), _kind_label(extra["kind"])))
    if extra.get("mode"):
        facts.append(Fact(_("Mode"), dict(ImportMode.choices).get(extra["mode"], extra["mode"])))
    return facts


def _import_refs(event: Any) -> list[tuple[str, Any]]:
    return [(JOB, event.object_id)]


def _report(report: Any) -> Any:
    """An import job's report: the counts of its dry run and commit, not its JSON."""
    if not isinstance(report, dict):
        return report
    parts = []
    for key, label in (
        ("rows", _("rows")),
        ("valid", _("valid")),
        ("bad", _("bad")),
        ("created", _("records created")),
        ("updated", _("records updated")),
        ("skipped", _("rows skipped")),
    ):
        if key in report:
            parts.append(f"{label} {report[key]}")
    return gettext(", ").join(parts) or None


def _mapping(mapping: Any) -> Any:
    """The column mapping: the file's headers that were read."""
    if not isinstance(mapping, dict):
        return mapping
    headers = mapping.get("headers") or []
    columns = mapping.get("columns") or {}
    used = [str(headers[i]) for i in sorted(columns.values()) if isinstance(i, int) and 0 <= i < len(headers)]
    return gettext(", ").join(used) or None


def _url(name: str) -> Any:
    return lambda pk: reverse(name, args=[pk])


def register() -> None:
    register_action("import", _("Imported"), refs=_import_refs, summary=_import_facts)
    for object_type in (JOB, OLD_JOB):
        register_model(
            object_type,
            labels={
                "total_rows": _("rows"),
                "processed_rows": _("rows processed"),
                "bad_rows": _("bad rows"),
                "created_count": _("records created"),
                "updated_count": _("records updated"),
                "error": _("error"),
                "created_by_id": _("uploaded by"),
                "finished_at": _("finished at"),
            },
            hidden=("file",),  # the stored path; the file name is shown
            formatters={"report": _report, "mapping": _mapping},
            url=_url("imports:job_detail"),
        )
