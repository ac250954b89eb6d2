"""Accessories and modifications (精品/改装) sold on repair orders, and the offer list (ADR 0025).

- The store's list (:class:`~autocrm.service.models.Accessory`), optionally linked to a part of
  the catalogue (its stock is then reserved like any part line). :func:`accessory_sell` adds a
  part line to the repair order (on the bill with the parts) and an ``AccessorySale`` freezing
  the cost. The cost and the margin are shown only to roles with ``margin`` on
  ``service.accessory`` (service manager, store manager, finance, director).
- The **offer list**: owners whose car was delivered about six months ago (a window of months
  after the delivery date, 5–7 by default, the page and the API take others) and who bought no
  accessory since; with the owner's marketing consent shown (messaging sends only to those who
  agreed), and a CSV export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import Scope, can, follow_parent, get_in_scope, register, require_model
from autocrm.core.roles import Role
from autocrm.vehicles.models import Vehicle

from .choices_plans import AccessoryCategory
from .models import Accessory, AccessorySale, PartLine, RepairOrder
from .plans import add_months

register(
    "service.accessory",
    {
        Role.ADVISOR: ("view", Scope.STORE),
        Role.AGENT: ("view", Scope.STORE),
        Role.FINANCE: ("view margin", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change margin export", Scope.STORE),
        Role.MANAGER: ("view add change margin export", Scope.STORE),
        Role.DIRECTOR: ("view margin", Scope.ORGANIZATION),
    },
    resource="service",
)
follow_parent("service.accessorysale", "service.repairorder")
MAX_PRICE = Decimal("9999999.99")


def shows_margin(actor: Actor | None) -> bool:
    return can(actor, "margin", Accessory)


@transaction.atomic
def accessory_create(*, actor: Actor, data: Mapping[str, Any]) -> Accessory:
    """An accessory of the store: ``code``, ``name``, ``category``, ``price``, ``cost``, optional
    ``part`` (a part of the store's catalogue)."""
    from autocrm.parts.models import Part

    require_model(actor, "add", Accessory)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    code = inputs.text(errors, data, "code", 30, required=True)
    name = inputs.text(errors, data, "name", 100, required=True)
    category = inputs.choice(errors, data, "category", AccessoryCategory, default=AccessoryCategory.ACCESSORY)
    price = inputs.money(errors, data.get("price"), "price", required=True, high=MAX_PRICE)
    cost = inputs.money(errors, data.get("cost"), "cost", high=MAX_PRICE)
    part_id = inputs.integer(errors, data.get("part"), "part", 1, 2**62)
    part = Part.objects.filter(pk=part_id, store_id=store_id).first() if part_id else None  # scoped: the actor's store
    if part_id and part is None:
        errors.add("part", _("Choose one of this store's parts."))
    if code and Accessory.objects.filter(store_id=store_id, code=code).exists():  # scoped: the actor's store
        errors.add("code", _("An accessory with this code exists already."))
    errors.raise_if_any()
    assert price is not None
    item = Accessory.objects.create(store_id=store_id, code=code, name=name, category=category, price=price,
                                    cost=cost or Decimal("0.00"), part=part)  # fmt: skip
    audit.record("accessory.create", obj=item, actor=actor)
    return item


def accessory_list(*, actor: Actor) -> QuerySet[Accessory]:
    require_model(actor, "view", Accessory)
    return Accessory.objects.for_actor(actor, "view").filter(is_active=True).order_by("category", "code")


def accessory_get(*, actor: Actor, pk: Any) -> Accessory:
    return get_in_scope(Accessory.objects.all(), actor, pk)


@transaction.atomic
def accessory_sell(*, actor: Actor, repair_order: RepairOrder, accessory: Accessory,
                   data: Mapping[str, Any]) -> AccessorySale:  # fmt: skip
    """Add the accessory to the repair order as a part line (``quantity``, default 1;
    ``unit_price``, default the list price), the cost frozen. Stock is reserved when the
    accessory is a catalogue part (409 when not in stock)."""
    from . import services

    if accessory.store_id != repair_order.store_id:
        raise ValidationError(fields={"accessory": [_("Choose one of this store's records.")]})
    line_data: dict[str, Any] = {"part_number": accessory.code, "name": accessory.name,
                                 "unit_price": str(accessory.price), "quantity": "1"}  # fmt: skip
    line_data.update({k: v for k, v in data.items() if k in ("quantity", "unit_price") and v not in (None, "")})
    if accessory.part_id:
        line_data["part"] = accessory.part_id
    line: PartLine = services.part_add(actor=actor, repair_order=repair_order, data=line_data)
    sale = AccessorySale.objects.create(store_id=repair_order.store_id, accessory=accessory, part_line=line,
                                        repair_order=repair_order, vehicle_id=repair_order.vehicle_id,
                                        cost=accessory.cost)  # fmt: skip
    audit.record("accessory.sell", obj=sale, actor=actor, extra={"repair_order": repair_order.pk})
    return sale


def sales_of(repair_order: RepairOrder) -> list[AccessorySale]:
    return list(AccessorySale.objects.filter(repair_order=repair_order).select_related("part_line", "accessory"))


def offer_window(value_from: Any = None, value_to: Any = None) -> tuple[int, int]:
    """The offer window in months after delivery (default 5 to 7: around six months)."""
    errors = inputs.Errors()
    low = inputs.integer(errors, value_from, "months_from", 0, 120)
    high = inputs.integer(errors, value_to, "months_to", 0, 120)
    errors.raise_if_any()
    low = 5 if low is None else low
    high = 7 if high is None else high
    if high < low:
        raise ValidationError(fields={"months_to": [_("Give an end after the start.")]})
    return low, high


def offer_list(*, actor: Actor, months_from: int = 5, months_to: int = 7, today: dt.date | None = None,
               limit: int = 1000) -> list[dict[str, Any]]:  # fmt: skip
    """Owners of cars delivered between ``months_to`` and ``months_from`` months ago with no
    accessory bought on the car since, oldest delivery first, with their consent to marketing."""
    from autocrm.customers.models import Consent

    require_model(actor, "view", Accessory)
    today = today or timezone.localdate()
    earliest, latest = add_months(today, -months_to), add_months(today, -months_from)
    bought = AccessorySale.objects.filter(vehicle_id=OuterRef("pk"))
    found = (
        Vehicle.objects.for_actor(actor, "view").filter(delivery_date__gte=earliest, delivery_date__lte=latest,
                                                        customer__isnull=False)
        .annotate(bought=Exists(bought)).filter(bought=False).select_related("customer")
        .order_by("delivery_date", "id")[:limit]
    )  # fmt: skip
    vehicles = list(found)
    consent: dict[int, bool] = {}
    latest_first = Consent.objects.filter(customer_id__in={v.customer_id for v in vehicles}, purpose="marketing",
                                          channel="sms").order_by("customer_id", "-at", "-id")  # fmt: skip
    for row in latest_first.values("customer_id", "granted", "withdrawn_at"):
        consent.setdefault(row["customer_id"], bool(row["granted"] and row["withdrawn_at"] is None))
    rows = []
    for v in vehicles:
        assert v.customer is not None and v.delivery_date is not None
        rows.append({
            "vehicle": v, "customer": v.customer, "delivery_date": v.delivery_date,
            "months": (today.year - v.delivery_date.year) * 12 + today.month - v.delivery_date.month,
            "consent": consent.get(v.customer.pk, False),
        })  # fmt: skip
    return rows
