"""/api/v1/vehicles/{id}/maintenance, /api/v1/maintenance-due and /api/v1/recalls: thin handlers
over maintenance.selectors and maintenance.services."""

from __future__ import annotations

from typing import Any

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.permissions import present

from . import selectors, services
from .models import RecallVehicle, VehicleDue
from .schemas import (
    DuePage,
    NotifiedOut,
    PlanItemIn,
    PlanOut,
    PlanOverrideIn,
    RecallCompleteIn,
    RecallImportOut,
    RecallOut,
    RecallVehicleOut,
    VehicleMaintenanceOut,
)

router = Router(tags=["maintenance"])
PREFIX = ""


def _owner(actor: Actor, vehicle: Any) -> tuple[str, Any]:
    customer = vehicle.customer
    if customer is None:
        return "", None
    return customer.name, present(actor, customer, "mobile")


def _model(vehicle: Any) -> str:
    return " ".join(str(x) for x in (vehicle.brand.name if vehicle.brand_id else "",
                                     vehicle.series.name if vehicle.series_id else "") if x)  # fmt: skip


def due_out(actor: Actor, due: VehicleDue) -> dict[str, Any]:
    v = due.vehicle
    owner, mobile = _owner(actor, v)
    return {"vehicle": v.pk, "store": due.store_id, "plate": v.plate, "vin": v.vin, "model": _model(v),
            "owner": owner, "owner_mobile": mobile, "next_due_on": due.next_due_on, "items": list(due.items or []),
            "due_km": due.due_km, "estimated_km": due.estimated_km, "rate_used": round(due.rate_used, 2),
            "rate_method": due.rate_method, "computed_at": due.computed_at}  # fmt: skip


@router.get("/vehicles/{int:vehicle_id}/maintenance", response=VehicleMaintenanceOut)
def vehicle_maintenance(request: ActorRequest, vehicle_id: int) -> dict[str, Any]:
    """The vehicle's next due date, the items due then (each by km, time or season), every plan
    item's date, the estimated odometer today, the daily mileage used and how it was found,
    and its open recalls. Computed now from the readings and the records."""
    return selectors.vehicle_maintenance(actor=request.actor, pk=vehicle_id)


