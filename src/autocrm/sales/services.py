"""Writes of sales: deals and their stages, evidence, test drives, quotes, needs analyses,
trade-ins, delivery, stock.

Each service is keyword-only with the actor first, atomic, checks permission, and emits its
``sales.*`` event after commit; every saved row is in the audit trail (``audit.signals``) and
stage moves and approvals are recorded as their own actions too. Bad input is a
``ValidationError`` naming the field with nothing written; a move the deal's state does not
allow (missing evidence, a skipped stage the store requires, a pending quote) is a ``Conflict``
naming what is missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, bill_hooks, identifiers, inputs, uploads
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.core.events import emit
from autocrm.core.fields import blind_lookup
from autocrm.core.permissions import Scope, require, scope_for
from autocrm.core.roles import CONSULTANT_ROLES, Role
from autocrm.customers.models import Customer
from autocrm.customers.services import customer_create, timeline_record
from autocrm.leads.models import Lead
from autocrm.leads.services import lead_mark_won
from autocrm.messaging.notifications import notify_staff
from autocrm.vehicles.models import Series
from autocrm.vehicles.services import vehicle_create

from . import events, pricing
from .choices import (
    DOCUMENT_UPLOAD_KIND,
    STAGE_ORDER,
    DealStatus,
    DocumentKind,
    PurchaseType,
    Purpose,
    QuoteStatus,
    Sensitivity,
    Stage,
    StockStatus,
    TestDriveStatus,
)
from .models import (
    Deal,
    DealDocument,
    DealStageChange,
    NeedsAnalysis,
    Quote,
    SalesScript,
    SalesSettings,
    StockVehicle,
    TestDrive,
    TradeIn,
)
from .selectors import settings_for

MAX_MONEY = Decimal("99999999.99")
# The notification kind of quote approvals (registered in ``SalesConfig.ready``).
NOTIFY_QUOTE = "sales.quote_approval"
NOT_VALID = _("Some fields are not valid.")


# --- input ---------------------------------------------------------------------------------------


def _labels(codes: Iterable[str], choices: Any) -> list[str]:
    return [str(choices(code).label) for code in codes]


# --- deals ---------------------------------------------------------------------------------------


@transaction.atomic
def deal_create(
    *,
    actor: Actor,
    data: Mapping[str, Any],
    lead: Lead | None = None,
    customer: Customer | None = None,
    stock_vehicle: StockVehicle | None = None,
) -> Deal:
    """Open a deal in the actor's store, from a lead and/or a known customer. A consultant's deals
    are their own; a manager may give one to a consultant of the store (``consultant``). The
    name defaults to the lead's or the customer's."""
    scope = scope_for(actor, Deal, "add")
    if scope is None:
        raise PermissionDenied()
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    if lead is None and customer is None:
        errors.add("lead", _("Open a deal from a lead or a customer."))
    inputs.same_store(errors, lead, store_id, "lead")
    inputs.same_store(errors, customer, store_id, "customer")
    inputs.same_store(errors, stock_vehicle, store_id, "stock_vehicle")
    name = inputs.text(errors, data, "name", 100)
    model_interest = inputs.text(errors, data, "model_interest", 100)
    external_id = inputs.text(errors, data, "external_id", 64)
    purchase_type = inputs.choice(errors, data, "purchase_type", PurchaseType) if data.get("purchase_type") else ""
    series = None
    if data.get("series") not in (None, ""):
        series_id = inputs.integer(errors, data.get("series"), "series", 1, 2**62)
        series = Series.objects.filter(pk=series_id).first() if series_id else None
        if series is None and "series" not in errors.fields:
            errors.add("series", _("Choose a series from the catalogue."))
    consultant_id = actor.user_id
    if scope is Scope.STORE and data.get("consultant") not in (None, ""):
        consultant_id = _consultant(errors, store_id, data.get("consultant"))
    errors.raise_if_any()
    if external_id and Deal.objects.filter(store_id=store_id, external_id=external_id).exists():
        message = _("Another deal of this store already has this external ID.")
        raise Conflict(message, fields={"external_id": [message]})
    deal = Deal(
        store_id=store_id,
        lead=lead,
        customer=customer or (lead.customer if lead is not None and lead.customer_id else None),
        consultant_id=consultant_id,
        name=name or (lead.name if lead is not None else "") or (customer.name if customer is not None else ""),
        model_interest=model_interest or (lead.model_interest if lead is not None else ""),
        series=series,
        stock_vehicle=stock_vehicle,
        purchase_type=purchase_type,
        external_id=external_id,
    )
    if lead is not None and lead.first_contact_at is not None:
        deal.stage = Stage.CONTACT
    try:
        with transaction.atomic():
            deal.save()
    except IntegrityError:
        message = _("Another deal of this store already has this external ID.")
        raise Conflict(message, fields={"external_id": [message]}) from None
    if deal.customer_id:
        timeline_record(customer=deal.customer_id, kind="deal.opened", summary=deal.model_interest or str(deal),
                        obj=deal, store_id=deal.store_id)  # fmt: skip
    emit(events.DEAL_CREATED, store_id=store_id,
         payload=events.DealCreated(deal_id=deal.pk, lead_id=deal.lead_id, consultant_id=deal.consultant_id))  # fmt: skip
    return deal


def _consultant(errors: inputs.Errors, store_id: int, value: Any) -> int | None:
    from autocrm.accounts.models import Membership

    user_id = inputs.integer(errors, value, "consultant", 1, 2**62)
    if user_id is None:
        return None
    if not Membership.objects.filter(user_id=user_id, store_id=store_id, role__in=CONSULTANT_ROLES).exists():
        errors.add("consultant", _("Choose a sales consultant of this store."))
    return user_id


# What entering a stage needs: documents of the deal, and other facts checked in code.
STAGE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    Stage.TEST_DRIVE: (DocumentKind.TEST_DRIVE_AGREEMENT,),
    Stage.ORDER: (DocumentKind.CONTRACT,),
    Stage.DELIVERY: (DocumentKind.CONDITION_SHEET, DocumentKind.PDI),
}


def evidence_missing(deal: Deal, stage: str, *, skipped: Iterable[str] = ()) -> dict[str, list[Any]]:
    """What entering ``stage`` still needs, by field: ``documents`` (kinds not uploaded), ``quote``,
    ``finance``, ``stock_vehicle``, ``customer``. Empty when the deal may move.

    The order's evidence is never skipped: a deal that passes the order stage on its way (a store
    that lets it be skipped) still needs the signed contract and no quote waiting for approval;
    a deal whose latest quote finances the car may not skip the finance approval."""
    missing: dict[str, list[Any]] = {}
    skipped = set(skipped)
    kinds = set(DealDocument.objects.filter(deal=deal).values_list("kind", flat=True))
    needed = list(STAGE_DOCUMENTS.get(stage, ()))
    if Stage.ORDER in skipped:
        needed += STAGE_DOCUMENTS[Stage.ORDER]
    lacking = [k for k in needed if k not in kinds]
    if lacking:
        missing["documents"] = _labels(lacking, DocumentKind)
    quotes = Quote.objects.filter(deal=deal)
    presentable = quotes.filter(status__in=(QuoteStatus.DRAFT, QuoteStatus.APPROVED))
    if stage == Stage.QUOTE and not presentable.exists():
        missing["quote"] = [_("Make a quote first (one awaiting approval does not count).")]
    passes_order = stage == Stage.ORDER or Stage.ORDER in skipped
    if passes_order and quotes.filter(status=QuoteStatus.PENDING_APPROVAL).exists():
        missing["quote"] = [_("A quote of this deal is waiting for a manager's approval of its discount.")]
    elif passes_order and deal.agreed_price is None and not presentable.exists():
        missing["quote"] = [_("An order needs a quote that is ready to present or approved.")]
    if stage == Stage.DELIVERY:
        if deal.stock_vehicle_id is None:
            missing["stock_vehicle"] = [_("Choose the car from stock that is delivered (its VIN).")]
        if Stage.FINANCE not in skipped and deal.finance_approved_at is None and deal.stage == Stage.FINANCE:
            missing["finance"] = [_("The finance and insurance specialist has not approved the finance yet.")]
        if Stage.FINANCE in skipped:
            latest = presentable.order_by("-created_at", "-id").first()
            if latest is not None and latest.term_months:
                missing["finance"] = [_("The quote finances the car: its finance approval cannot be skipped.")]
        if deal.customer_id is None and (deal.lead is None or not deal.lead.mobile):
            missing["customer"] = [_("The customer's mobile is needed to register the car to them.")]
    return missing


@transaction.atomic
def deal_advance(*, actor: Actor, deal: Deal, to_stage: str | None = None) -> Deal:
    """Move a deal forward to ``to_stage`` (default: the next stage). Stages in between may be
    skipped only where the store allows it (``SalesSettings.skippable_stages``); the target's
    evidence must be there (:func:`evidence_missing`) — otherwise a 409 naming what is missing,
    with nothing changed. Entering delivery registers the customer and the car
    (:func:`_deliver`). Audited, on the customer's timeline, ``sales.deal_advanced`` emitted."""
    deal = Deal.objects.select_for_update(of=("self",)).select_related("lead", "stock_vehicle").get(pk=deal.pk)
    require(actor, "advance", deal)
    if deal.status != DealStatus.OPEN:
        raise Conflict(_("This deal is closed."), fields={"stage": [_("This deal is closed.")]})
    current = STAGE_ORDER.index(deal.stage)
    target = to_stage or (STAGE_ORDER[current + 1] if current + 1 < len(STAGE_ORDER) else "")
    if target not in STAGE_ORDER:
        raise ValidationError(NOT_VALID, fields={"to_stage": [_("Choose one of the listed values.")]})
    if STAGE_ORDER.index(target) <= current:
        message = _("A deal only moves forward; it is already at this stage or later.")
        raise Conflict(message, fields={"to_stage": [message]})
    skipped = list(STAGE_ORDER[current + 1 : STAGE_ORDER.index(target)])
    allowed = set(settings_for(deal.store_id).skippable_stages or ())
    refused = [s for s in skipped if s not in allowed]
    if refused:
        refusal = _("This store does not allow skipping: %(stages)s.") % {"stages": ", ".join(_labels(refused, Stage))}
        raise Conflict(refusal, fields={"to_stage": [refusal]}, extra={"missing": {"stages": refused}})
    missing = evidence_missing(deal, target, skipped=skipped)
    if missing:
        names = "; ".join(str(m) for messages in missing.values() for m in messages)
        raise Conflict(
            _("Before %(stage)s: %(missing)s") % {"stage": Stage(target).label, "missing": names},
            fields=missing,
            extra={"missing": sorted(missing)},
        )
    before = deal.stage
    now = timezone.now()
    if STAGE_ORDER.index(target) >= STAGE_ORDER.index(Stage.ORDER) > current:
        _order_placed(deal)
        # the moment of commitment: what the deal's lines use (points toward the car) is taken now,
        # in this transaction; a refusal (409) leaves the deal where it was
        bill_hooks.run_deal_commit(deal_settlement(deal, actor))
    if target == Stage.DELIVERY:
        _deliver(actor, deal, now)
    deal.stage, deal.stage_entered_at = target, now
    deal.save()
    DealStageChange.objects.create(
        store_id=deal.store_id, deal=deal, from_stage=before, to_stage=target, skipped=skipped, by_id=actor.user_id
    )
    audit.record("deal.advance", obj=deal, actor=actor, changes={"stage": [before, target]},
                 extra={"skipped": skipped})  # fmt: skip
    if deal.customer_id:
        timeline_record(customer=deal.customer_id, kind="deal.advanced", summary=str(Stage(target).label),
                        obj=deal, store_id=deal.store_id)  # fmt: skip
    emit(events.DEAL_ADVANCED, store_id=deal.store_id, payload=events.DealAdvanced(
        deal_id=deal.pk, from_stage=before, to_stage=target, skipped=tuple(skipped)))  # fmt: skip
    return deal


