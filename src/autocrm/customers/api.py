"""/api/v1/customers: thin handlers over customers.services and customers.selectors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.api import json_answer, shaped
from autocrm.core.permissions import visible_fields
from autocrm.core.sensitive import field_reveal

from . import selectors, services
from .filtersets import CustomerFilterSet
from .models import Customer
from .schemas import (
    AssignIn,
    ConsentIn,
    ConsentOut,
    CustomerIn,
    CustomerListItem,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    RevealOut,
    TimelinePage,
)

router = Router(tags=["customers"])
PREFIX = "/customers"

_DETAIL_FIELDS = [
    f
    for f in CustomerOut.model_fields
    if f not in {"id", "store", "consultant", "advisor", "tags", "external_id_aliases", "warnings"}
]
_LIST_FIELDS = ["kind", "name", "mobile", "district", "lifecycle_stage"]
_LIST_COLUMNS = ("id", "store_id", "consultant_id", *_LIST_FIELDS)  # all a list item reads


def customer_out(actor: Any, customer: Customer, *, detail: bool = True) -> dict[str, Any]:
    """The customer as ``actor`` may see it: hidden fields omitted, personal data masked."""
    data = visible_fields(actor, customer, _DETAIL_FIELDS if detail else _LIST_FIELDS)
    data.update(id=customer.pk, store=customer.store_id, consultant=customer.consultant_id)
    if detail:
        # Read with the row by selectors.customer_detail; otherwise (after a write) one query each.
        tags = getattr(customer, "detail_tags", None)
        data.update(
            advisor=customer.advisor_id,
            tags=sorted(t.name for t in customer.tags.all()) if tags is None else sorted(tags),
        )
        if "external_id" in data:  # shown where the external ID is
            aliases = getattr(customer, "detail_aliases", None)
            if aliases is None:
                aliases = customer.external_aliases.values_list("external_id", flat=True)
            data["external_id_aliases"] = sorted(aliases)
    return data


# The query parameters are the list page's filters (one definition, customers.filtersets).
if TYPE_CHECKING:
    # query_schema() builds a Schema subclass (one field per filter) at run time; a type checker
    # cannot use a class made by a call as a type, so it is given the Schema that it subclasses.
    CustomerFilters: TypeAlias = Schema
else:
    CustomerFilters = CustomerFilterSet.query_schema("CustomerFilters", limit=int, cursor=str)


@router.get("", response=CustomerPage)
def customer_list(request: ActorRequest, filters: Query[CustomerFilters]) -> HttpResponse:
    """Customers in scope. ``q`` finds by name (substring), pinyin or initials (``zw``), mobile
    (full, or last four digits), plate or VIN; ``store`` narrows to one store of the actor's
    scope (another store matches nothing). A bad filter value is a 400 naming it. Keyset pages,
    newest first."""
    params = filters.dict(exclude_none=True)
    limit, cursor = params.pop("limit", None), params.pop("cursor", None)
    chosen = CustomerFilterSet.api_filters_of(params, actor=request.actor)
    page = selectors.customer_page(actor=request.actor, filters=chosen, limit=limit, cursor=cursor, only=_LIST_COLUMNS)
    items = [shaped(CustomerListItem, customer_out(request.actor, c, detail=False)) for c in page.items]
    return json_answer(shaped(CustomerPage, {"items": items, "next_cursor": page.next_cursor}))


@router.post("", response={201: CustomerOut})
def customer_create(request: ActorRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    """Create a customer in the current store. 409 when the mobile or ID number is already a
    customer of the store, or (unless ``confirm_new``) the same name lives in the same district.
    ``warnings``: the doubts about the address the entry page shows (an unknown district, one of
    another city, a plate typed as the address); the customer is saved with the address as sent."""
    data = payload.dict(exclude={"consultant", "advisor", "tags", "confirm_new"}, exclude_none=True)
    warnings = services.customer_address_warnings(actor=request.actor, data=data)
    customer = services.customer_create(
        actor=request.actor,
        data=data,
        consultant_id=payload.consultant,
        advisor_id=payload.advisor,
        tags=payload.tags,
        confirm_new=payload.confirm_new,
    )
    return Status(201, {**customer_out(request.actor, customer), "warnings": [message for _f, message in warnings]})


@router.get("/{int:customer_id}", response=CustomerOut)
def customer_get(request: ActorRequest, customer_id: int) -> HttpResponse:
    # CustomerOut built in one pass (no docstring: it would become the operation's description)
    customer = selectors.customer_detail(actor=request.actor, pk=customer_id)
    return json_answer(shaped(CustomerOut, customer_out(request.actor, customer)))


@router.patch("/{int:customer_id}", response=CustomerOut)
def customer_update(request: ActorRequest, customer_id: int, payload: CustomerPatch) -> dict[str, Any]:
    """``warnings``: as on create, for an address this update changes."""
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    data = payload.dict(exclude_unset=True)
    warnings = services.customer_address_warnings(actor=request.actor, data=data, customer=customer)
    customer = services.customer_update(actor=request.actor, customer=customer, data=data)
    return {**customer_out(request.actor, customer), "warnings": [message for _f, message in warnings]}


@router.get("/{int:customer_id}/reveal", response=RevealOut)
def customer_reveal(request: ActorRequest, customer_id: int, field: str) -> dict[str, str]:
    """The full value of a masked field; each reveal is written to the access log."""
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    return {"field": field, "value": field_reveal(actor=request.actor, obj=customer, field=field)}


@router.post("/{int:customer_id}/assign", response=CustomerOut)
def customer_assign(request: ActorRequest, customer_id: int, payload: AssignIn) -> dict[str, Any]:
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    customer = services.customer_assign(
        actor=request.actor, customer=customer, consultant_id=payload.consultant, reason=payload.reason
    )
    return customer_out(request.actor, customer)


@router.get("/{int:customer_id}/consents", response=list[ConsentOut])
def consent_list(request: ActorRequest, customer_id: int) -> list[Any]:
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    return selectors.consents_in_force(customer=customer)


@router.post("/{int:customer_id}/consents", response={201: ConsentOut})
def consent_record(request: ActorRequest, customer_id: int, payload: ConsentIn) -> Status[Any]:
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    return Status(201, services.consent_record(actor=request.actor, customer=customer, **payload.dict()))


@router.post("/{int:customer_id}/consents/withdraw", response=list[ConsentOut])
def consent_withdraw(request: ActorRequest, customer_id: int, payload: ConsentIn) -> list[Any]:
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    services.consent_withdraw(
        actor=request.actor, customer=customer, purpose=payload.purpose, channel=payload.channel, source=payload.source
    )
    return selectors.consents_in_force(customer=customer)


@router.get("/{int:customer_id}/timeline", response=TimelinePage)
def timeline(request: ActorRequest, customer_id: int, limit: int | None = None, cursor: str | None = None) -> Any:
    customer = selectors.customer_get(actor=request.actor, pk=customer_id)
    page = selectors.timeline_page(actor=request.actor, customer=customer, limit=limit or 30, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


from .api_quality import router as quality_router  # noqa: E402

router.add_router("", quality_router)


from .api_duplicates import router as duplicates_router  # noqa: E402

router.add_router("", duplicates_router)


from .api_imports import router as imports_router  # noqa: E402

router.add_router("", imports_router)