@router.get("/maintenance-due", response=DuePage)
def maintenance_due(
    request: ActorRequest, weeks: str | None = None, item: str | None = None, overdue: str | None = None,
    limit: str | None = None, cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Vehicles whose next visit falls within ``weeks`` (1–52, default 4), soonest first, overdue
    included unless ``overdue=no`` (``only``: overdue alone); ``item`` (e.g. ``oil``) keeps those
    due for it. Keyset pages. From the nightly recompute."""
    page = selectors.due_page(actor=request.actor, filters={"weeks": weeks, "item": item, "overdue": overdue},
                              limit=limit, cursor=cursor)  # fmt: skip
    return {"items": [due_out(request.actor, d) for d in page.items], "next_cursor": page.next_cursor}


@router.get("/recalls", response=list[RecallOut])
def recall_list(request: ActorRequest) -> list[dict[str, Any]]:
    """Recall campaigns in scope with their completion rate (one row per campaign and store)."""
    return selectors.recall_list(actor=request.actor)


@router.post("/recalls", response={200: RecallImportOut, 201: RecallImportOut})
def recall_import(
    request: ActorRequest, file: File[UploadedFile], code: Form[str] = "", title: Form[str] = "",
    description: Form[str] = "", dry_run: Form[bool] = False,
) -> Status[dict[str, Any]]:  # fmt: skip
    """Import an OEM recall file (CSV or .xlsx, ≤ 5 MB: a VIN/车架号 column, or VINs in the first
    column; a campaign code column may stand in for ``code``). VINs are matched across the
    organization's stores; ``dry_run`` reports the counts and changes nothing (200)."""
    vins, file_code = services.recall_file_read(handle=file, name=file.name or "", size=file.size)
    preview = services.recall_import(actor=request.actor, vins=vins, code=code or file_code, title=title,
                                     description=description, dry_run=dry_run)  # fmt: skip
    body = {"dry_run": dry_run, "code": preview.code, "vins": preview.vins,
            "invalid_rows": [{"row": n, "value": v} for n, v in preview.invalid[:200]], "repeated": preview.repeated,
            "matched_here": preview.matched_here, "matched_other_stores": preview.matched_other_stores,
            "unmatched": preview.unmatched, "campaign": preview.campaign.pk if preview.campaign else None}  # fmt: skip
    return Status(200 if dry_run else 201, body)


def recalled_out(actor: Actor, rv: RecallVehicle) -> dict[str, Any]:
    owner, mobile = _owner(actor, rv.vehicle)
    return {"id": rv.pk, "vehicle": rv.vehicle_id, "plate": rv.vehicle.plate, "vin": rv.vehicle.vin, "owner": owner,
            "owner_mobile": mobile, "status": rv.status, "notified_at": rv.notified_at,
            "completed_at": rv.completed_at, "completed_ref": rv.completed_ref}  # fmt: skip


@router.get("/recalls/{int:campaign_id}/vehicles", response=list[RecallVehicleOut])
def recall_vehicles(request: ActorRequest, campaign_id: int, status: str | None = None) -> list[dict[str, Any]]:
    """The affected vehicles and their owners (mobiles masked as the role sees them)."""
    campaign = selectors.recall_get(actor=request.actor, pk=campaign_id)
    rows = selectors.recall_vehicles(actor=request.actor, campaign=campaign, status=status or "")
    return [recalled_out(request.actor, rv) for rv in rows[:2000]]


@router.post("/recalls/{int:campaign_id}/notify", response=NotifiedOut)
def recall_notify(request: ActorRequest, campaign_id: int) -> dict[str, Any]:
    """Queue the recall notice to every open vehicle's owner (once per vehicle; consent decides)."""
    campaign = selectors.recall_get(actor=request.actor, pk=campaign_id)
    return {"queued": services.recall_notify(actor=request.actor, campaign=campaign)}


@router.post("/recall-vehicles/{int:recalled_id}/complete", response=RecallVehicleOut)
def recall_complete(request: ActorRequest, recalled_id: int, payload: RecallCompleteIn) -> dict[str, Any]:
    """Mark the recall work done on one vehicle by hand (``reference``: the order, optional)."""
    rv = selectors.recalled_get(actor=request.actor, pk=recalled_id)
    rv = services.recall_complete(actor=request.actor, recalled=rv, reference=payload.reference)
    return recalled_out(request.actor, rv)


# --- the plan editor ---------------------------------------------------------------------------


def plan_out(actor: Actor, plan: Any) -> dict[str, Any]:
    series = plan.series
    return {
        "id": plan.pk, "name": plan.name, "store": plan.store_id, "series": plan.series_id,
        "series_name": f"{series.brand.name} {series.name}" if series else "",
        "editable": plan.store_id is not None and plan.store_id == actor.store_id,
        "items": [
            {"item": i.item, "first_km": i.first_km, "first_months": i.first_months, "interval_km": i.interval_km,
             "interval_months": i.interval_months, "season_month": i.season_month,
             "fuel_types": [f for f in i.fuel_types.split(",") if f], "leads_visit": i.leads_visit}
            for i in sorted(plan.items.all(), key=lambda i: i.item)
        ],
    }  # fmt: skip


@router.get("/maintenance-plans", response=list[PlanOut])
def plan_list(request: ActorRequest) -> list[dict[str, Any]]:
    """The plans that apply in the store: its own (editable), then the shipped ones."""
    return [plan_out(request.actor, p) for p in selectors.plan_list(actor=request.actor)]


@router.post("/maintenance-plans", response={201: PlanOut})
def plan_override(request: ActorRequest, payload: PlanOverrideIn) -> Status[dict[str, Any]]:
    """The store's own plan for ``series`` (empty: the store's default), copied from the plan that
    applies now; the existing one when the store has it already."""
    plan = services.plan_override(actor=request.actor, series_id=payload.series, name=payload.name or "")
    return Status(201, plan_out(request.actor, selectors.plan_get(actor=request.actor, pk=plan.pk)))


@router.put("/maintenance-plans/{int:plan_id}/items/{item}", response=PlanOut)
def plan_item_save(request: ActorRequest, plan_id: int, item: str, payload: PlanItemIn) -> dict[str, Any]:
    """Add or change one item of the store's plan (km 1–1,000,000, months 1–120, season month
    1–12); the store's due list is recomputed in the background."""
    plan = selectors.plan_get(actor=request.actor, pk=plan_id)
    services.plan_item_save(actor=request.actor, plan=plan, data={**payload.dict(), "item": item})
    return plan_out(request.actor, selectors.plan_get(actor=request.actor, pk=plan_id))


@router.delete("/maintenance-plans/{int:plan_id}/items/{item}", response={204: None})
def plan_item_delete(request: ActorRequest, plan_id: int, item: str) -> Status[None]:
    plan = selectors.plan_get(actor=request.actor, pk=plan_id)
    services.plan_item_delete(actor=request.actor, plan=plan, item=item)
    return Status(204, None)
