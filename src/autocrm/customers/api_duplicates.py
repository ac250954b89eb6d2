"""/api/v1/customers/duplicates, merges and undo: thin handlers over customers.dedup and
customers.merging. Mounted on the customers router (see the end of customers/api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.permissions import can, get_in_scope, visible_fields

from . import merging, selectors
from .choices import DuplicateStatus
from .dedup import DEFAULT_THRESHOLD, duplicate_pair_get, duplicate_pair_page, reason_text, reason_value
from .models import Customer, CustomerMerge, DuplicatePair

router = Router(tags=["duplicates"])


class PairCustomerOut(Schema):
    id: int
    name: str | None = None
    mobile: str | None = None
    district: str | None = None
    merged_into: int | None = None


class ReasonOut(Schema):
    code: str
    text: str
    similarity: float | None = None
    value: str | None = None  # what the reason is about, as the caller may see it (a masked mobile)


class PairOut(Schema):
    id: int
    score: float
    status: str
    reasons: list[ReasonOut]
    customer_a: PairCustomerOut
    customer_b: PairCustomerOut
    created_at: dt.datetime
    reviewed_at: dt.datetime | None = None


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: str | None = None


class FindIn(Schema):
    threshold: float = DEFAULT_THRESHOLD


class FindOut(Schema):
    queued: bool = False
    store: int
    customers: int | None = None
    candidate_pairs: int | None = None
    pairs: int | None = None
    created: int | None = None
    updated: int | None = None
    skipped_blocks: int | None = None
    seconds: float | None = None


class MergeIn(Schema):
    other: int
    choices: dict[str, str] = {}


class MergeOut(Schema):
    id: int
    survivor: int
    merged: int
    choices: dict[str, str]
    moved: dict[str, list[Any]]
    created_at: dt.datetime
    undone_at: dt.datetime | None = None


def _customer(actor: Any, customer: Customer) -> dict[str, Any]:
    if not can(actor, "view", customer):
        # A colleague's customer: named as on entry (surname only), nothing else.
        return {"id": customer.pk, "name": customer.name[:1] + "*", "merged_into": customer.merged_into_id}
    data = visible_fields(actor, customer, ["name", "mobile", "district"])
    return {**data, "id": customer.pk, "merged_into": customer.merged_into_id}


def pair_out(actor: Any, pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "score": pair.score,
        "status": pair.status,
        "reasons": [{**r, "text": reason_text(r), "value": reason_value(actor, pair, r)} for r in pair.reasons or []],
        "customer_a": _customer(actor, pair.customer_a),
        "customer_b": _customer(actor, pair.customer_b),
        "created_at": pair.created_at,
        "reviewed_at": pair.reviewed_at,
    }


def merge_out(merge: CustomerMerge) -> dict[str, Any]:
    return {
        "id": merge.pk,
        "survivor": merge.survivor_id,
        "merged": merge.merged_id,
        "choices": merge.choices,
        "moved": merge.moved,
        "created_at": merge.created_at,
        "undone_at": merge.undone_at,
    }


@router.get("/duplicates", response=PairPage)
def duplicate_list(
    request: ActorRequest, status: str = DuplicateStatus.OPEN, limit: int | None = None, cursor: str | None = None
) -> dict[str, Any]:
    """The review queue: suggested pairs, best score first (``status`` open by default; ``all``
    for every status). Keyset pages."""
    page = duplicate_pair_page(
        actor=request.actor,
        status=None if status == "all" else status,
        limit=limit,
        cursor=cursor,
    )
    return {"items": [pair_out(request.actor, p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/duplicates/find", response={200: FindOut, 202: FindOut})
def duplicate_find(request: ActorRequest, payload: FindIn | None = None) -> Status[dict[str, Any]]:
    """Run the duplicate finder over the current store (managers). Queued in the worker when one
    runs (202); run at once otherwise (200, with what it found)."""
    threshold = payload.threshold if payload is not None else DEFAULT_THRESHOLD
    result = merging.duplicates_find(actor=request.actor, threshold=threshold)
    if result.queued:
        return Status(202, {"queued": True, "store": result.store_id})
    return Status(200, result.as_dict())


@router.get("/duplicates/{int:pair_id}", response=PairOut)
def duplicate_get(request: ActorRequest, pair_id: int) -> dict[str, Any]:
    return pair_out(request.actor, duplicate_pair_get(actor=request.actor, pk=pair_id))


@router.post("/duplicates/{int:pair_id}/dismiss", response=PairOut)
def duplicate_dismiss(request: ActorRequest, pair_id: int) -> dict[str, Any]:
    """Not a duplicate: the pair leaves the queue and later runs of the finder keep it so."""
    actor = request.actor
    pair = merging.duplicate_dismiss(actor=actor, pair=duplicate_pair_get(actor=actor, pk=pair_id))
    return pair_out(actor, pair)


@router.post("/{int:customer_id}/merge", response={201: MergeOut})
def customer_merge(request: ActorRequest, customer_id: int, payload: MergeIn) -> Status[dict[str, Any]]:
    """Merge customer ``other`` into this one (the survivor). ``choices`` maps a field to
    ``"survivor"`` or ``"merged"``; fields left out take the newest non-empty value. Every
    related record moves to the survivor; the merge can be undone."""
    actor = request.actor
    survivor = selectors.customer_get(actor=actor, pk=customer_id)
    merged = selectors.customer_get(actor=actor, pk=payload.other)
    merge = merging.customer_merge(actor=actor, survivor=survivor, merged=merged, choices=payload.choices)
    return Status(201, merge_out(merge))


@router.get("/merges/{int:merge_id}", response=MergeOut)
def merge_get(request: ActorRequest, merge_id: int) -> dict[str, Any]:
    return merge_out(get_in_scope(CustomerMerge, request.actor, merge_id))


@router.post("/merges/{int:merge_id}/undo", response=MergeOut)
def merge_undo(request: ActorRequest, merge_id: int) -> dict[str, Any]:
    """Undo a merge (409 when a later merge involving these customers must be undone first)."""
    actor = request.actor
    merge = get_in_scope(CustomerMerge, actor, merge_id)
    return merge_out(merging.customer_merge_undo(actor=actor, merge=merge))
