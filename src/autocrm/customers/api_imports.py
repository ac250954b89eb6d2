"""/api/v1/customers/export: the customer list as CSV or Excel, a thin handler over the export
engine (``autocrm.imports.exporting``) with the customer list's filters."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from ninja import Query, Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.imports import exporting

router = Router(tags=["imports"])


class ExportFilters(Schema):
    format: str = "csv"
    full: bool = False
    q: str | None = None
    kind: str | None = None
    lifecycle_stage: str | None = None
    source_channel: str | None = None
    district: str | None = None
    city: str | None = None
    consultant: int | None = None
    tag: str | None = None
    external_id: str | None = None


@router.get("/export", response={200: None})
def customer_export(request: ActorRequest, filters: Query[ExportFilters]) -> StreamingHttpResponse:
    """The customers in scope matching the list filters, as CSV (streamed) or .xlsx. Personal data
    masked; ``full=true`` gives full values to roles that may reveal them. Every export is logged."""
    params = filters.dict(exclude_none=True)
    fmt, full = params.pop("format"), params.pop("full")
    export = exporting.export_prepare(actor=request.actor, kind="customers", filters=params, fmt=fmt, full=full)
    return exporting.export_response(export)
