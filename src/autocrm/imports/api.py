"""/api/v1/customers/imports: upload, poll, re-map and commit imports of any registered kind;
thin handlers over ``imports.importing``. The path predates the imports app (the first kinds
were customers and vehicles) and is kept: it is a public contract (API.md)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import ValidationError

from . import importing
from .models import ImportJob

router = Router(tags=["imports"])
_CHOICES_JSON = _("Give the choices as a JSON object.")
PREFIX = "/customers"


class ImportReason(Schema):
    field: str
    label: str
    message: str


class ImportBadRow(Schema):
    row: int
    reasons: list[ImportReason]


class ImportJobOut(Schema):
    id: int
    kind: str
    original_name: str
    mode: str
    status: str
    total_rows: int
    processed_rows: int
    progress: int  # per cent
    bad_rows: int
    created_count: int
    updated_count: int
    merged_rows: int  # rows folded into an earlier row of the file (one record)
    queued_rows: int  # rows kept as records of their own and queued as possible duplicates
    choices: dict[str, str]  # the dry run's decisions (customers: in_file, existing)
    counts: dict[str, int]  # how many rows each decision affects
    mapping: dict[str, Any]
    error: str
    bad: list[ImportBadRow]
    warnings: list[dict[str, Any]]
    created_at: dt.datetime
    finished_at: dt.datetime | None = None


class ImportCommitIn(Schema):
    mode: str | None = None


class ImportMappingIn(Schema):
    columns: dict[str, int | None]


class ImportChoicesIn(Schema):
    choices: dict[str, str | None]


def job_out(job: ImportJob) -> dict[str, Any]:
    report = job.report or {}
    total = job.total_rows or 0
    return {
        "id": job.pk,
        "kind": job.kind,
        "original_name": job.original_name,
        "mode": job.mode,
        "status": job.status,
        "total_rows": total,
        "processed_rows": job.processed_rows,
        "progress": min(100, round(100 * job.processed_rows / total)) if total else 0,
        "bad_rows": job.bad_rows,
        "created_count": job.created_count,
        "updated_count": job.updated_count,
        "merged_rows": report.get("merged", 0),
        "queued_rows": report.get("queued", 0),
        "choices": importing.job_choices(job),
        "counts": report.get("counts") or {},
        "mapping": job.mapping,
        "error": job.error,
        "bad": importing.bad_rows_grouped(job),
        "warnings": report.get("warnings", []),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@router.post("/imports", response={201: ImportJobOut})
def import_create(
    request: ActorRequest,
    file: File[UploadedFile],
    kind: Form[str] = "customers",
    mode: Form[str] = "all",
    choices: Form[str] = "",
) -> Status[dict[str, Any]]:
    """Upload a CSV (UTF-8 or GBK) or .xlsx file of a registered ``kind`` (``customers``,
    ``vehicles``, …). Columns are mapped from the header and the dry run starts at once (in the
    worker for big files): poll ``GET /imports/{id}`` until ``status`` is ``checked``, read
    ``bad``, then commit. ``choices`` (a JSON object) takes the dry run's decisions at once —
    customers: ``{"in_file": "merge"|"review", "existing": "fill"|"change"|"review"}``."""
    try:
        chosen = json.loads(choices) if choices else {}
    except ValueError:
        chosen = None
    if not isinstance(chosen, dict):
        raise ValidationError(fields={"choices": [_CHOICES_JSON]})
    job = importing.import_job_create(actor=request.actor, upload=file, kind=kind, mode=mode, choices=chosen)
    return Status(201, job_out(job))


@router.get("/imports/{int:job_id}", response=ImportJobOut)
def import_get(request: ActorRequest, job_id: int) -> dict[str, Any]:
    """Status, progress (``processed_rows`` of ``total_rows``) and the report: every bad row with
    its field and reason."""
    return job_out(importing.import_job_get(actor=request.actor, pk=job_id))


@router.post("/imports/{int:job_id}/mapping", response=ImportJobOut)
def import_mapping(request: ActorRequest, job_id: int, payload: ImportMappingIn) -> dict[str, Any]:
    """Replace the column mapping (``{field: column index}``) and run the dry run again."""
    job = importing.import_job_get(actor=request.actor, pk=job_id)
    job = importing.import_job_map(actor=request.actor, job=job, columns=payload.columns)
    job = importing.import_job_check(actor=request.actor, job=job)
    return job_out(job)


@router.post("/imports/{int:job_id}/choices", response=ImportJobOut)
def import_choices(request: ActorRequest, job_id: int, payload: ImportChoicesIn) -> dict[str, Any]:
    """Change the dry run's decisions and run it again. Customers: ``in_file`` — rows of one
    person in the file are merged into one customer (``merge``, the default) or each kept and the
    pair queued for review (``review``); ``existing`` — a row matching a customer of the store by
    ID number or mobile fills its blanks (``fill``, the default), changes its values (``change``)
    or becomes a new customer queued for review beside it (``review``). ``counts`` says how many
    rows each affects."""
    job = importing.import_job_get(actor=request.actor, pk=job_id)
    job = importing.import_job_choose(actor=request.actor, job=job, choices=payload.choices)
    job = importing.import_job_check(actor=request.actor, job=job)
    return job_out(job)


@router.post("/imports/{int:job_id}/commit", response=ImportJobOut)
def import_commit(request: ActorRequest, job_id: int, payload: ImportCommitIn | None = None) -> dict[str, Any]:
    """Import the rows: all or nothing (the default: any bad row → 400, nothing written), or
    ``{"mode": "valid_only"}`` for the valid rows only. Big files run in the worker."""
    job = importing.import_job_get(actor=request.actor, pk=job_id)
    job = importing.import_job_commit(actor=request.actor, job=job, mode=payload.mode if payload else None)
    return job_out(job)