# --- the deal's price and its lines (points toward the car, ADR 0039) ----------------------------


def deal_price(deal: Deal) -> Decimal | None:
    """The deal's price: the agreed price, else the latest presentable quote's car, options and
    discount; None while neither is known."""
    if deal.agreed_price is not None:
        return deal.agreed_price
    quote = (
        Quote.objects.filter(deal=deal, status__in=(QuoteStatus.DRAFT, QuoteStatus.APPROVED))
        .order_by("-created_at", "-id")
        .first()
    )  # scoped: the deal's own quotes
    return pricing.to_fen(quote.vehicle_price + quote.options_total - quote.discount) if quote else None


def deal_context(deal: Deal, price: Decimal | None = None) -> bill_hooks.DealContext:
    return bill_hooks.DealContext(store_id=deal.store_id, deal_id=deal.pk, customer_id=deal.customer_id,
                                  price=price if price is not None else deal_price(deal))  # fmt: skip


def deal_lines(deal: Deal) -> tuple[tuple[bill_hooks.Discount, ...], Decimal | None, Decimal | None]:
    """The deal's lines under its price (``core.bill_hooks`` deal rules), the price and what is left to pay."""
    price = deal_price(deal)
    lines = bill_hooks.deal_lines(deal_context(deal, price))
    due = price - sum((line.amount for line in lines), Decimal("0")) if price is not None else None
    return lines, price, due


