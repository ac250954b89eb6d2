"""Writes of parts: the catalogue, the stock ledger, reservations, suppliers, purchase orders.

Every stock change is one ``StockMovement`` row and one conditional ``UPDATE`` of the part's
cached balance in the same transaction (ADR 0020)::

    UPDATE parts_part SET on_hand = on_hand + d, reserved = reserved + r
     WHERE id = … AND on_hand + d >= reserved + r AND reserved + r >= 0 AND on_hand + d >= 0

No row updated means the stock is not there: a ``Conflict`` (409) naming ``quantity``, nothing
written. On PostgreSQL the UPDATE takes the row lock, so of two repair orders issuing the last
unit one wins and the other sees the new balance; SQLite serialises writers. The CHECK
constraints of ``Part`` and ``StockMovement`` are the last line.

Services are keyword-only with the actor first, atomic, check permission on the part (actions
``reserve``, ``issue``, ``receive``, ``adjust``, ``transfer`` of ``parts.permissions``) and emit
``parts.stock_moved`` after commit. ``reference`` is a ``(kind, id)`` pair (``("service.repairorder",
42)``): parts never imports the app that refers to it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.core.events import emit
from autocrm.core.permissions import Access, field_access, require, scope_for
from autocrm.core.roles import Role
from autocrm.tenancy.models import Store

from . import events
from .choices import Category, MovementKind, POStatus, ReservationStatus, Unit
from .models import Part, PurchaseOrder, PurchaseOrderLine, Reservation, StockMovement, Supplier

CENT = Decimal("0.01")
MAX_QTY = Decimal("999999.99")  # one movement
MAX_BALANCE = Decimal("9999999999.99")  # the column (12 digits, 2 places)
MAX_MONEY = Decimal("99999999.99")
NOT_VALID = _("Some fields are not valid.")
REFERENCE_KIND = re.compile(r"^[a-z][a-z0-9_.]{0,29}$")
LOW_STOCK_KIND = "parts.low_stock"

Reference = tuple[str, int]


# --- input ---------------------------------------------------------------------------------------


def quantity(
    value: Any, *, name: str = "quantity", errors: inputs.Errors | None = None, allow_zero: bool = False,
    signed: bool = False, limit: Decimal = MAX_QTY,
) -> Decimal | None:  # fmt: skip
    """A quantity to two decimal places (litres of oil): positive (or zero, or signed where
    allowed), at most ``limit``. Raises (or collects in ``errors``) a 400 naming ``name``."""
    own = errors is None
    errs = errors if errors is not None else inputs.Errors()
    number = inputs.number(value)
    result: Decimal | None = None
    if value is None or value == "":
        errs.add(name, _("This field is required."))
    elif number is None:
        errs.add(name, _("Enter a number, e.g. 2 or 4.5."))
    elif (
        abs(number) > limit
        or (not signed and number < 0)
        or (number == 0 and not allow_zero)
        or (number != number.quantize(CENT))
    ):
        errs.add(name, _("Enter a quantity between %(low)s and %(high)s, to two decimal places at most.")
                 % {"low": -limit if signed else (0 if allow_zero else CENT), "high": limit})  # fmt: skip
    else:
        result = number.quantize(CENT)
    if own:
        errs.raise_if_any()
    return result


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def reference_clean(reference: Any, *, required: bool = True) -> Reference | None:
    """``(kind, id)``: kind a dotted lower-case name (``service.repairorder``), id a positive
    integer. A bad one is a 400 naming ``reference``."""
    if reference is None or reference == ("", None):
        if required:
            raise ValidationError(NOT_VALID, fields={"reference": [_("This field is required.")]})
        return None
    message = _("Give the reference as a kind and a record number.")
    if not isinstance(reference, (tuple, list)) or len(reference) != 2:
        raise ValidationError(NOT_VALID, fields={"reference": [message]})
    kind, ident = reference
    if not isinstance(kind, str) or not REFERENCE_KIND.match(kind):
        raise ValidationError(NOT_VALID, fields={"reference": [message]})
    if isinstance(ident, bool) or not isinstance(ident, int) or not 1 <= ident <= 2**62:
        raise ValidationError(NOT_VALID, fields={"reference": [message]})
    return kind, ident


# --- the ledger ----------------------------------------------------------------------------------


def _check(actor: Actor, action: str, part: Part, store: Any = None) -> None:
    if store is not None and int(getattr(store, "pk", store)) != part.store_id:
        raise NotFound()
    if scope_for(actor, Part, action) is None:
        raise PermissionDenied()
    require(actor, action, part)


def _not_enough(part: Part, wanted: Decimal) -> Conflict:
    fresh = Part.objects.filter(pk=part.pk).values_list("on_hand", "reserved").first()  # scoped: the part in hand
    available = fresh[0] - fresh[1] if fresh else Decimal(0)
    message = _("Not enough stock of %(part)s: %(available)s available, %(wanted)s wanted.") % {
        "part": part.part_number, "available": available, "wanted": wanted,
    }  # fmt: skip
    return Conflict(message, fields={"quantity": [message]}, extra={"available": str(available)})


def _shift(part: Part, *, on_hand: Decimal = Decimal(0), reserved: Decimal = Decimal(0)) -> bool:
    """Move the cached balance by ``on_hand``/``reserved`` iff the result keeps on-hand,
    reserved and available at or above zero (and on-hand within the column). One statement;
    refreshes ``part`` from the row on success."""
    condition = Q(on_hand__gte=F("reserved") + (reserved - on_hand))
    if reserved < 0:
        condition &= Q(reserved__gte=-reserved)
    if on_hand < 0:
        condition &= Q(on_hand__gte=-on_hand)
    if on_hand > 0:
        condition &= Q(on_hand__lte=MAX_BALANCE - on_hand)
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if on_hand:
        changes["on_hand"] = F("on_hand") + on_hand
    if reserved:
        changes["reserved"] = F("reserved") + reserved
    if not Part.objects.filter(condition, pk=part.pk).update(**changes):  # scoped: the part in hand
        return False
    row = Part.objects.filter(pk=part.pk).values("on_hand", "reserved", "low_alerted").get()  # scoped: same
    part.on_hand, part.reserved, part.low_alerted = row["on_hand"], row["reserved"], row["low_alerted"]
    return True


def _record(
    actor: Actor, part: Part, kind: str, delta: Decimal, *, reference: Reference | None = None, reason: str = "",
    unit_cost: Decimal | None = None, other_store_id: int | None = None, idempotency_key: str = "",
) -> StockMovement:  # fmt: skip
    movement = StockMovement.objects.create(
        store_id=part.store_id, part=part, kind=kind, quantity=delta, on_hand_after=part.on_hand,
        reference_kind=reference[0] if reference else "", reference_id=reference[1] if reference else None,
        reason=reason, unit_cost=unit_cost, other_store_id=other_store_id, idempotency_key=idempotency_key,
        created_by_id=actor.user_id,
    )  # fmt: skip
    emit(
        events.STOCK_MOVED, store_id=part.store_id, actor_id=actor.user_id,
        payload=events.StockMoved(movement.pk, part.pk, kind, str(delta), str(part.on_hand),
                                  movement.reference_kind, movement.reference_id),
    )  # fmt: skip
    _watch_reorder(part)
    return movement


def _watch_reorder(part: Part) -> None:
    """Tell the store's parts keepers once when the part's available stock falls to its reorder
    point; re-arm when it is back above. The flag flips with a conditional UPDATE, so two
    concurrent issues send one alert."""
    if part.is_low and not part.low_alerted:
        if Part.objects.filter(pk=part.pk, low_alerted=False).update(low_alerted=True):  # scoped: the part in hand
            part.low_alerted = True
            _alert_low(part)
    elif not part.is_low and part.low_alerted:
        Part.objects.filter(pk=part.pk, low_alerted=True).update(low_alerted=False)  # scoped: the part in hand
        part.low_alerted = False


def _keepers(store_id: int) -> list[int]:
    from autocrm.accounts.models import Membership

    rows = Membership.objects.filter(
        store_id=store_id, is_active=True, user__is_active=True
    )  # scoped: the part's store
    for role in (Role.SERVICE_MANAGER, Role.MANAGER):
        ids = sorted(set(rows.filter(role=role).values_list("user_id", flat=True)))
        if ids:
            return ids
    return []


def _alert_low(part: Part) -> None:
    from autocrm.messaging.notifications import notify_staff

    emit(events.STOCK_LOW, store_id=part.store_id,
         payload=events.StockLow(part.pk, str(part.available), str(part.reorder_point)))  # fmt: skip
    title = _("Low stock: %(number)s %(name)s, %(available)s left (reorder point %(point)s)") % {
        "number": part.part_number, "name": part.name, "available": part.available, "point": part.reorder_point,
    }  # fmt: skip
    link = reverse("parts:part_detail", args=[part.pk])
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    for user_id in _keepers(part.store_id):
        notify_staff(user=user_id, kind=LOW_STOCK_KIND, title=str(title), link=link, store=part.store_id,
                     dedup_key=f"parts-low:{part.pk}:{stamp}")  # fmt: skip


def _open_reservation(part: Part, reference: Reference, *, lock: bool = True) -> Reservation | None:
    rows = Reservation.objects.filter(  # scoped: the part in hand
        part=part, reference_kind=reference[0], reference_id=reference[1], status=ReservationStatus.OPEN
    )
    return (rows.select_for_update() if lock else rows).first()


@transaction.atomic
def stock_reserve(*, actor: Actor, part: Part, qty: Any, reference: Any, store: Any = None) -> Reservation:
    """Hold ``qty`` of ``part`` for ``reference`` (an open repair order): available stock falls,
    on-hand does not. More than is available is a 409; reserving again for the same reference
    adds to its open reservation."""
    _check(actor, "reserve", part, store)
    amount = quantity(qty)
    assert amount is not None
    ref = reference_clean(reference)
    assert ref is not None
    reservation = _open_reservation(part, ref)
    if not _shift(part, reserved=amount):
        raise _not_enough(part, amount)
    if reservation is None:
        try:
            with transaction.atomic():
                reservation = Reservation.objects.create(
                    store_id=part.store_id, part=part, quantity=amount, reference_kind=ref[0], reference_id=ref[1],
                    created_by_id=actor.user_id,
                )  # fmt: skip
        except IntegrityError:  # a concurrent first reservation for the same reference
            reservation = _open_reservation(part, ref)
            if reservation is None:
                raise
            Reservation.objects.filter(pk=reservation.pk).update(quantity=F("quantity") + amount)  # scoped: same
            reservation.refresh_from_db()
    else:
        Reservation.objects.filter(pk=reservation.pk).update(quantity=F("quantity") + amount)  # scoped: same
        reservation.refresh_from_db()
    _watch_reorder(part)
    return reservation


@transaction.atomic
def stock_release(*, actor: Actor, part: Part, reference: Any, qty: Any = None, store: Any = None) -> Decimal:
    """Give back what ``reference`` holds of ``part`` (all of it, or ``qty``); returns the
    quantity released (0 when nothing was held: closing a repair order calls it for every part).
    More than is held is a 409."""
    _check(actor, "reserve", part, store)
    ref = reference_clean(reference)
    assert ref is not None
    reservation = _open_reservation(part, ref)
    held = reservation.quantity if reservation else Decimal(0)
    amount = held if qty is None else quantity(qty)
    assert amount is not None
    if amount > held:
        message = _("Only %(held)s of this part is reserved for this record.") % {"held": held}
        raise Conflict(message, fields={"quantity": [message]})
    if reservation is None or amount == 0:
        return Decimal(0)
    if not _shift(part, reserved=-amount):  # cannot happen while the reservation row holds it
        raise _not_enough(part, amount)
    _consume(reservation, amount, ReservationStatus.RELEASED)
    _watch_reorder(part)
    return amount


def _consume(reservation: Reservation, amount: Decimal, closing: str) -> None:
    reservation.quantity -= amount
    fields = ["quantity", "updated_at"]
    if reservation.quantity <= 0:
        reservation.quantity = Decimal(0)
        reservation.status = closing
        fields.append("status")
    reservation.save(update_fields=fields)


@transaction.atomic
def stock_issue(
    *, actor: Actor, part: Part, qty: Any, reference: Any, store: Any = None, backorder: bool = False
) -> StockMovement | None:
    """Issue ``qty`` of ``part`` to ``reference`` (a repair order): on-hand falls, and what the
    reference had reserved is used first. Not enough stock (on-hand less what others hold) is a
    409 naming ``quantity``; with ``backorder=True`` it returns None instead and nothing is written,
    so the caller can mark the line back-ordered."""
    _check(actor, "issue", part, store)
    amount = quantity(qty)
    assert amount is not None
    ref = reference_clean(reference)
    assert ref is not None
    reservation = _open_reservation(part, ref)
    from_reserved = min(amount, reservation.quantity) if reservation else Decimal(0)
    if not _shift(part, on_hand=-amount, reserved=-from_reserved):
        if backorder:
            return None
        raise _not_enough(part, amount)
    if reservation is not None and from_reserved:
        _consume(reservation, from_reserved, ReservationStatus.ISSUED)
    return _record(actor, part, MovementKind.ISSUE, -amount, reference=ref, unit_cost=part.cost)


@transaction.atomic
def stock_return(*, actor: Actor, part: Part, qty: Any, reference: Any, store: Any = None) -> StockMovement:
    """Take back into stock what was issued to ``reference`` and not used; more than it was
    issued (less earlier returns) is a 409."""
    _check(actor, "issue", part, store)
    amount = quantity(qty)
    assert amount is not None
    ref = reference_clean(reference)
    assert ref is not None
    net = StockMovement.objects.filter(  # scoped: the part in hand
        part=part, reference_kind=ref[0], reference_id=ref[1], kind__in=[MovementKind.ISSUE, MovementKind.RETURN]
    ).aggregate(total=Sum("quantity"))["total"] or Decimal(0)
    if amount > -net:
        message = _("Only %(n)s of this part was issued to this record.") % {"n": max(-net, Decimal(0))}
        raise Conflict(message, fields={"quantity": [message]})
    if not _shift(part, on_hand=amount):
        raise _not_enough(part, amount)
    return _record(actor, part, MovementKind.RETURN, amount, reference=ref, unit_cost=part.cost)


def _replay(store_id: int, key: str) -> StockMovement | None:
    if not key:
        return None
    return StockMovement.objects.filter(store_id=store_id, idempotency_key=key).first()  # scoped: the actor's store


def _key(value: Any) -> str:
    key = "" if value is None else str(value).strip()
    if len(key) > 64 or "\x00" in key or (key and not re.fullmatch(r"[\w.:-]+", key)):
        raise ValidationError(NOT_VALID, fields={"idempotency_key": [_("Use at most 64 letters, digits, - _ . :")]})
    return key


def replayed(store_id: int, key: Any) -> bool:
    """Was a movement already recorded in the store under this idempotency key? (The API answers
    a replay with 200 instead of 201.)"""
    return _replay(store_id, _key(key)) is not None


def _same_request(movement: StockMovement, part: Part, kind: str) -> StockMovement:
    if movement.part_id != part.pk or movement.kind != kind:
        message = _("This idempotency key was used for another movement.")
        raise Conflict(message, fields={"idempotency_key": [message]})
    return movement


@transaction.atomic
def stock_receive(
    *, actor: Actor, part: Part, qty: Any, reference: Any = None, unit_cost: Any = None, store: Any = None,
    idempotency_key: Any = "",
) -> StockMovement:  # fmt: skip
    """Goods in: ``qty`` of ``part`` arrives (from a purchase order line, or by hand). The same
    ``idempotency_key`` again returns the first movement and changes nothing."""
    _check(actor, "receive", part, store)
    key = _key(idempotency_key)
    if (earlier := _replay(part.store_id, key)) is not None:
        return _same_request(earlier, part, MovementKind.RECEIPT)
    errors = inputs.Errors()
    amount = quantity(qty, errors=errors)
    cost = inputs.money(errors, unit_cost, "unit_cost")
    errors.raise_if_any()
    assert amount is not None
    ref = reference_clean(reference, required=False)
    if not _shift(part, on_hand=amount):
        message = _("The stock of this part would exceed what can be recorded.")
        raise ValidationError(NOT_VALID, fields={"quantity": [message]})
    return _record(actor, part, MovementKind.RECEIPT, amount, reference=ref, unit_cost=cost or part.cost,
                   idempotency_key=key)  # fmt: skip


@transaction.atomic
def stock_adjust(
    *, actor: Actor, part: Part, qty: Any, reason: Any, store: Any = None, idempotency_key: Any = ""
) -> StockMovement:
    """A stock count's correction (盘点): ``qty`` signed, with a reason. Taking away more than is
    on hand, or stock that repair orders hold, is a 409 (release the reservation first)."""
    _check(actor, "adjust", part, store)
    key = _key(idempotency_key)
    if (earlier := _replay(part.store_id, key)) is not None:
        return _same_request(earlier, part, MovementKind.ADJUSTMENT)
    errors = inputs.Errors()
    amount = quantity(qty, errors=errors, signed=True)
    why = inputs.text(errors, {"reason": reason}, "reason", 200, required=True)
    errors.raise_if_any()
    assert amount is not None
    if not _shift(part, on_hand=amount):
        if amount > 0:
            raise ValidationError(
                NOT_VALID, fields={"quantity": [_("The stock of this part would exceed what can be recorded.")]}
            )
        raise _not_enough(part, -amount)
    return _record(actor, part, MovementKind.ADJUSTMENT, amount, reason=why, idempotency_key=key)


@transaction.atomic
def stock_transfer(
    *, actor: Actor, part: Part, qty: Any, to_store: Any, store: Any = None, idempotency_key: Any = ""
) -> tuple[StockMovement, StockMovement]:
    """Move ``qty`` of ``part`` to another store of the organization: an outgoing row here and an
    incoming one there, in one transaction, so the two balances always add up. The other store's
    catalogue line is the one with the same part number (made from this one if it has none)."""
    _check(actor, "transfer", part, store)
    key = _key(idempotency_key)
    if (earlier := _replay(part.store_id, key)) is not None:
        _same_request(earlier, part, MovementKind.TRANSFER_OUT)
        incoming = StockMovement.objects.filter(  # scoped: the pair of this transfer
            store_id=earlier.other_store_id or 0, idempotency_key=key
        ).first()
        assert incoming is not None
        return earlier, incoming
    amount = quantity(qty)
    assert amount is not None
    target_id = to_store.pk if isinstance(to_store, Store) else to_store
    target = None
    if isinstance(target_id, int) and not isinstance(target_id, bool):
        target = Store.objects.filter(  # scoped: the actor's organization
            pk=target_id, organization_id=actor.require_organization_id(), is_active=True
        ).first()
    if target is None or target.pk == part.store_id:
        raise ValidationError(NOT_VALID, fields={"to_store": [_("Choose another store of the organization.")]})
    there = Part.objects.filter(store=target, part_number=part.part_number).first()  # scoped: the target store
    if there is None:
        there = Part.objects.create(
            store=target, part_number=part.part_number, name=part.name, brand=part.brand, unit=part.unit,
            category=part.category, price=part.price, cost=part.cost,
        )  # fmt: skip
    # Lock in id order so two transfers in opposite directions cannot deadlock.
    first, second = sorted((part, there), key=lambda p: p.pk)
    list(Part.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk").select_for_update())  # scoped: these two
    if not _shift(part, on_hand=-amount):
        raise _not_enough(part, amount)
    if not _shift(there, on_hand=amount):
        raise ValidationError(
            NOT_VALID, fields={"quantity": [_("The stock of this part would exceed what can be recorded.")]}
        )
    out = _record(actor, part, MovementKind.TRANSFER_OUT, -amount, other_store_id=target.pk, unit_cost=part.cost,
                  idempotency_key=key)  # fmt: skip
    incoming = _record(actor, there, MovementKind.TRANSFER_IN, amount, other_store_id=part.store_id,
                       unit_cost=part.cost, idempotency_key=key)  # fmt: skip
    return out, incoming


# --- the catalogue -------------------------------------------------------------------------------


def _supplier(errors: inputs.Errors, value: Any, store_id: int) -> Supplier | None:
    if value in (None, ""):
        return None
    if isinstance(value, Supplier):
        found: Supplier | None = value if value.store_id == store_id else None
    else:
        try:
            if isinstance(value, bool):
                raise ValueError
            found = Supplier.objects.filter(pk=int(str(value)), store_id=store_id).first()  # scoped: the actor's store
        except (TypeError, ValueError, OverflowError):
            found = None
    if found is None:
        errors.add("supplier", _("Choose one of the store's suppliers."))
    return found


def part_clean(data: Mapping[str, Any], *, store_id: int, partial: bool = False) -> dict[str, Any]:
    errors = inputs.Errors()
    values: dict[str, Any] = {}

    def given(name: str) -> bool:
        return not partial or name in data

    if given("part_number"):
        number = inputs.text(errors, data, "part_number", 40, required=True)
        values["part_number"] = number.upper()
        if number and not re.fullmatch(r"[\w\-./ ]+", number):
            errors.add("part_number", _("Use letters, digits, spaces and - . / only."))
    if given("name"):
        values["name"] = inputs.text(errors, data, "name", 100, required=True)
    if given("brand"):
        values["brand"] = inputs.text(errors, data, "brand", 40)
    if given("unit"):
        values["unit"] = inputs.choice(errors, data, "unit", Unit, Unit.PIECE)
    if given("category"):
        values["category"] = inputs.choice(errors, data, "category", Category, Category.OTHER)
    for name in ("price", "cost"):
        if given(name):
            values[name] = inputs.money(errors, data.get(name), name)
    for name in ("reorder_point", "reorder_qty"):
        if given(name):
            raw = data.get(name)
            values[name] = (
                Decimal(0) if raw in (None, "") else quantity(raw, name=name, errors=errors, allow_zero=True)
            ) or Decimal(0)
    if given("supplier"):
        values["supplier"] = _supplier(errors, data.get("supplier"), store_id)
    if partial and "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors.add("is_active", _("Enter true or false."))
        else:
            values["is_active"] = data["is_active"]
    errors.raise_if_any()
    return values


def _number_taken(store_id: int, number: str, exclude_id: int | None = None) -> Conflict | None:
    from autocrm.core.conflicts import store_key_conflict

    return store_key_conflict(Part, store_id=store_id, field="part_number", value=number,
                              message=_("This part number is already in the store's catalogue."), exclude_id=exclude_id)  # fmt: skip


@transaction.atomic
def part_create(*, actor: Actor, data: Mapping[str, Any]) -> Part:
    """Add a line to the store's catalogue. Stock comes only through movements (a receipt)."""
    if scope_for(actor, Part, "add") is None:
        raise PermissionDenied()
    store_id = actor.require_store_id()
    values = part_clean(data, store_id=store_id)
    if (conflict := _number_taken(store_id, values["part_number"])) is not None:
        raise conflict
    try:
        with transaction.atomic():
            part = Part.objects.create(store_id=store_id, **values)
    except IntegrityError:
        conflict = _number_taken(store_id, values["part_number"])
        raise (conflict or Conflict()) from None
    return part


