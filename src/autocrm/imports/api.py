"""/api/v1/customers/imports: upload, poll, re-map and commit imports of any registered kind;
thin handlers over ``imports.importing``. The path predates the imports app (the first kinds
were customers and vehicles) and is kept: it is a public contract (API.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from autocrm.core.actor import ActorRequest

from . import importing
from .models import ImportJob

router = Router(tags=["imports"])
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
) -> Status[dict[str, Any]]:
    """Upload a CSV (UTF-8 or GBK) or .xlsx file of a registered ``kind`` (``customers``,
    ``vehicles``, …). Columns are mapped from the header and the dry run starts at once (in the
    worker for big files): poll ``GET /imports/{id}`` until ``status`` is ``checked``, read
    ``bad``, then commit."""
    job = importing.import_job_create(actor=request.actor, upload=file, kind=kind, mode=mode)
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


@router.post("/imports/{int:job_id}/commit", response=ImportJobOut)
def import_commit(request: ActorRequest, job_id: int, payload: ImportCommitIn | None = None) -> dict[str, Any]:
    """Import the rows: all or nothing (the default: any bad row → 400, nothing written), or
    ``{"mode": "valid_only"}`` for the valid rows only. Big files run in the worker."""
    job = importing.import_job_get(actor=request.actor, pk=job_id)
    job = importing.import_job_commit(actor=request.actor, job=job, mode=payload.mode if payload else None)
    return job_out(job)