def deal_settlement(deal: Deal, actor: Actor | None) -> bill_hooks.DealSettlement:
    lines, price, _due = deal_lines(deal)
    return bill_hooks.DealSettlement(deal_id=deal.pk, store_id=deal.store_id, customer_id=deal.customer_id,
                                     price=price, discounts=lines,
                                     actor_user_id=actor.user_id if actor else None)  # fmt: skip


@transaction.atomic
def deal_points_apply(*, actor: Actor, deal: Deal, points: Any) -> Deal:
    """The consultant applies the customer's points toward the car (抵扣购车款): before the order
    is placed, on a deal with its customer and a price; the loyalty programme checks its cap and
    the balance (``core.bill_hooks`` ``sales.deal_apply`` key ``points``). 0 takes them off."""
    deal = Deal.objects.select_for_update(of=("self",)).get(pk=deal.pk)
    require(actor, "change", deal)
    errors = inputs.Errors()
    number = inputs.integer(errors, points, "points", 0, 10_000_000)
    if number is None and "points" not in errors.fields:
        errors.add("points", _("This field is required."))
    errors.raise_if_any()
    if deal.status != DealStatus.OPEN or STAGE_ORDER.index(deal.stage) >= STAGE_ORDER.index(Stage.ORDER):
        message = _("Points can be applied only before the order is placed.")
        raise Conflict(message, fields={"points": [message]})
    if deal.customer_id is None:
        message = _("The deal needs its customer before points can be used.")
        raise Conflict(message, fields={"customer": [message]})
    price = deal_price(deal)
    if price is None:
        message = _("Agree a price or make a quote first.")
        raise Conflict(message, fields={"points": [message]})
    if not bill_hooks.deal_apply("points", actor, deal_context(deal, price), number):
        raise ValidationError(fields={"points": [_("Points cannot be used on deals in this store.")]})
    deal.save(update_fields=["updated_at"])
    return deal


@transaction.atomic
def deal_cancel(*, actor: Actor, deal: Deal, reason: Any = "") -> Deal:
    """Cancel (lose) an open deal with a reason: the reserved stock car goes back to stock and what
    the order had consumed (points toward the car) is given back, once (``sales.deal_cancelled``)."""
    deal = Deal.objects.select_for_update(of=("self",)).select_related("stock_vehicle").get(pk=deal.pk)
    require(actor, "change", deal)
    errors = inputs.Errors()
    why = inputs.text(errors, {"reason": reason}, "reason", 200, required=True)
    errors.raise_if_any()
    if deal.status != DealStatus.OPEN:
        raise Conflict(_("This deal is closed."), fields={"deal": [_("This deal is closed.")]})
    settlement = deal_settlement(deal, actor)
    deal.status = DealStatus.LOST
    deal.save()
    stock = deal.stock_vehicle
    if stock is not None and stock.status == StockStatus.RESERVED:
        stock.status = StockStatus.IN_STOCK
        stock.save(update_fields=["status", "updated_at"])
    bill_hooks.run_deal_cancel(settlement)
    audit.record("deal.cancel", obj=deal, actor=actor, changes={"status": [DealStatus.OPEN, DealStatus.LOST]},
                 extra={"reason": why})  # fmt: skip
    if deal.customer_id:
        timeline_record(customer=deal.customer_id, kind="deal.cancelled", summary=why, obj=deal,
                        store_id=deal.store_id)  # fmt: skip
    return deal


def _story_to_timeline(deal: Deal, customer: Customer) -> None:
    """A deal that met its customer only at delivery (a new buyer from a lead) writes what
    happened before onto the customer's timeline, each at its own time: opened, test drives and
    quotes (the stage moves stay on the deal's page) — so the 360 page tells the whole story."""

    def put(kind: str, summary: str, at: dt.datetime, obj: Any) -> None:
        timeline_record(customer=customer, kind=kind, summary=summary, at=at, obj=obj, store_id=deal.store_id)

    put("deal.opened", deal.model_interest or str(deal), deal.created_at, deal)
    for drive in TestDrive.objects.filter(deal=deal).select_related("vehicle").order_by("starts_at"):
        put("deal.test_drive", str(drive.vehicle), drive.starts_at, drive)  # scoped: the deal's own rows
    for quote in Quote.objects.filter(deal=deal).order_by("created_at"):
        put("deal.quote", f"¥{quote.total_price}", quote.created_at, quote)  # scoped: the deal's own rows


def _order_placed(deal: Deal) -> None:
    """The order: the agreed price is the latest presentable quote's car, options and discount
    (unless already set), and the chosen stock car is reserved."""
    if deal.agreed_price is None:
        quote = (
            Quote.objects.filter(deal=deal, status__in=(QuoteStatus.DRAFT, QuoteStatus.APPROVED))
            .order_by("-created_at", "-id")
            .first()
        )  # scoped: the deal's own quotes
        if quote is not None:
            deal.agreed_price = pricing.to_fen(quote.vehicle_price + quote.options_total - quote.discount)
    if deal.stock_vehicle is not None and deal.stock_vehicle.status == StockStatus.IN_STOCK:
        deal.stock_vehicle.status = StockStatus.RESERVED
        deal.stock_vehicle.save(update_fields=["status", "updated_at"])