@transaction.atomic
def part_update(*, actor: Actor, part: Part, data: Mapping[str, Any]) -> Part:
    """Change catalogue fields, price, cost (roles with cost access) and the reorder point and
    quantity; never the stock (that is a movement)."""
    require(actor, "change", part)
    if "cost" in data and field_access(actor, Part, "cost") is not Access.FULL:
        raise PermissionDenied()
    values = part_clean(data, store_id=part.store_id, partial=True)
    if "part_number" in values and (conflict := _number_taken(part.store_id, values["part_number"], part.pk)):
        raise conflict
    locked = Part.objects.select_for_update().get(pk=part.pk)  # scoped: the part in hand
    for name, value in values.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*values, "updated_at"])
    _watch_reorder(locked)
    return locked


# --- suppliers and purchase orders ---------------------------------------------------------------


@transaction.atomic
def supplier_create(*, actor: Actor, data: Mapping[str, Any]) -> Supplier:
    if scope_for(actor, Supplier, "add") is None:
        raise PermissionDenied()
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    values = {
        "name": inputs.text(errors, data, "name", 100, required=True),
        "contact": inputs.text(errors, data, "contact", 50),
        "phone": inputs.text(errors, data, "phone", 30),
        "lead_time_days": _or_default(inputs.integer(errors, data.get("lead_time_days"), "lead_time_days", 0, 365), 3),
    }
    errors.raise_if_any()
    if Supplier.objects.filter(store_id=store_id, name=values["name"]).exists():  # scoped: the actor's store
        message = _("A supplier of this name already exists.")
        raise Conflict(message, fields={"name": [message]})
    return Supplier.objects.create(store_id=store_id, **values)


