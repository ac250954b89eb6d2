"""Import and export in the staff UI, for every registered kind: upload, column mapping, the
dry-run report, the commit choice (all or nothing / valid rows only), a progress bar polled with
htmx for big files, and downloads of filtered lists. Thin: every step calls one service of
``importing``/``exporting``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import DomainError, PermissionDenied, ValidationError
from autocrm.core.permissions import can

from . import exporting, importing
from .choices import ImportMode, ImportStatus
from .models import ImportJob

RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)


def _error_text(exc: DomainError) -> str:
    details = [str(m) for ms in exc.fields.values() for m in ms if str(m)]
    return " ".join(details) if details else str(exc.message)


def _export_kinds(actor: Any) -> list[tuple[str, Any]]:
    return [(e.kind, e.label) for e in exporting.exporters_for(actor)]


@login_required
@require_http_methods(["GET", "POST"])
def job_list(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    may_import = can(actor, "add", ImportJob)
    export_kinds = _export_kinds(actor)
    if not (can(actor, "view", ImportJob) or export_kinds):
        raise DjangoPermissionDenied()
    if request.method == "POST":
        if not may_import:
            raise DjangoPermissionDenied()
        try:
            job = importing.import_job_create(
                actor=actor,
                upload=request.FILES.get("file"),  # type: ignore[arg-type]
                kind=request.POST.get("kind", ""),
                mode=request.POST.get("mode") or ImportMode.ALL_OR_NOTHING,
            )
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            messages.error(request, _error_text(exc))
            return redirect("imports:job_list")
        return redirect("imports:job_detail", pk=job.pk)
    jobs = list(importing.import_job_list(actor=actor)[:50]) if can(actor, "view", ImportJob) else []
    kinds = [(i.kind, i.label) for i in importing.importers_for(actor)]
    return render(
        request,
        "imports/job_list.html",
        {
            "jobs": jobs,
            "may_import": may_import and bool(kinds),
            "kinds": kinds,
            "modes": ImportMode.choices,
            "export_kinds": export_kinds,
            "may_reveal": {e.kind for e in exporting.exporters_for(actor) if e.may_reveal(actor)},
        },
    )


def _job(request: ActorRequest, pk: int) -> ImportJob:
    return importing.import_job_get(actor=request.actor, pk=pk)


def _detail_context(request: ActorRequest, job: ImportJob) -> dict[str, Any]:
    actor = request.actor
    headers = (job.mapping or {}).get("headers", [])
    columns = (job.mapping or {}).get("columns", {})
    by_column = {int(i): name for name, i in columns.items()}
    preview = importing.import_preview(job=job) if job.status not in (ImportStatus.DONE,) else []
    may_act = importing.import_job_may_act(actor, job)
    report = job.report or {}
    importer = importing.IMPORTERS.get(job.kind)
    chosen = importing.job_choices(job)
    counts = report.get("counts") or {}
    return {
        "job": job,
        "running": job.status in RUNNING,
        "may_act": may_act and job.status not in (*RUNNING, ImportStatus.DONE),
        "mapping_rows": [
            {
                "index": i,
                "header": h,
                "field": by_column.get(i, ""),
                "samples": [r[i] if i < len(r) else "" for r in preview],
            }
            for i, h in enumerate(headers)
        ],
        "field_choices": importing.field_choices(job.kind),
        "bad": importing.bad_rows_grouped(job),
        "warnings": report.get("warnings", [])[:200],
        "report": report,
        "modes": ImportMode.choices,
        "percent": _percent(job),
        "choices": [
            {
                "name": c.name,
                "label": c.label,
                "options": c.options,
                "value": chosen.get(c.name, c.default),
                "count": counts.get(c.count_key) if c.count_key else None,
            }
            for c in (importer.choices if importer is not None else ())
        ],
    }


def _percent(job: ImportJob) -> int:
    return min(100, round(100 * job.processed_rows / job.total_rows)) if job.total_rows else 0


@login_required
@require_http_methods(["GET", "POST"])
def job_detail(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    job = _job(request, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "map":
                columns = {
                    request.POST[f"column_{i}"]: i
                    for i in range(len(job.mapping.get("headers", [])))
                    if request.POST.get(f"column_{i}")
                }
                job = importing.import_job_map(actor=actor, job=job, columns=columns)
                job = importing.import_job_check(actor=actor, job=job)
            elif action == "choose":
                importer = importing.importer_for(job.kind)
                chosen = {c.name: request.POST.get(f"choice_{c.name}", "") for c in importer.choices}
                job = importing.import_job_choose(actor=actor, job=job, choices=chosen)
                job = importing.import_job_check(actor=actor, job=job)
            elif action == "commit":
                job = importing.import_job_commit(actor=actor, job=job, mode=request.POST.get("mode"))
            else:
                raise ValidationError(fields={"action": [""]})
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        return redirect("imports:job_detail", pk=job.pk)
    return render(request, "imports/job_detail.html", _detail_context(request, job))


@login_required
def job_progress(request: ActorRequest, pk: int) -> HttpResponse:
    """The progress bar, polled every second while the job runs; once it has finished the page
    reloads itself to show the report."""
    job = _job(request, pk)
    if job.status not in RUNNING:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/partials/job_progress.html", {"job": job, "percent": _percent(job)})


@login_required
def export(request: ActorRequest, kind: str) -> HttpResponseBase:
    """Download the filtered list (the list pages link here with their query string)."""
    actor = request.actor
    params = request.GET.dict()
    fmt = params.pop("format", "csv")
    full = params.pop("full", "") in ("1", "on", "true")
    try:
        prepared = exporting.export_prepare(actor=actor, kind=kind, filters=params, fmt=fmt, full=full)
    except PermissionDenied:
        raise DjangoPermissionDenied() from None
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect(reverse("imports:job_list"))
    return exporting.export_response(prepared)