@transaction.atomic
def deal_update(*, actor: Actor, deal: Deal, data: Mapping[str, Any], stock_vehicle: Any = None) -> Deal:
    """Change what a deal is about: the car from stock (one of the store's, not sold, not on
    another open deal), the agreed price, the model of interest, the purchase type."""
    require(actor, "change", deal)
    errors = inputs.Errors()
    if deal.status != DealStatus.OPEN:
        raise Conflict(_("This deal is closed."), fields={"deal": [_("This deal is closed.")]})
    if "model_interest" in data:
        deal.model_interest = inputs.text(errors, data, "model_interest", 100)
    if "purchase_type" in data:
        deal.purchase_type = inputs.choice(errors, data, "purchase_type", PurchaseType)
    if "agreed_price" in data:
        deal.agreed_price = inputs.money(errors, data.get("agreed_price"), "agreed_price")
    if "planned_delivery" in data:
        deal.planned_delivery = inputs.date(errors, data.get("planned_delivery"), "planned_delivery")
    if stock_vehicle is not None:
        inputs.same_store(errors, stock_vehicle, deal.store_id, "stock_vehicle")
        if stock_vehicle.status == StockStatus.SOLD:
            errors.add("stock_vehicle", _("This car is sold."))
    errors.raise_if_any()
    if stock_vehicle is not None:
        taken = Deal.objects.filter(stock_vehicle=stock_vehicle, status=DealStatus.OPEN).exclude(pk=deal.pk)
        if taken.exists():  # scoped: existence only, in the car's store
            message = _("This car is already chosen for another open deal.")
            raise Conflict(message, fields={"stock_vehicle": [message]})
        deal.stock_vehicle = stock_vehicle
    deal.save()
    return deal


