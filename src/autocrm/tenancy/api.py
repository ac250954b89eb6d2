"""Stores API: ``GET /stores`` lists the stores the caller may see (their current store, or
every store of the organization for directors and administrators), keyset-paged by code, each
with the modules switched on there; ``PUT /stores/{id}/modules`` sets them (administrators)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Query, Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.core.api import ErrorOut, PageOut
from autocrm.core.modules import module_keys
from autocrm.core.pagination import paginate

from .models import Store
from .services import store_modules_set

router = Router(tags=["stores"])
PREFIX = "/stores"


class StoreOut(Schema):
    id: int
    code: str
    name: str
    brand: str
    province: str
    city: str
    address: str
    phone: str
    opening_hours: str
    is_active: bool
    modules: list[str] = Field(..., description="Keys of the modules switched on in this store, in module order.")

    @staticmethod
    def resolve_modules(obj: Store) -> list[str]:
        return [key for key in module_keys() if key in obj.modules_on]


class StoreModulesIn(Schema):
    modules: list[str] = Field(..., description="Every module to have on; the others are switched off.")


class StoreListIn(Schema):
    limit: int | None = None
    cursor: str | None = None


@router.get("", response={200: PageOut[StoreOut], 400: ErrorOut, 401: ErrorOut, 429: ErrorOut})
def store_list(request: ActorRequest, query: Query[StoreListIn]) -> Any:
    """Stores in the caller's scope, by code."""
    stores = Store.objects.for_actor(request.actor, "view")
    page = paginate(stores, ordering=("code", "id"), limit=query.limit, cursor=query.cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.put(
    "/{store_id}/modules",
    response={200: StoreOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut},
)
def store_modules_put(request: ActorRequest, store_id: int, payload: StoreModulesIn) -> Any:
    """Switch on exactly these modules in the store (administrators; audited)."""
    return store_modules_set(actor=request.actor, store_id=store_id, enabled=payload.modules)