def _lines(errors: inputs.Errors, raw: Any, store_id: int) -> list[tuple[Part, Decimal, Decimal | None]]:
    if not isinstance(raw, (list, tuple)) or not raw or len(raw) > 200:
        errors.add("lines", _("Give between 1 and 200 lines."))
        return []
    out: list[tuple[Part, Decimal, Decimal | None]] = []
    ids: list[int] = []
    for item in raw:
        value = item.get("part") if isinstance(item, Mapping) else None
        if isinstance(value, Part):
            ids.append(value.pk)
        elif isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**62:
            ids.append(value)
        else:
            errors.add("lines", _("Each line names a part of the store's catalogue."))
            return []
    parts = Part.objects.in_bulk(ids)  # scoped: checked against the store below
    for item, pk in zip(raw, ids, strict=True):
        part = parts.get(pk)
        if part is None or part.store_id != store_id:
            errors.add("lines", _("Each line names a part of the store's catalogue."))
            return []
        amount = quantity(item.get("quantity"), name="lines", errors=errors)
        cost = inputs.money(errors, item.get("unit_cost"), "lines")
        if amount is None:
            return []
        out.append((part, amount, cost if cost is not None else part.cost))
    return out


@transaction.atomic
def po_create(*, actor: Actor, supplier: Supplier, lines: Any, note: Any = "") -> PurchaseOrder:
    """A draft order to ``supplier`` with ``lines`` (``[{part, quantity, unit_cost?}]``); it is
    expected after the supplier's lead time."""
    if scope_for(actor, PurchaseOrder, "add") is None:
        raise PermissionDenied()
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    if supplier.store_id != store_id:
        errors.add("supplier", _("Choose one of the store's suppliers."))
    text = inputs.text(errors, {"note": note}, "note", 200)
    rows = _lines(errors, lines, store_id)
    errors.raise_if_any()
    order = PurchaseOrder.objects.create(
        store_id=store_id, supplier=supplier, note=text, created_by_id=actor.user_id,
        expected_date=timezone.localdate() + dt.timedelta(days=supplier.lead_time_days),
    )  # fmt: skip
    order.number = f"PO{timezone.localdate():%y%m%d}-{order.pk:05d}"
    order.save(update_fields=["number", "updated_at"])
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(store_id=store_id, order=order, part=p, quantity=q, unit_cost=c) for p, q, c in rows
    )
    return order


