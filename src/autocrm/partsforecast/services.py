"""Writes of the parts forecast: the store's item → part mapping, and a draft purchase order from
the forecast's suggestions. Keyword-only, actor first, atomic, permission checked, audited (the
mapping is a tracked model: every save and delete is in the audit trail)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from autocrm.core import inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, NotFound
from autocrm.core.permissions import require, require_model
from autocrm.maintenance.choices import Item
from autocrm.parts import services as parts_services
from autocrm.parts.models import Part, PurchaseOrder, Supplier

from . import selectors
from .models import ItemPart

MAX_PER_ITEM = Decimal("999.99")


@transaction.atomic
def item_part_set(*, actor: Actor, data: Mapping[str, Any]) -> ItemPart | None:
    """Set how much of a part (``part_number`` of the store's catalogue) a plan item uses each
    time it is done; ``quantity`` 0 removes the line. Returns the line (None when removed)."""
    require_model(actor, "change", ItemPart)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    item = inputs.choice(errors, data, "item", Item)
    number = inputs.text(errors, data, "part_number", 40, required=True)
    qty = inputs.decimal(errors, data, "quantity", high=MAX_PER_ITEM)
    part = None
    if number:
        part = Part.objects.filter(
            store_id=store_id, part_number=number, is_active=True
        ).first()  # scoped: the actor's store
        if part is None:
            errors.add("part_number", _("No active part of this store has that part number."))
    errors.raise_if_any()
    assert part is not None and qty is not None
    row = (
        ItemPart.objects.select_for_update().filter(store_id=store_id, item=item, part=part).first()
    )  # scoped: the actor's store
    if qty == 0:
        if row is not None:
            require(actor, "delete", row)
            row.delete()
        return None
    if row is None:
        require_model(actor, "add", ItemPart)
        return ItemPart.objects.create(store_id=store_id, item=item, part=part, quantity=qty)
    row.quantity = qty
    row.save(update_fields=["quantity", "updated_at"])
    return row


@transaction.atomic
def po_from_forecast(*, actor: Actor, supplier: Supplier) -> PurchaseOrder:
    """A draft order to ``supplier`` for each of its parts the forecast suggests ordering (the
    suggested quantity, at the part's cost). 409 when the forecast suggests none of them."""
    require_model(actor, "add", PurchaseOrder)
    store_id = actor.require_store_id()
    if supplier.store_id != store_id:
        raise NotFound()
    result = selectors.store_forecast(actor=actor)
    lines = [
        {"part": r["part"].pk, "quantity": r["forecast"].suggested, "unit_cost": r["part"].cost}
        for r in result.rows
        if r["part"].supplier_id == supplier.pk and r["forecast"].suggested > 0
    ]
    if not lines:
        message = _("The forecast suggests ordering nothing from this supplier.")
        raise Conflict(message, fields={"supplier": [message]})
    return parts_services.po_create(actor=actor, supplier=supplier, lines=lines, note=_("From the parts forecast"))