@transaction.atomic
def deal_finance_approve(*, actor: Actor, deal: Deal, insurer: str = "") -> Deal:
    """The finance and insurance specialist (or a manager) approves the finance of a deal at the
    finance stage, naming the insurer; delivery waits for it unless the stage was skipped."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require(actor, "finance", deal)
    errors = inputs.Errors()
    insurer = inputs.text(errors, {"insurer": insurer}, "insurer", 60)
    errors.raise_if_any()
    if deal.stage != Stage.FINANCE or deal.status != DealStatus.OPEN:
        message = _("Only a deal at the finance stage can have its finance approved.")
        raise Conflict(message, fields={"stage": [message]})
    deal.finance_approved_at, deal.finance_approved_by_id, deal.insurer = timezone.now(), actor.user_id, insurer
    deal.save()
    audit.record("deal.finance_approve", obj=deal, actor=actor, extra={"insurer": insurer})
    return deal


def _deliver(actor: Actor, deal: Deal, now: dt.datetime) -> None:
    """Delivery (交车): the customer (matched by mobile through its blind index before a new one
    is made, through ``customers.services``), the car with its VIN (``vehicles.services``), the
    stock car sold, the lead won, the timeline written and ``sales.deal_delivered`` emitted."""
    customer = deal.customer
    lead = deal.lead
    if customer is None:
        assert lead is not None  # evidence_missing asked for a mobile
        customer = (
            Customer.objects.filter(store_id=deal.store_id, **blind_lookup(Customer, "mobile_index", lead.mobile))
            .order_by("pk")
            .first()
        )  # scoped: the one customer of this store with this mobile, matched before creating one
        if customer is None:
            customer = customer_create(
                actor=actor, data={"name": deal.name or lead.name or lead.mobile, "mobile": lead.mobile},
                consultant_id=deal.consultant_id if scope_for(actor, Customer, "add") is Scope.STORE else None,
                confirm_new=True,
            )  # fmt: skip
    stock = deal.stock_vehicle
    assert stock is not None
    today = timezone.localdate(now)
    data: dict[str, Any] = {"vin": stock.vin, "colour": stock.colour, "purchase_date": today, "delivery_date": today}
    if stock.series_id:
        data["series"] = stock.series_id
    vehicle = vehicle_create(actor=actor, data=data, customer=customer)
    stock.status = StockStatus.SOLD
    stock.save(update_fields=["status", "updated_at"])
    if deal.customer_id is None:
        _story_to_timeline(deal, customer)
    deal.customer, deal.vehicle, deal.status, deal.delivered_at = customer, vehicle, DealStatus.WON, now
    purchase_number = (
        Deal.objects.filter(customer=customer, status=DealStatus.WON).exclude(pk=deal.pk).count() + 1
    )  # scoped: the customer's own deals, for the purchase count
    if not deal.purchase_type:
        deal.purchase_type = PurchaseType.FIRST if purchase_number == 1 else PurchaseType.ADDITIONAL
    if lead is not None:
        lead_mark_won(lead=lead, customer=customer, at=now)  # leads owns the lead's row
    timeline_record(customer=customer, kind="deal.delivered", summary=f"{stock.model_name} {stock.vin}",
                    obj=deal, store_id=deal.store_id)  # fmt: skip
    emit(events.DEAL_DELIVERED, store_id=deal.store_id, payload=events.DealDelivered(
        deal_id=deal.pk, lead_id=deal.lead_id, customer_id=customer.pk, vehicle_id=vehicle.pk,
        consultant_id=deal.consultant_id, purchase_number=purchase_number,
    ))  # fmt: skip


# --- documents -----------------------------------------------------------------------------------


@transaction.atomic
def document_upload(
    *, actor: Actor, deal: Deal, kind: str, file: Any, name: Any = "", field: str = "file"
) -> DealDocument:
    """Attach a file to a deal: checked by its content and size (``core.uploads``: a PDF or a
    photo per kind), stored encrypted, recorded with its type, size and SHA-256."""
    require(actor, "change", deal)
    if kind not in DocumentKind.values:
        raise ValidationError(NOT_VALID, fields={"kind": [_("Choose one of the listed values.")]})
    upload_kind = DOCUMENT_UPLOAD_KIND.get(DocumentKind(kind), "document")
    stored = uploads.store(
        file, store_id=deal.store_id, kind=upload_kind, name=name or getattr(file, "name", ""), field=field
    )
    document: DealDocument = uploads.record(
        DealDocument, stored, uploaded_by_id=actor.user_id, store_id=deal.store_id, deal=deal, kind=kind
    )
    return document


# --- test drives ---------------------------------------------------------------------------------


@transaction.atomic
def test_drive_book(
    *,
    actor: Actor,
    deal: Deal,
    vehicle: StockVehicle | None,
    data: Mapping[str, Any],
    licence_photo: Any = None,
) -> TestDrive:
    """Book a test drive of one of the store's demo (or stock) cars: the driver's licence number
    checked (a Chinese licence carries the ID number: 18 characters, check digit), its photo kept
    as a document of the deal, route and time. A time that overlaps another booked drive of the
    same car is a 409 (the car's row is locked while checking, so two bookings cannot both win)."""
    require(actor, "change", deal)
    errors = inputs.Errors()
    if vehicle is None:
        errors.add("vehicle", _("Choose the demo car."))
    inputs.same_store(errors, vehicle, deal.store_id, "vehicle")
    starts_at = inputs.aware(errors, data.get("starts_at"), "starts_at")
    ends_at = inputs.aware(errors, data.get("ends_at"), "ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        errors.add("ends_at", _("The end must be after the start."))
    if starts_at and ends_at and ends_at - starts_at > dt.timedelta(hours=8):
        errors.add("ends_at", _("A test drive lasts at most 8 hours."))
    route = inputs.text(errors, data, "route", 200)
    licence = ""
    raw_licence = inputs.text(errors, data, "licence_number", 30, required=True)
    if raw_licence:
        try:
            licence = identifiers.normalize_id_number(raw_licence, field="licence_number")
        except ValidationError:
            errors.add("licence_number", _("Enter the 18-character licence number (as on the ID card)."))
    feedback = inputs.text(errors, data, "feedback", 2000)
    competitor = inputs.text(errors, data, "competitor", 100)
    sensitivity = inputs.choice(errors, data, "price_sensitivity", Sensitivity) if data.get("price_sensitivity") else ""
    if isinstance(licence_photo, DealDocument):
        if licence_photo.deal_id != deal.pk or licence_photo.kind != DocumentKind.LICENCE_PHOTO:
            errors.add("licence_photo", _("Choose a licence photo uploaded to this deal."))
    elif licence_photo is not None:
        try:
            uploads.check(licence_photo, kind="photo", field="licence_photo")
        except ValidationError as exc:
            for message in exc.fields.get("licence_photo", []):
                errors.add("licence_photo", message)
    errors.raise_if_any()
    assert starts_at is not None and ends_at is not None and vehicle is not None
    car = StockVehicle.objects.select_for_update().get(pk=vehicle.pk)  # scoped: checked above (same store)
    if car.status == StockStatus.SOLD:
        raise Conflict(_("This car is sold."), fields={"vehicle": [_("This car is sold.")]})
    overlap = TestDrive.objects.filter(
        vehicle=car, status=TestDriveStatus.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).first()  # scoped: the car's own bookings
    if overlap is not None:
        message = _("This car is booked for another test drive from %(start)s to %(end)s.") % {
            "start": timezone.localtime(overlap.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": timezone.localtime(overlap.ends_at).strftime("%H:%M"),
        }
        raise Conflict(message, fields={"starts_at": [message]})
    photo = licence_photo if isinstance(licence_photo, DealDocument) else None
    if licence_photo is not None and photo is None:
        photo = document_upload(actor=actor, deal=deal, kind=DocumentKind.LICENCE_PHOTO, file=licence_photo,
                                name=getattr(licence_photo, "name", ""), field="licence_photo")  # fmt: skip
    drive = TestDrive.objects.create(
        store_id=deal.store_id, deal=deal, vehicle=car, route=route, starts_at=starts_at, ends_at=ends_at,
        licence_number=licence, licence_photo=photo, feedback=feedback, competitor=competitor,
        price_sensitivity=sensitivity,
    )  # fmt: skip
    if deal.customer_id:
        timeline_record(customer=deal.customer_id, kind="deal.test_drive", summary=str(car), obj=drive,
                        store_id=deal.store_id)  # fmt: skip
    emit(events.TEST_DRIVE_BOOKED, store_id=deal.store_id,
         payload=events.TestDriveBooked(test_drive_id=drive.pk, deal_id=deal.pk, vehicle_id=car.pk))  # fmt: skip
    return drive


@transaction.atomic
def test_drive_record(*, actor: Actor, test_drive: TestDrive, data: Mapping[str, Any]) -> TestDrive:
    """After the drive: feedback, the competitor considered, price sensitivity; ``status`` done
    or cancelled (a cancelled drive frees the car's time)."""
    require(actor, "change", test_drive.deal)
    errors = inputs.Errors()
    for name, limit in (("feedback", 2000), ("competitor", 100)):
        if name in data:
            setattr(test_drive, name, inputs.text(errors, data, name, limit))
    if "price_sensitivity" in data:
        test_drive.price_sensitivity = inputs.choice(errors, data, "price_sensitivity", Sensitivity)
    if data.get("status"):
        status = inputs.choice(errors, data, "status", TestDriveStatus)
        if status:
            test_drive.status = status
    errors.raise_if_any()
    test_drive.save()
    return test_drive


# --- quotes --------------------------------------------------------------------------------------


def discount_authority(store_id: int, role: str | None, *, base: Decimal | None = None) -> Decimal | None:
    """The largest discount ``role`` may give without approval in the store; None: no limit
    (the store manager). The setting is an amount in yuan (``"3000.00"``) or a share of the car
    and its options (``"3%"``, of ``base``). A role the setting does not list may give none."""
    if role == Role.MANAGER:
        return None
    value = (settings_for(store_id).discount_authority or {}).get(str(role))
    return authority_amount(value, base=base)


def authority_amount(value: Any, *, base: Decimal | None) -> Decimal:
    """One authority setting as yuan: ``"3%"`` of ``base`` (to the fen, nothing when no base),
    else the amount; anything unreadable is none."""
    if value is None:
        return Decimal("0")
    text = str(value).strip()
    try:
        if text.endswith("%"):
            share = Decimal(text[:-1].strip())
            return pricing.to_fen((base or Decimal("0")) * share / 100) if share.is_finite() else Decimal("0")
        amount = Decimal(text)
        return amount if amount.is_finite() else Decimal("0")
    except (InvalidOperation, ValueError):
        return Decimal("0")


def _options(errors: inputs.Errors, value: Any) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > 50:
        errors.add("options", _("Give the options as a list of at most 50 names and prices."))
        return []
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            errors.add("options", _("Give the options as a list of at most 50 names and prices."))
            return []
        name = inputs.text(errors, item, "name", 100, required=True)
        price = inputs.money(errors, item.get("price"), f"options.{index}.price", required=True)
        if name and price is not None:
            out.append({"name": name, "price": str(price)})
    return out


def quote_clean(
    *, data: Mapping[str, Any], trade_in: TradeIn | None = None
) -> tuple[dict[str, Any], pricing.QuoteFigures]:
    """Validate a quote's inputs and compute its figures (``sales.pricing``); every field error at
    once. The trade-in's offered price is the trade-in value unless one is given."""
    errors = inputs.Errors()
    vehicle_price = inputs.money(errors, data.get("vehicle_price"), "vehicle_price", required=True)
    options = _options(errors, data.get("options"))
    amounts = {}
    for name in ("discount", "trade_in_value", "insurance", "down_payment"):
        amounts[name] = inputs.money(errors, data.get(name), name) or pricing.ZERO
    if trade_in is not None and data.get("trade_in_value") in (None, ""):
        amounts["trade_in_value"] = trade_in.offered_price
    term = inputs.integer(errors, data.get("term_months"), "term_months", 0, 120) or 0
    rate = pricing.ZERO
    if data.get("annual_rate") not in (None, ""):
        try:
            rate = Decimal(str(data.get("annual_rate")).strip())
            if (
                not rate.is_finite()
                or not Decimal("0") <= rate <= Decimal("36")
                or rate != rate.quantize(Decimal("0.001"))
            ):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.add("annual_rate", _("Enter the annual rate in per cent, 0 to 36, e.g. 3.5."))
            rate = pricing.ZERO
    insurer = inputs.text(errors, data, "insurer", 60)
    errors.raise_if_any()
    assert vehicle_price is not None
    if amounts["discount"] > vehicle_price + pricing.options_total(options):
        errors.add("discount", _("The discount cannot exceed the price of the car and its options."))
    figures = pricing.quote_figures(
        vehicle_price=vehicle_price, options=options, discount=amounts["discount"],
        trade_in_value=amounts["trade_in_value"], insurance=amounts["insurance"],
        down_payment=amounts["down_payment"], term_months=term, annual_rate=rate,
    )  # fmt: skip
    if amounts["down_payment"] + amounts["trade_in_value"] > figures.total_price:
        errors.add("down_payment", _("The down payment and trade-in together exceed the total price."))
    if term and figures.financed_amount == 0:
        errors.add("term_months", _("Nothing is left to finance: set the term to 0 for a full payment."))
    if not term and (rate or amounts["down_payment"]):
        errors.add("term_months", _("Give the term in months for a finance plan."))
    errors.raise_if_any()
    cleaned = {"vehicle_price": vehicle_price, "options": options, **amounts, "term_months": term,
               "annual_rate": rate, "insurer": insurer}  # fmt: skip
    return cleaned, figures


@transaction.atomic
def quote_create(*, actor: Actor, deal: Deal, data: Mapping[str, Any], trade_in: TradeIn | None = None) -> Quote:
    """Make a quote for a deal with every figure to the fen. A discount above the actor's authority
    (``SalesSettings.discount_authority`` for their role) waits for a manager's approval
    (``pending_approval``); otherwise the quote is ready to present."""
    require(actor, "view", deal)
    if scope_for(actor, Quote, "add") is None or not _quote_in_scope(actor, deal):
        audit.denied(actor=actor, obj=deal, action="quote")
        raise PermissionDenied()
    if trade_in is not None and trade_in.deal_id != deal.pk:
        raise ValidationError(NOT_VALID, fields={"trade_in": [_("Choose a trade-in of this deal.")]})
    if deal.status != DealStatus.OPEN:
        raise Conflict(_("This deal is closed."), fields={"deal": [_("This deal is closed.")]})
    cleaned, figures = quote_clean(data=data, trade_in=trade_in)
    base = cleaned["vehicle_price"] + figures.options_total
    authority = discount_authority(deal.store_id, actor.role, base=base)
    needs_approval = authority is not None and cleaned["discount"] > authority
    quote = Quote.objects.create(
        store_id=deal.store_id, deal=deal, **cleaned, options_total=figures.options_total,
        total_price=figures.total_price, financed_amount=figures.financed_amount,
        monthly_payment=figures.monthly_payment, total_interest=figures.total_interest,
        status=QuoteStatus.PENDING_APPROVAL if needs_approval else QuoteStatus.DRAFT, created_by_id=actor.user_id,
    )  # fmt: skip
    if deal.customer_id:
        timeline_record(customer=deal.customer_id, kind="deal.quote", summary=f"¥{quote.total_price}", obj=quote,
                        store_id=deal.store_id)  # fmt: skip
    if needs_approval:
        _tell_approvers(quote, deal)
    emit(events.QUOTE_CREATED, store_id=deal.store_id,
         payload=events.QuoteCreated(quote_id=quote.pk, deal_id=deal.pk, needs_approval=needs_approval))  # fmt: skip
    return quote


def _quote_in_scope(actor: Actor, deal: Deal) -> bool:
    scope = scope_for(actor, Quote, "add")
    return scope is not None and (scope is not Scope.OWN or deal.consultant_id == actor.user_id)


def _quote_link(deal_id: int) -> str:
    try:
        return reverse("sales:deal_detail", args=[deal_id]) + "#quotes"
    except NoReverseMatch:  # the pages are optional to the writes
        return ""


def _tell_approvers(quote: Quote, deal: Deal) -> None:
    """The store's sales managers (else its store managers) are told a quote waits for them."""
    from autocrm.accounts.models import Membership

    for role in (Role.SALES_MANAGER, Role.MANAGER):
        ids = sorted(set(Membership.objects.filter(store_id=deal.store_id, role=role, is_active=True)
                         .values_list("user_id", flat=True)))  # fmt: skip
        if ids:
            break
    title = _("Quote to approve: %(name)s, discount ¥%(discount)s") % {"name": deal.name or deal.pk,
                                                                       "discount": quote.discount}  # fmt: skip
    for user_id in ids:
        notify_staff(user=user_id, kind=NOTIFY_QUOTE, title=str(title), link=_quote_link(deal.pk),
                     store=deal.store_id, dedup_key=f"quote-approval:{quote.pk}")  # fmt: skip


@transaction.atomic
def quote_approve(*, actor: Actor, quote: Quote, approve: bool = True) -> Quote:
    """A sales manager or the store manager approves (or rejects) a quote waiting for approval;
    the approver's own authority must cover the discount (a sales manager's limit, the store
    manager any). The consultant who made the quote is told the decision."""
    quote = Quote.objects.select_for_update(of=("self",)).select_related("deal").get(pk=quote.pk)
    require(actor, "approve", quote)
    if quote.status != QuoteStatus.PENDING_APPROVAL:
        message = _("This quote is not waiting for approval.")
        raise Conflict(message, fields={"status": [message]})
    authority = discount_authority(quote.store_id, actor.role, base=quote.vehicle_price + quote.options_total)
    if approve and authority is not None and quote.discount > authority:
        audit.denied(actor=actor, obj=quote, action="approve")
        raise PermissionDenied(_("The discount is above your authority: the store manager must approve it."))
    quote.status = QuoteStatus.APPROVED if approve else QuoteStatus.REJECTED
    quote.approved_by_id, quote.approved_at = actor.user_id, timezone.now()
    quote.save()
    audit.record("quote.approve" if approve else "quote.reject", obj=quote, actor=actor,
                 extra={"discount": str(quote.discount)})  # fmt: skip
    told = quote.created_by_id or quote.deal.consultant_id
    if told and told != actor.user_id:
        title = (_("Quote approved: %(name)s") if approve else _("Quote rejected: %(name)s")) % {
            "name": quote.deal.name or quote.deal_id
        }
        notify_staff(user=told, kind=NOTIFY_QUOTE, title=str(title), link=_quote_link(quote.deal_id),
                     store=quote.store_id, dedup_key=f"quote-decided:{quote.pk}")  # fmt: skip
    if approve:
        emit(events.QUOTE_APPROVED, store_id=quote.store_id, payload=events.QuoteApproved(
            quote_id=quote.pk, deal_id=quote.deal_id, approved_by_id=actor.user_id))  # fmt: skip
    return quote


# --- needs analysis and trade-ins ----------------------------------------------------------------


def _names(errors: inputs.Errors, data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = list(value.replace("，", ",").split(","))
    if not isinstance(value, list) or len(value) > 30:
        errors.add(name, _("Give at most 30 names."))
        return []
    out = []
    for item in value:
        text = str(item).strip()
        if "\x00" in text or len(text) > 60:
            errors.add(name, _("Each name has at most 60 characters."))
            return []
        if text:
            out.append(text)
    return out


@transaction.atomic
def needs_save(*, actor: Actor, deal: Deal, data: Mapping[str, Any]) -> NeedsAnalysis:
    """Record (or replace) the deal's needs analysis; the purchase type is copied to the deal."""
    require(actor, "change", deal)
    errors = inputs.Errors()
    budget_min = inputs.money(errors, data.get("budget_min"), "budget_min")
    budget_max = inputs.money(errors, data.get("budget_max"), "budget_max")
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        errors.add("budget_max", _("The upper end of the budget is below its lower end."))
    values = {
        "budget_min": budget_min,
        "budget_max": budget_max,
        "purpose": inputs.choice(errors, data, "purpose", Purpose) if data.get("purpose") else "",
        "body_preference": inputs.text(errors, data, "body_preference", 20),
        "fuel_preference": inputs.text(errors, data, "fuel_preference", 10),
        "options_wanted": _names(errors, data, "options_wanted"),
        "brands_considered": _names(errors, data, "brands_considered"),
        "purchase_type": inputs.choice(errors, data, "purchase_type", PurchaseType)
        if data.get("purchase_type")
        else "",
        "price_sensitivity": (
            inputs.choice(errors, data, "price_sensitivity", Sensitivity) if data.get("price_sensitivity") else ""
        ),
    }
    errors.raise_if_any()
    needs, _created = NeedsAnalysis.objects.update_or_create(
        deal=deal, defaults={**values, "store_id": deal.store_id}
    )  # scoped: the deal's own row
    purchase_type = str(values["purchase_type"])
    if purchase_type and deal.purchase_type != purchase_type:
        deal.purchase_type = purchase_type
        deal.save(update_fields=["purchase_type", "updated_at"])
    return needs


@transaction.atomic
def trade_in_create(*, actor: Actor, deal: Deal, data: Mapping[str, Any], photos: Iterable[Any] = ()) -> TradeIn:
    """Appraise the customer's current car (二手车评估): plate and VIN checked when given, mileage,
    condition, photos, the price offered (the next quote takes it as the trade-in value). Giving
    a trade-in makes the deal a replacement purchase (换购) unless it says otherwise."""
    require(actor, "change", deal)
    errors = inputs.Errors()
    photos = list(photos)
    if len(photos) > 12:
        errors.add("photos", _("At most 12 photos."))
    for photo in photos:
        if isinstance(photo, DealDocument):
            if photo.deal_id != deal.pk or photo.kind != DocumentKind.TRADE_IN_PHOTO:
                errors.add("photos", _("Choose trade-in photos uploaded to this deal."))
            continue
        try:
            uploads.check(photo, kind="photo", field="photos")
        except ValidationError as exc:
            for message in exc.fields.get("photos", []):
                errors.add("photos", message)
    plate = vin = ""
    raw_plate = inputs.text(errors, data, "plate", 12)
    raw_vin = inputs.text(errors, data, "vin", 17)
    if raw_plate:
        try:
            plate = identifiers.normalize_plate(raw_plate)
        except ValidationError as exc:
            for message in exc.fields.get("plate", [exc.message]):
                errors.add("plate", message)
    if raw_vin:
        try:
            vin = identifiers.vin_validate(raw_vin)[0]
        except ValidationError as exc:
            for message in exc.fields.get("vin", [exc.message]):
                errors.add("vin", message)
    model_name = inputs.text(errors, data, "model_name", 100, required=True)
    mileage = inputs.integer(errors, data.get("mileage_km"), "mileage_km", 0, 2_000_000)
    condition = inputs.text(errors, data, "condition", 2000)
    offered = inputs.money(errors, data.get("offered_price"), "offered_price", required=True)
    errors.raise_if_any()
    assert offered is not None
    trade_in = TradeIn.objects.create(
        store_id=deal.store_id, deal=deal, plate=plate, vin=vin, model_name=model_name, mileage_km=mileage,
        condition=condition, offered_price=offered,
    )  # fmt: skip
    for photo in photos:
        if isinstance(photo, DealDocument):
            trade_in.photos.add(photo)
            continue
        trade_in.photos.add(
            document_upload(actor=actor, deal=deal, kind=DocumentKind.TRADE_IN_PHOTO, file=photo, field="photos")
        )
    if not deal.purchase_type:
        deal.purchase_type = PurchaseType.REPLACEMENT
        deal.save(update_fields=["purchase_type", "updated_at"])
    return trade_in


# --- stock ---------------------------------------------------------------------------------------


@transaction.atomic
def stock_create(*, actor: Actor, data: Mapping[str, Any]) -> StockVehicle:
    """Receive a new car into the store's stock: VIN (check digit), model, colour, arrival date,
    list price and cost. A VIN already in the store's stock is a 409."""
    if scope_for(actor, StockVehicle, "add") is None:
        raise PermissionDenied()
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    vin = ""
    raw_vin = inputs.text(errors, data, "vin", 17, required=True)
    if raw_vin:
        try:
            vin = identifiers.vin_validate(raw_vin)[0]
        except ValidationError as exc:
            for message in exc.fields.get("vin", [exc.message]):
                errors.add("vin", message)
    model_name = inputs.text(errors, data, "model_name", 100, required=True)
    arrival = data.get("arrival_date")
    if isinstance(arrival, str):
        try:
            arrival = dt.date.fromisoformat(arrival.strip())
        except ValueError:
            arrival = None
    if not isinstance(arrival, dt.date) or isinstance(arrival, dt.datetime):
        errors.add("arrival_date", _("Enter a date as YYYY-MM-DD."))
    elif arrival > timezone.localdate() or arrival.year < 2000:
        errors.add("arrival_date", _("The arrival date cannot be in the future."))
    status = inputs.choice(errors, data, "status", StockStatus) if data.get("status") else StockStatus.IN_STOCK
    values = {
        "vin": vin, "model_name": model_name, "arrival_date": arrival, "status": status,
        "colour": inputs.text(errors, data, "colour", 20), "vehicle_class": inputs.text(errors, data, "vehicle_class", 20),
        "list_price": inputs.money(errors, data.get("list_price"), "list_price"),
        "cost": inputs.money(errors, data.get("cost"), "cost"),
    }  # fmt: skip
    if data.get("series") not in (None, ""):
        series_id = inputs.integer(errors, data.get("series"), "series", 1, 2**62)
        series = Series.objects.filter(pk=series_id).first() if series_id else None
        if series is None:
            errors.add("series", _("Choose a series from the catalogue."))
        else:
            values["series"] = series
            values["vehicle_class"] = values["vehicle_class"] or series.vehicle_class
    errors.raise_if_any()
    if StockVehicle.objects.filter(store_id=store_id, vin=vin).exists():  # scoped: the actor's store
        message = _("This VIN is already in the store's stock.")
        raise Conflict(message, fields={"vin": [message]})
    try:
        with transaction.atomic():
            return StockVehicle.objects.create(store_id=store_id, **values)
    except IntegrityError:
        message = _("This VIN is already in the store's stock.")
        raise Conflict(message, fields={"vin": [message]}) from None


def _authority_value(errors: inputs.Errors, value: Any) -> str:
    """An authority setting: yuan to the fen, or a share such as ``3%`` (0 to 100)."""
    text = "" if value is None else str(value).strip()
    if text.endswith("%"):
        try:
            share = Decimal(text[:-1].strip())
            if not share.is_finite() or not 0 <= share <= 100 or share != share.quantize(Decimal("0.01")):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.add("discount_authority", _("Give a share between 0% and 100%, e.g. 3%."))
            return ""
        return f"{share.normalize():f}%"
    return str(inputs.money(errors, value, "discount_authority", required=True))


@transaction.atomic
def settings_update(*, actor: Actor, data: Mapping[str, Any]) -> SalesSettings:
    """The store manager changes the store's sales rules (skippable stages, discount authority,
    ageing days)."""
    store_id = actor.require_store_id()
    current = settings_for(store_id)
    require(actor, "change", current) if current.pk else None
    if scope_for(actor, SalesSettings, "change") is None:
        raise PermissionDenied()
    errors = inputs.Errors()
    if "skippable_stages" in data:
        stages = data["skippable_stages"]
        if not isinstance(stages, list) or any(s not in STAGE_ORDER[1:-1] for s in stages):
            errors.add("skippable_stages", _("Choose among the stages between the lead and delivery."))
        else:
            current.skippable_stages = list(dict.fromkeys(stages))
    if "discount_authority" in data:
        table = data["discount_authority"]
        if not isinstance(table, Mapping) or any(r not in Role.values for r in table):
            errors.add("discount_authority", _("Give an amount per role."))
        else:
            current.discount_authority = {role: _authority_value(errors, v) for role, v in table.items()}
    if "ageing_days" in data:
        days = data["ageing_days"]
        if (
            not isinstance(days, list)
            or not days
            or len(days) > 5
            or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 3650 for d in days)
        ):
            errors.add("ageing_days", _("Give up to five numbers of days, 1 to 3650."))
        else:
            current.ageing_days = sorted(set(days))
    errors.raise_if_any()
    current.save()
    return current


# --- sales scripts (话术库) -------------------------------------------------------------------------


def script_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """A script's fields checked, every error at once: objection and answer required (4,000
    characters at most), model and competitor names, up to 10 tags."""
    errors = inputs.Errors()
    values: dict[str, Any] = {
        "objection": inputs.text(errors, data, "objection", 4000, required=True),
        "answer": inputs.text(errors, data, "answer", 4000, required=True),
        "model_name": inputs.text(errors, data, "model_name", 100),
        "competitor": inputs.text(errors, data, "competitor", 100),
        "tags": _names(errors, data, "tags")[:10],
    }
    if data.get("series") not in (None, ""):
        series_id = inputs.integer(errors, data.get("series"), "series", 1, 2**62)
        series = Series.objects.filter(pk=series_id).first() if series_id else None
        if series is None and "series" not in errors.fields:
            errors.add("series", _("Choose a series from the catalogue."))
        values["series"] = series
    errors.raise_if_any()
    return values


@transaction.atomic
def script_save(*, actor: Actor, data: Mapping[str, Any], script: SalesScript | None = None) -> SalesScript:
    """Add a script to the store's library, or change one (sales managers and the store manager)."""
    if script is None:
        if scope_for(actor, SalesScript, "add") is None:
            raise PermissionDenied()
        store_id = actor.require_store_id()
        return SalesScript.objects.create(store_id=store_id, created_by_id=actor.user_id, **script_clean(data))
    require(actor, "change", script)
    for name, value in script_clean(data).items():
        setattr(script, name, value)
    script.save()
    return script


@transaction.atomic
def script_delete(*, actor: Actor, script: SalesScript) -> None:
    require(actor, "delete", script)
    audit.record("delete", obj=script, actor=actor, extra={"objection": script.objection[:60]})
    script.delete()