def reorder_suggestions(parts: Iterable[Part]) -> list[dict[str, Any]]:
    """Lines for the parts at or below their reorder point: the reorder quantity, or enough to
    get back above the point."""
    out = []
    for part in parts:
        if not part.is_low:
            continue
        wanted = max(part.reorder_qty, part.reorder_point - part.available + 1)
        out.append({"part": part.pk, "quantity": wanted.quantize(CENT), "unit_cost": part.cost})
    return out


@transaction.atomic
def po_from_alerts(*, actor: Actor, supplier: Supplier) -> PurchaseOrder:
    """A draft order to ``supplier`` for every part of it at or below its reorder point."""
    if scope_for(actor, PurchaseOrder, "add") is None:
        raise PermissionDenied()
    store_id = actor.require_store_id()
    parts = Part.objects.filter(
        store_id=store_id, supplier=supplier, is_active=True, reorder_point__gt=0
    )  # scoped: the actor's store
    lines = reorder_suggestions(parts)
    if not lines:
        message = _("No part of this supplier is at its reorder point.")
        raise Conflict(message, fields={"supplier": [message]})
    return po_create(actor=actor, supplier=supplier, lines=lines, note=_("From the reorder list"))


def _po_locked(actor: Actor, order: PurchaseOrder, action: str) -> PurchaseOrder:
    require(actor, action, order)
    return PurchaseOrder.objects.select_for_update().get(pk=order.pk)  # scoped: the order in hand


