"""Stores API: ``GET /stores`` lists the stores the caller may see (their current store, or
every store of the organization for directors and administrators), keyset-paged by code."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.core.api import ErrorOut, PageOut
from autocrm.core.pagination import paginate

from .models import Store

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


class StoreListIn(Schema):
    limit: int | None = None
    cursor: str | None = None


@router.get("", response={200: PageOut[StoreOut], 400: ErrorOut, 401: ErrorOut, 429: ErrorOut})
def store_list(request: ActorRequest, query: Query[StoreListIn]) -> Any:
    """Stores in the caller's scope, by code."""
    stores = Store.objects.for_actor(request.actor, "view")
    page = paginate(stores, ordering=("code", "id"), limit=query.limit, cursor=query.cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}
