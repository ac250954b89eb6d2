"""The digital inspection over the API (ADR 0031): the store's checklist
(``GET/PUT /api/v1/inspection-checklist``) and a repair order's inspection
(``GET/POST /api/v1/repair-orders/{id}/inspection``, ``…/inspection/results``, an item's photos and
its recommended work) — thin handlers over ``service.inspection``, scoped like the repair order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from autocrm.core.actor import ActorRequest

from . import inspection, selectors
from .models import Inspection, InspectionItem, InspectionPhoto, InspectionTemplate, RepairOrder

router = Router(tags=["service"])
PREFIX = ""


class InspectionChecklistItemOut(Schema):
    area: str
    label: str
    photo: bool
    canned_job: int | None = None


class InspectionChecklistOut(Schema):
    store: int
    items: list[InspectionChecklistItemOut]
    updated_at: dt.datetime | None = None


class InspectionChecklistIn(Schema):
    """``items``: the whole list in order, each ``{"area", "label", "photo", "canned_job"}``."""

    items: Any = None


class InspectionPhotoOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class InspectionItemOut(Schema):
    id: int
    position: int
    area: str
    label: str
    rating: str
    note: str
    photo_required: bool
    canned_job: int | None = None
    job: int | None = None
    photos: list[InspectionPhotoOut]


class InspectionOut(Schema):
    repair_order: int
    started: bool
    inspector: int | None = None
    summary: dict[str, int]
    items: list[InspectionItemOut]


class InspectionResultsIn(Schema):
    """``results``: a list of ``{"item", "rating", "note"}`` (rating green, amber, red or "")."""

    results: Any = None


class InspectionRecommendIn(Schema):
    canned_job: Any = None
    hours: Any = None


def checklist_out(row: InspectionTemplate) -> dict[str, Any]:
    return {"store": row.store_id, "items": inspection.checklist_items(row), "updated_at": row.updated_at}


def photo_out(ro_id: int, p: InspectionPhoto) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "content_type": p.content_type, "size": p.size,
            "url": reverse("service:inspection_photo", args=[ro_id, p.pk])}  # fmt: skip


def inspection_out(ro: RepairOrder, row: Inspection | None) -> dict[str, Any]:
    items = inspection.items_of(row)
    return {
        "repair_order": ro.pk, "started": row is not None, "inspector": row.inspector_id if row else None,
        "summary": inspection.summary(items),
        "items": [{"id": i.pk, "position": i.position, "area": i.area, "label": i.label, "rating": i.rating,
                   "note": i.note, "photo_required": i.photo_required, "canned_job": i.canned_job_id,
                   "job": i.job_id, "photos": [photo_out(ro.pk, p) for p in i.photos.all()]} for i in items],
    }  # fmt: skip


@router.get("/inspection-checklist", response=InspectionChecklistOut)
def checklist_read(request: ActorRequest) -> dict[str, Any]:
    """The current store's walk-round checklist in order (until the service manager saves one,
    the default in the request's language, Chinese unless asked otherwise)."""
    return checklist_out(inspection.checklist_get(actor=request.actor))


@router.put("/inspection-checklist", response=InspectionChecklistOut)
def checklist_replace(request: ActorRequest, payload: InspectionChecklistIn) -> dict[str, Any]:
    """Replace the store's checklist (service manager, store manager; audited). 400 naming
    ``items`` and the line; repair orders already inspected keep their list."""
    row = inspection.inspection_template_save(actor=request.actor, data={"items": payload.items})
    return checklist_out(row)


@router.get("/repair-orders/{int:ro_id}/inspection", response=InspectionOut)
def inspection_read(request: ActorRequest, ro_id: int) -> dict[str, Any]:
    """The repair order's inspection: items in order with colour, note, photos and the job a
    finding became; ``started`` false (and no items) before the walk round."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id)
    return inspection_out(ro, inspection.inspection_of(ro))


@router.post("/repair-orders/{int:ro_id}/inspection", response={201: InspectionOut})
def inspection_begin(request: ActorRequest, ro_id: int) -> Status[dict[str, Any]]:
    """Start the inspection from the store's checklist (the same one again if started)."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id)
    row = inspection.inspection_start(actor=request.actor, repair_order=ro)
    return Status(201, inspection_out(ro, row))


@router.post("/repair-orders/{int:ro_id}/inspection/results", response=InspectionOut)
def inspection_results(request: ActorRequest, ro_id: int, payload: InspectionResultsIn) -> dict[str, Any]:
    """Record items' results, all or nothing (the advisor, or a technician with ``progress``);
    an item that needs a photo takes a colour only once it has one (upload it first)."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id)
    row = inspection.inspection_results_record(actor=request.actor, repair_order=ro, results=payload.results)
    return inspection_out(ro, row)


@router.post("/repair-orders/{int:ro_id}/inspection/items/{int:item_id}/photos", response={201: InspectionPhotoOut})
def inspection_photo_post(request: ActorRequest, ro_id: int, item_id: int,
                          photo: File[UploadedFile]) -> Status[dict[str, Any]]:  # fmt: skip
    """A photo of an item (multipart ``photo``: JPEG, PNG, WebP or HEIC by content, 12 MB at most;
    8 an item)."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id)
    item: InspectionItem = inspection.item_for(actor=request.actor, repair_order=ro, item_id=item_id)
    stored = inspection.inspection_photo_add(actor=request.actor, item=item, file=photo)
    return Status(201, photo_out(ro.pk, stored))


@router.post("/repair-orders/{int:ro_id}/inspection/items/{int:item_id}/recommend", response=InspectionOut)
def inspection_recommend(request: ActorRequest, ro_id: int, item_id: int,
                         payload: InspectionRecommendIn) -> dict[str, Any]:  # fmt: skip
    """An amber or red finding onto the estimate: the canned job ``canned_job``, or a job named
    after the item (``hours``, default 1); without ``canned_job``, the checklist's default work."""
    ro = selectors.repair_order_get(actor=request.actor, pk=ro_id)
    item = inspection.item_for(actor=request.actor, repair_order=ro, item_id=item_id)
    inspection.inspection_recommend(actor=request.actor, item=item, data=payload.dict(exclude_unset=True))
    return inspection_out(ro, inspection.inspection_of(ro))