@transaction.atomic
def po_send(*, actor: Actor, order: PurchaseOrder) -> PurchaseOrder:
    locked = _po_locked(actor, order, "change")
    if locked.status != POStatus.DRAFT:
        raise Conflict(_("Only a draft order can be sent."), fields={"status": [_("Only a draft order can be sent.")]})
    locked.status, locked.sent_at = POStatus.SENT, timezone.now()
    locked.save(update_fields=["status", "sent_at", "updated_at"])
    return locked


@transaction.atomic
def po_cancel(*, actor: Actor, order: PurchaseOrder) -> PurchaseOrder:
    locked = _po_locked(actor, order, "change")
    if locked.status not in (POStatus.DRAFT, POStatus.SENT):
        message = _("An order already (partly) received or cancelled cannot be cancelled.")
        raise Conflict(message, fields={"status": [message]})
    locked.status = POStatus.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def po_receive(*, actor: Actor, order: PurchaseOrder, quantities: Mapping[Any, Any] | None = None) -> PurchaseOrder:
    """Goods in against the order: ``quantities`` maps line ids to what arrived (None: everything
    outstanding). Each line's receipt is a ledger row referring to the line; the order becomes
    partly received or received. More than is outstanding on a line is a 400 naming it."""
    locked = _po_locked(actor, order, "receive")
    if locked.status not in (POStatus.SENT, POStatus.PARTLY_RECEIVED):
        message = _("Only a sent order can be received.")
        raise Conflict(message, fields={"status": [message]})
    lines = {line.pk: line for line in locked.lines.select_related("part").order_by("pk")}
    errors = inputs.Errors()
    plan: list[tuple[PurchaseOrderLine, Decimal]] = []
    if quantities is None:
        plan = [(line, line.outstanding) for line in lines.values() if line.outstanding > 0]
    elif not isinstance(quantities, Mapping) or len(quantities) > 200:
        errors.add("lines", _("Give what arrived per line."))
    else:
        for raw_id, raw_qty in quantities.items():
            try:
                line_id = int(str(raw_id))
            except (TypeError, ValueError):
                line_id = 0
            line = lines.get(line_id)
            name = f"line_{raw_id}"[:40]
            if line is None:
                errors.add("lines", _("A line of another order was given."))
                continue
            if raw_qty in (None, "", 0, "0"):
                continue
            amount = quantity(raw_qty, name=name, errors=errors)
            if amount is not None and amount > line.outstanding:
                errors.add(name, _("Only %(n)s is outstanding on this line.") % {"n": line.outstanding})
            elif amount is not None:
                plan.append((line, amount))
    errors.raise_if_any()
    if not plan:
        raise ValidationError(NOT_VALID, fields={"lines": [_("Enter what arrived on at least one line.")]})
    for line, amount in plan:
        part = line.part
        if not _shift(part, on_hand=amount):
            raise ValidationError(
                NOT_VALID, fields={"lines": [_("The stock of this part would exceed what can be recorded.")]}
            )
        _record(actor, part, MovementKind.RECEIPT, amount, reference=("parts.purchaseorderline", line.pk),
                unit_cost=line.unit_cost)  # fmt: skip
        line.received += amount
        line.save(update_fields=["received", "updated_at"])
    done = all(line.outstanding <= 0 for line in lines.values())
    locked.status = POStatus.RECEIVED if done else POStatus.PARTLY_RECEIVED
    locked.received_at = timezone.now() if done else None
    locked.save(update_fields=["status", "received_at", "updated_at"])
    emit(events.ORDER_RECEIVED, store_id=locked.store_id, actor_id=actor.user_id,
         payload=events.OrderReceived(locked.pk, locked.status))  # fmt: skip
    return locked
