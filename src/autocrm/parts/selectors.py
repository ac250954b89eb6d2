"""Reads of parts, always from the actor's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model

from .choices import Category, MovementKind, POStatus
from .models import Part, PurchaseOrder, StockMovement, Supplier

MAX_ID = 2**63 - 1


def _id(value: Any, field: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(fields={field: [_("Enter a whole number.")]}) from None
    return number


def _flag(value: Any, field: str) -> bool:
    if value in (None, "", False):
        return False
    if value is True or str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off"):
        return False
    raise ValidationError(fields={field: [_("Enter true or false.")]})


def low_stock(qs: QuerySet[Part]) -> QuerySet[Part]:
    """Parts whose available stock (on-hand − reserved) is at or below their reorder point."""
    return qs.filter(reorder_point__gt=0, on_hand__lte=F("reserved") + F("reorder_point"))


def part_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[Part]:
    """The catalogue with its stock: ``q`` (part number or name), ``category``, ``low`` (at or
    below the reorder point), ``store`` (a director's one store), ``active``."""
    require_model(actor, "view", Part)
    filters = filters or {}
    qs: QuerySet[Part] = Part.objects.for_actor(actor, "view").select_related("supplier")
    if filters.get("q"):
        q = str(filters["q"]).strip()[:100]
        if "\x00" in q:
            raise ValidationError(fields={"q": [_("Text may not contain NUL characters.")]})
        qs = qs.filter(Q(part_number__istartswith=q) | Q(name__icontains=q) | Q(brand__icontains=q))
    if filters.get("category"):
        if filters["category"] not in Category.values:
            raise ValidationError(fields={"category": [_("Choose one of the listed values.")]})
        qs = qs.filter(category=filters["category"])
    if _flag(filters.get("low"), "low"):
        qs = low_stock(qs)
    if filters.get("store") not in (None, ""):
        qs = qs.filter(store_id=_id(filters["store"], "store"))
    if filters.get("active") not in (None, ""):
        qs = qs.filter(is_active=_flag(filters["active"], "active"))
    return qs


def part_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(part_list(actor=actor, filters=filters), ordering=("part_number", "id"), limit=limit, cursor=cursor)


def part_get(*, actor: Actor, pk: Any, action: str = "view") -> Part:
    return get_in_scope(Part.objects.select_related("supplier"), actor, pk, action)


def movement_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[StockMovement]:
    """Ledger rows in scope, newest first: ``part``, ``kind``, ``reference_kind`` + ``reference_id``."""
    require_model(actor, "view", StockMovement)
    filters = filters or {}
    qs: QuerySet[StockMovement] = StockMovement.objects.for_actor(actor, "view").select_related(
        "part", "created_by", "other_store"
    )
    if filters.get("part") not in (None, ""):
        qs = qs.filter(part_id=_id(filters["part"], "part"))
    if filters.get("kind"):
        if filters["kind"] not in MovementKind.values:
            raise ValidationError(fields={"kind": [_("Choose one of the listed values.")]})
        qs = qs.filter(kind=filters["kind"])
    if filters.get("reference_kind"):
        qs = qs.filter(reference_kind=str(filters["reference_kind"])[:30])
        if filters.get("reference_id") not in (None, ""):
            qs = qs.filter(reference_id=_id(filters["reference_id"], "reference_id"))
    return qs


def movement_page(
    *, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None
) -> Page:
    return paginate(movement_list(actor=actor, filters=filters), ordering=("-id",), limit=limit, cursor=cursor)


def supplier_list(*, actor: Actor) -> QuerySet[Supplier]:
    require_model(actor, "view", Supplier)
    return Supplier.objects.for_actor(actor, "view").filter(is_active=True).order_by("name", "id")


def supplier_get(*, actor: Actor, pk: Any, action: str = "view") -> Supplier:
    return get_in_scope(Supplier, actor, pk, action)


def po_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> QuerySet[PurchaseOrder]:
    require_model(actor, "view", PurchaseOrder)
    filters = filters or {}
    qs: QuerySet[PurchaseOrder] = PurchaseOrder.objects.for_actor(actor, "view").select_related("supplier")
    if filters.get("status"):
        if filters["status"] not in POStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=filters["status"])
    if filters.get("supplier") not in (None, ""):
        qs = qs.filter(supplier_id=_id(filters["supplier"], "supplier"))
    return qs


def po_page(*, actor: Actor, filters: dict[str, Any] | None = None, limit: Any = None, cursor: Any = None) -> Page:
    return paginate(po_list(actor=actor, filters=filters), ordering=("-id",), limit=limit, cursor=cursor)


def po_get(*, actor: Actor, pk: Any, action: str = "view") -> PurchaseOrder:
    return get_in_scope(PurchaseOrder.objects.select_related("supplier"), actor, pk, action)
