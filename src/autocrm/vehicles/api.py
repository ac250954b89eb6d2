"""/api/v1/vehicles: thin handlers over vehicles.services and vehicles.selectors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from ninja import Query, Router, Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.permissions import require_model
from autocrm.customers.selectors import customer_get

from . import selectors, services
from .filtersets import VehicleFilterSet
from .models import Vehicle
from .schemas import (
    OwnershipOut,
    ReadingIn,
    ReadingOut,
    ReadingPage,
    TransferIn,
    VehicleIn,
    VehicleOut,
    VehiclePage,
    VehiclePatch,
)

router = Router(tags=["vehicles"])
PREFIX = "/vehicles"


def vehicle_out(vehicle: Vehicle) -> dict[str, Any]:
    return {
        **{
            f: getattr(vehicle, f)
            for f in VehicleOut.model_fields
            if f not in {"id", "store", "customer", "brand", "series", "trim", "vin_missing", "warnings"}
        },
        "vin_missing": not vehicle.vin,
        "warnings": list(vehicle.warnings),
        "id": vehicle.pk,
        "store": vehicle.store_id,
        "customer": vehicle.customer_id,
        "brand": vehicle.brand.name if vehicle.brand else None,
        "series": vehicle.series.name if vehicle.series else None,
        "trim": vehicle.trim.name if vehicle.trim else None,
    }


# The query parameters are the list page's filters (one definition, vehicles.filtersets).
if TYPE_CHECKING:
    # query_schema() builds a Schema subclass (one field per filter) at run time; a type checker
    # cannot use a class made by a call as a type, so it is given the Schema that it subclasses.
    VehicleFilters: TypeAlias = Schema
else:
    VehicleFilters = VehicleFilterSet.query_schema("VehicleFilters", limit=int, cursor=str)


@router.get("", response=VehiclePage)
def vehicle_list(request: ActorRequest, filters: Query[VehicleFilters]) -> dict[str, Any]:
    """Vehicles in scope. ``q``: full plate or VIN, last six of the VIN, or the end of a plate;
    ``store`` narrows to one store of the actor's scope (another store matches nothing). A bad
    filter value is a 400 naming it."""
    params = filters.dict(exclude_none=True)
    limit, cursor = params.pop("limit", None), params.pop("cursor", None)
    chosen = VehicleFilterSet.api_filters_of(params, actor=request.actor)
    page = selectors.vehicle_page(actor=request.actor, filters=chosen, limit=limit, cursor=cursor)
    return {"items": [vehicle_out(v) for v in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: VehicleOut})
def vehicle_create(request: ActorRequest, payload: VehicleIn) -> Status[dict[str, Any]]:
    """Register a vehicle with a VIN, a plate or both. 400 names the field and rule (VIN check
    digit, plate format, neither given); 409 when the VIN is already registered in the
    organization or the external ID taken in the store. ``warnings``: VIN missing, a plate
    another vehicle of the store has."""
    require_model(request.actor, "add", Vehicle)  # 403 before the owner is looked up (else a 404)
    customer = customer_get(actor=request.actor, pk=payload.customer) if payload.customer else None
    data = payload.dict(exclude={"customer", "mileage_km"}, exclude_none=True)
    vehicle = services.vehicle_create(actor=request.actor, data=data, customer=customer, mileage_km=payload.mileage_km)
    return Status(201, {**vehicle_out(selectors.vehicle_get(actor=request.actor, pk=vehicle.pk)),
                        "warnings": list(vehicle.warnings)})  # fmt: skip


@router.get("/{int:vehicle_id}", response=VehicleOut)
def vehicle_get(request: ActorRequest, vehicle_id: int) -> dict[str, Any]:
    return vehicle_out(selectors.vehicle_get(actor=request.actor, pk=vehicle_id))


@router.patch("/{int:vehicle_id}", response=VehicleOut)
def vehicle_update(request: ActorRequest, vehicle_id: int, payload: VehiclePatch) -> dict[str, Any]:
    vehicle = selectors.vehicle_get(actor=request.actor, pk=vehicle_id)
    vehicle = services.vehicle_update(actor=request.actor, vehicle=vehicle, data=payload.dict(exclude_unset=True))
    return {
        **vehicle_out(selectors.vehicle_get(actor=request.actor, pk=vehicle_id)),
        "warnings": list(vehicle.warnings),
    }


@router.get("/{int:vehicle_id}/odometer-readings", response=ReadingPage)
def reading_list(request: ActorRequest, vehicle_id: int, limit: int | None = None, cursor: str | None = None) -> Any:
    vehicle = selectors.vehicle_get(actor=request.actor, pk=vehicle_id)
    page = selectors.reading_page(vehicle=vehicle, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/{int:vehicle_id}/odometer-readings", response={201: ReadingOut})
def reading_create(request: ActorRequest, vehicle_id: int, payload: ReadingIn) -> Status[Any]:
    """A lower reading than the last one needs ``correction_reason``."""
    vehicle = selectors.vehicle_get(actor=request.actor, pk=vehicle_id)
    return Status(201, services.odometer_record(actor=request.actor, vehicle=vehicle, **payload.dict()))


@router.post("/{int:vehicle_id}/transfer", response=list[OwnershipOut])
def vehicle_transfer(request: ActorRequest, vehicle_id: int, payload: TransferIn) -> list[dict[str, Any]]:
    vehicle = selectors.vehicle_get(actor=request.actor, pk=vehicle_id)
    new_owner = customer_get(actor=request.actor, pk=payload.new_owner)
    services.ownership_transfer(
        actor=request.actor, vehicle=vehicle, new_owner=new_owner, on=payload.on, note=payload.note
    )
    return [
        {"customer": o.customer_id, "started_on": o.started_on, "ended_on": o.ended_on, "note": o.note}
        for o in selectors.ownership_history(vehicle=vehicle)
    ]
