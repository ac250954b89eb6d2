"""/api/v1/deals, /test-drives, /quotes, /stock: thin handlers over sales.services and
sales.selectors."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from autocrm.core import uploads
from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import Access, field_access, present, require_model
from autocrm.customers.selectors import customer_get

from . import selectors, services
from .choices import STAGE_ORDER
from .models import Deal, DealDocument, NeedsAnalysis, Quote, SalesScript, StockVehicle, TestDrive, TradeIn
from .schemas import (
    AdvanceIn,
    ApproveIn,
    DealCancelIn,
    DealIn,
    DealOut,
    DealPage,
    DealPatch,
    DealPointsIn,
    DocumentOut,
    FinanceIn,
    NeedsIn,
    NeedsOut,
    ProspectOut,
    QuoteIn,
    QuoteOut,
    QuotePage,
    ScriptIn,
    ScriptOut,
    ScriptPage,
    StockIn,
    StockOut,
    StockPage,
    TestDriveIn,
    TestDriveOut,
    TestDrivePage,
    TestDrivePatch,
    TradeInIn,
    TradeInOut,
)

router = Router(tags=["sales"])
PREFIX = ""


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def next_stage(deal: Deal) -> str | None:
    index = STAGE_ORDER.index(deal.stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) and deal.status == "open" else None


def cost_visible(actor: Actor) -> bool:
    """The purchase cost and so the gross profit (单车毛利): only roles with cost access."""
    return field_access(actor, StockVehicle, "cost") is Access.FULL


def deal_out(actor: Actor, deal: Deal, *, lines: bool = False) -> dict[str, Any]:
    following = next_stage(deal)
    missing = services.evidence_missing(deal, following) if following else {}
    extra: dict[str, Any] = {}
    if lines:
        found, _price, due = services.deal_lines(deal)
        extra = {"lines": [{"code": x.code, "label": x.label, "amount": _money(x.amount)} for x in found],
                 "total_due": _money(due)}  # fmt: skip
    return extra | {
        "id": deal.pk, "store": deal.store_id, "lead": deal.lead_id, "customer": deal.customer_id,
        "consultant": deal.consultant_id, "name": deal.name, "stage": deal.stage, "status": deal.status,
        "stage_entered_at": deal.stage_entered_at, "model_interest": deal.model_interest, "series": deal.series_id,
        "stock_vehicle": deal.stock_vehicle_id, "vin": deal.stock_vehicle.vin if deal.stock_vehicle else None,
        "vehicle": deal.vehicle_id, "agreed_price": _money(deal.agreed_price),
        "gross_profit": _money(deal.gross_profit) if cost_visible(actor) else None,
        "purchase_type": deal.purchase_type, "finance_approved_at": deal.finance_approved_at,
        "insurer": deal.insurer, "delivered_at": deal.delivered_at, "planned_delivery": deal.planned_delivery, "external_id": deal.external_id,
        "next_stage": following, "next_missing": {k: [str(m) for m in v] for k, v in missing.items()},
        "documents": [document_out(d) for d in deal.documents.order_by("id")],
    }  # fmt: skip


def document_out(doc: DealDocument) -> dict[str, Any]:
    return {"id": doc.pk, "kind": doc.kind, "name": doc.name, "content_type": doc.content_type, "size": doc.size,
            "sha256": doc.sha256, "created_at": doc.created_at}  # fmt: skip


# --- deals ---------------------------------------------------------------------------------------


@router.get("/deals", response=DealPage)
def deal_list(
    request: ActorRequest,
    stage: str | None = None,
    status: str | None = None,
    consultant: int | None = None,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Deals in scope, most recently changed first (a consultant's own; the store's for managers)."""
    require_model(request.actor, "view", Deal)
    filters = {"stage": stage, "status": status, "consultant": consultant, "q": q}
    page = selectors.deal_page(actor=request.actor, filters=filters, limit=limit, cursor=cursor)
    return {"items": [deal_out(request.actor, d) for d in page.items], "next_cursor": page.next_cursor}


@router.post("/deals", response={201: DealOut})
def deal_create(request: ActorRequest, payload: DealIn) -> Status[dict[str, Any]]:
    """Open a deal from a lead (``lead``) and/or a customer (``customer``) of the store."""
    require_model(request.actor, "add", Deal)
    lead = selectors.lead_for_deal(actor=request.actor, pk=payload.lead) if payload.lead else None
    customer = customer_get(actor=request.actor, pk=payload.customer) if payload.customer else None
    stock = selectors.stock_get(actor=request.actor, pk=payload.stock_vehicle) if payload.stock_vehicle else None
    data = payload.dict(exclude={"lead", "customer", "stock_vehicle"}, exclude_none=True)
    deal = services.deal_create(actor=request.actor, data=data, lead=lead, customer=customer, stock_vehicle=stock)
    return Status(201, deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal.pk)))


@router.get("/deals/{int:deal_id}", response=DealOut)
def deal_get(request: ActorRequest, deal_id: int) -> dict[str, Any]:
    return deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal_id), lines=True)


@router.patch("/deals/{int:deal_id}", response=DealOut)
def deal_update(request: ActorRequest, deal_id: int, payload: DealPatch) -> dict[str, Any]:
    """Choose the car from stock (``stock_vehicle``), set the agreed price, the model or the
    purchase type."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    stock = selectors.stock_get(actor=request.actor, pk=payload.stock_vehicle) if payload.stock_vehicle else None
    data = payload.dict(exclude={"stock_vehicle"}, exclude_unset=True)
    services.deal_update(actor=request.actor, deal=deal, data=data, stock_vehicle=stock)
    return deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal_id), lines=True)


@router.post("/deals/{int:deal_id}/advance", response=DealOut)
def deal_advance(request: ActorRequest, deal_id: int, payload: AdvanceIn) -> dict[str, Any]:
    """Move the deal forward (to ``to_stage``, default the next). 409 naming what is missing:
    ``fields`` holds ``documents``, ``quote``, ``finance``, ``stock_vehicle``, ``customer`` or
    ``to_stage`` (a stage the store does not allow skipping)."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    services.deal_advance(actor=request.actor, deal=deal, to_stage=payload.to_stage)
    return deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal_id), lines=True)


@router.post("/deals/{int:deal_id}/points", response=DealOut)
def deal_points(request: ActorRequest, deal_id: int, payload: DealPointsIn) -> dict[str, Any]:
    """Apply the customer's points toward the car (抵扣购车款) before the order is placed: within
    the programme's deal cap (400 naming ``points``) and the balance (409 naming ``points``);
    taken when the deal enters the order stage, given back if it is cancelled."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    services.deal_points_apply(actor=request.actor, deal=deal, points=payload.points)
    return deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal_id), lines=True)


@router.post("/deals/{int:deal_id}/cancel", response=DealOut)
def deal_cancel(request: ActorRequest, deal_id: int, payload: DealCancelIn) -> dict[str, Any]:
    """Cancel (lose) an open deal with a ``reason``; points it used come back once."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    services.deal_cancel(actor=request.actor, deal=deal, reason=payload.reason)
    return deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal_id), lines=True)


@router.post("/deals/{int:deal_id}/finance-approval", response=DealOut)
def deal_finance_approve(request: ActorRequest, deal_id: int, payload: FinanceIn) -> dict[str, Any]:
    """The finance and insurance specialist approves the finance of a deal at the finance stage."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    services.deal_finance_approve(actor=request.actor, deal=deal, insurer=payload.insurer)
    return deal_out(request.actor, selectors.deal_get(actor=request.actor, pk=deal_id), lines=True)


@router.post("/deals/{int:deal_id}/documents", response={201: DocumentOut})
def document_upload(
    request: ActorRequest, deal_id: int, file: File[UploadedFile], kind: Form[str] = "other"
) -> Status[dict[str, Any]]:
    """Attach a file (multipart ``file`` and ``kind``). Checked by its content, not its name:
    a PDF or a JPEG/PNG/HEIC/WebP image (photos only for licence and trade-in photos), 20 MB
    for documents and 12 MB for photos at most; else a 400 naming ``file``."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    doc = services.document_upload(actor=request.actor, deal=deal, kind=kind, file=file, name=file.name)
    return Status(201, document_out(doc))


@router.get("/deals/{int:deal_id}/documents/{int:document_id}")
def document_download(request: ActorRequest, deal_id: int, document_id: int) -> FileResponse:
    """The file itself, for whoever may see the deal (404 otherwise)."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    doc = selectors.document_get(actor=request.actor, deal=deal, pk=document_id)
    return uploads.response(doc.path, content_type=doc.content_type, name=doc.name)


def needs_out(needs: NeedsAnalysis) -> dict[str, Any]:
    return {
        "deal": needs.deal_id, "budget_min": _money(needs.budget_min), "budget_max": _money(needs.budget_max),
        "purpose": needs.purpose, "body_preference": needs.body_preference, "fuel_preference": needs.fuel_preference,
        "options_wanted": needs.options_wanted, "brands_considered": needs.brands_considered,
        "purchase_type": needs.purchase_type, "price_sensitivity": needs.price_sensitivity,
    }  # fmt: skip


@router.post("/deals/{int:deal_id}/needs-analysis", response=NeedsOut)
def needs_save(request: ActorRequest, deal_id: int, payload: NeedsIn) -> dict[str, Any]:
    """Record (or replace) the deal's needs analysis (需求分析)."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    return needs_out(services.needs_save(actor=request.actor, deal=deal, data=payload.dict(exclude_none=True)))


def trade_in_out(trade: TradeIn) -> dict[str, Any]:
    return {
        "id": trade.pk, "deal": trade.deal_id, "plate": trade.plate, "vin": trade.vin, "model_name": trade.model_name,
        "mileage_km": trade.mileage_km, "condition": trade.condition, "offered_price": _money(trade.offered_price),
        "photos": sorted(trade.photos.values_list("id", flat=True)),
    }  # fmt: skip


@router.post("/deals/{int:deal_id}/trade-ins", response={201: TradeInOut})
def trade_in_create(request: ActorRequest, deal_id: int, payload: TradeInIn) -> Status[dict[str, Any]]:
    """Appraise the customer's current car (二手车评估); ``photos``: trade-in photos uploaded to the
    deal. The next quote given ``trade_in`` takes its offered price."""
    deal = selectors.deal_get(actor=request.actor, pk=deal_id)
    photos = list(DealDocument.objects.filter(deal=deal, pk__in=payload.photos[:13]))  # scoped: the deal's own
    if len(photos) != len(set(payload.photos)):
        raise ValidationError(fields={"photos": [_("Choose trade-in photos uploaded to this deal.")]})
    data = payload.dict(exclude={"photos"}, exclude_none=True)
    trade = services.trade_in_create(actor=request.actor, deal=deal, data=data, photos=photos)
    return Status(201, trade_in_out(trade))


# --- test drives ---------------------------------------------------------------------------------


def test_drive_out(actor: Actor, drive: TestDrive) -> dict[str, Any]:
    return {
        "id": drive.pk, "deal": drive.deal_id, "vehicle": drive.vehicle_id, "route": drive.route,
        "starts_at": drive.starts_at, "ends_at": drive.ends_at, "status": drive.status,
        "licence_number": present(actor, drive, "licence_number") or "", "licence_photo": drive.licence_photo_id,
        "feedback": drive.feedback, "competitor": drive.competitor, "price_sensitivity": drive.price_sensitivity,
    }  # fmt: skip


@router.get("/test-drives", response=TestDrivePage)
def test_drive_list(
    request: ActorRequest, deal: int | None = None, limit: int | None = None, cursor: str | None = None
) -> dict[str, Any]:
    require_model(request.actor, "view", TestDrive)
    page = selectors.test_drive_page(actor=request.actor, deal_id=deal, limit=limit, cursor=cursor)
    return {"items": [test_drive_out(request.actor, d) for d in page.items], "next_cursor": page.next_cursor}


@router.post("/test-drives", response={201: TestDriveOut})
def test_drive_book(request: ActorRequest, payload: TestDriveIn) -> Status[dict[str, Any]]:
    """Book a test drive of a demo car; 409 when the car is booked for an overlapping time."""
    require_model(request.actor, "add", TestDrive)
    deal = selectors.deal_get(actor=request.actor, pk=payload.deal)
    car = selectors.stock_get(actor=request.actor, pk=payload.vehicle)
    photo = None
    if payload.licence_photo:
        photo = DealDocument.objects.filter(deal=deal, pk=payload.licence_photo).first()  # scoped: the deal's own
        if photo is None:
            raise ValidationError(fields={"licence_photo": [_("Choose a licence photo uploaded to this deal.")]})
    data = payload.dict(exclude={"deal", "vehicle", "licence_photo"}, exclude_none=True)
    drive = services.test_drive_book(actor=request.actor, deal=deal, vehicle=car, data=data, licence_photo=photo)
    return Status(201, test_drive_out(request.actor, drive))


@router.get("/test-drives/{int:test_drive_id}", response=TestDriveOut)
def test_drive_get(request: ActorRequest, test_drive_id: int) -> dict[str, Any]:
    return test_drive_out(request.actor, selectors.test_drive_get(actor=request.actor, pk=test_drive_id))


@router.patch("/test-drives/{int:test_drive_id}", response=TestDriveOut)
def test_drive_record(request: ActorRequest, test_drive_id: int, payload: TestDrivePatch) -> dict[str, Any]:
    """After the drive: feedback, competitor, price sensitivity, ``status`` done or cancelled."""
    drive = selectors.test_drive_get(actor=request.actor, pk=test_drive_id)
    drive = services.test_drive_record(actor=request.actor, test_drive=drive, data=payload.dict(exclude_unset=True))
    return test_drive_out(request.actor, drive)


# --- quotes --------------------------------------------------------------------------------------


def quote_out(quote: Quote) -> dict[str, Any]:
    money = ("vehicle_price", "options_total", "discount", "trade_in_value", "insurance", "total_price",
             "down_payment", "financed_amount", "monthly_payment", "total_interest")  # fmt: skip
    return {
        **{name: _money(getattr(quote, name)) for name in money},
        "id": quote.pk, "deal": quote.deal_id, "status": quote.status, "options": quote.options,
        "insurer": quote.insurer, "term_months": quote.term_months, "annual_rate": f"{quote.annual_rate:.3f}",
        "approved_by": quote.approved_by_id, "approved_at": quote.approved_at, "created_at": quote.created_at,
    }  # fmt: skip


@router.get("/quotes", response=QuotePage)
def quote_list(
    request: ActorRequest,
    deal: int | None = None,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Quotes in scope; ``status=pending_approval`` is a manager's approval queue."""
    require_model(request.actor, "view", Quote)
    page = selectors.quote_page(actor=request.actor, deal_id=deal, status=status, limit=limit, cursor=cursor)
    return {"items": [quote_out(q) for q in page.items], "next_cursor": page.next_cursor}


@router.post("/quotes", response={201: QuoteOut})
def quote_create(request: ActorRequest, payload: QuoteIn) -> Status[dict[str, Any]]:
    """A quote with every figure computed to the fen; a discount above the role's authority comes
    back ``pending_approval``."""
    require_model(request.actor, "add", Quote)
    deal = selectors.deal_get(actor=request.actor, pk=payload.deal)
    trade = None
    if payload.trade_in:
        trade = TradeIn.objects.filter(deal=deal, pk=payload.trade_in).first()  # scoped: the deal's own
        if trade is None:
            raise ValidationError(fields={"trade_in": [_("Choose a trade-in of this deal.")]})
    data = payload.dict(exclude={"deal", "trade_in"}, exclude_none=True)
    quote = services.quote_create(actor=request.actor, deal=deal, data=data, trade_in=trade)
    return Status(201, quote_out(quote))


@router.get("/quotes/{int:quote_id}", response=QuoteOut)
def quote_get(request: ActorRequest, quote_id: int) -> dict[str, Any]:
    return quote_out(selectors.quote_get(actor=request.actor, pk=quote_id))


@router.post("/quotes/{int:quote_id}/approve", response=QuoteOut)
def quote_approve(request: ActorRequest, quote_id: int, payload: ApproveIn) -> dict[str, Any]:
    """A manager approves (``approve: true``) or rejects a quote waiting for approval."""
    quote = selectors.quote_get(actor=request.actor, pk=quote_id)
    return quote_out(services.quote_approve(actor=request.actor, quote=quote, approve=payload.approve))


@router.post("/quotes/{int:quote_id}/reject", response=QuoteOut)
def quote_reject(request: ActorRequest, quote_id: int) -> dict[str, Any]:
    """A manager rejects a quote waiting for approval (409 when it is not waiting); the consultant
    is told, and the deal cannot reach the order with it."""
    quote = selectors.quote_get(actor=request.actor, pk=quote_id)
    return quote_out(services.quote_approve(actor=request.actor, quote=quote, approve=False))


# --- stock ---------------------------------------------------------------------------------------


def stock_out(actor: Actor, car: StockVehicle, thresholds: list[int]) -> dict[str, Any]:
    age = car.age_days(timezone.localdate())
    return {
        "id": car.pk, "vin": car.vin, "model_name": car.model_name, "series": car.series_id,
        "vehicle_class": car.vehicle_class, "colour": car.colour, "arrival_date": car.arrival_date, "age_days": age,
        "ageing_alert": selectors.ageing_level(age, thresholds), "status": car.status,
        "list_price": _money(car.list_price), "cost": _money(present(actor, car, "cost")),
    }  # fmt: skip


@router.get("/stock", response=StockPage)
def stock_list(
    request: ActorRequest,
    status: str | None = None,
    q: str | None = None,
    min_age: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The store's stock, oldest first, each with its age (库龄) and the ageing alert reached."""
    filters = {"status": status, "q": q, "min_age": min_age}
    page = selectors.stock_page(actor=request.actor, filters=filters, limit=limit, cursor=cursor)
    thresholds = selectors.settings_for(request.actor.require_store_id()).ageing_days or []
    return {"items": [stock_out(request.actor, c, thresholds) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/stock", response={201: StockOut})
def stock_create(request: ActorRequest, payload: StockIn) -> Status[dict[str, Any]]:
    car = services.stock_create(actor=request.actor, data=payload.dict(exclude_none=True))
    thresholds = selectors.settings_for(car.store_id).ageing_days or []
    return Status(201, stock_out(request.actor, car, thresholds))


@router.get("/stock/{int:stock_id}", response=StockOut)
def stock_get(request: ActorRequest, stock_id: int) -> dict[str, Any]:
    car = selectors.stock_get(actor=request.actor, pk=stock_id)
    return stock_out(request.actor, car, selectors.settings_for(car.store_id).ageing_days or [])


@router.get("/stock/{int:stock_id}/prospects", response=list[ProspectOut])
def stock_prospects(request: ActorRequest, stock_id: int) -> list[dict[str, Any]]:
    """For an ageing car: open deals interested in its model or class whose customer looks price
    sensitive, with the signals found (the list for a campaign; CSV from the stock page)."""
    car = selectors.stock_get(actor=request.actor, pk=stock_id)
    rows = selectors.price_sensitive_prospects(actor=request.actor, stock=car)
    return [{"deal": r.deal_id, "name": r.name, "consultant": r.consultant, "model_interest": r.model_interest,
             "signals": list(r.signals)} for r in rows]  # fmt: skip


# --- sales scripts (话术库) -------------------------------------------------------------------------


def script_out(script: SalesScript) -> dict[str, Any]:
    return {"id": script.pk, "objection": script.objection, "answer": script.answer, "model_name": script.model_name,
            "series": script.series_id, "competitor": script.competitor, "tags": list(script.tags or []),
            "updated_at": script.updated_at}  # fmt: skip


@router.get("/sales-scripts", response=ScriptPage)
def script_list(
    request: ActorRequest,
    q: str | None = None,
    model: str | None = None,
    competitor: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The store's sales-script library (话术库): ``q`` matches a substring of the objection, the
    answer, the model, the competitor or a tag (Chinese as typed; several words must all match);
    ``model`` keeps scripts for that model and general ones; ``competitor`` narrows by competitor."""
    page = selectors.script_page(actor=request.actor, q=q or "", model=model or "", competitor=competitor or "",
                                 limit=limit, cursor=cursor)  # fmt: skip
    return {"items": [script_out(x) for x in page.items], "next_cursor": page.next_cursor}


@router.post("/sales-scripts", response={201: ScriptOut})
def script_create(request: ActorRequest, payload: ScriptIn) -> Status[dict[str, Any]]:
    """Add a script (sales managers and the store manager)."""
    require_model(request.actor, "add", SalesScript)
    return Status(201, script_out(services.script_save(actor=request.actor, data=payload.dict(exclude_none=True))))


@router.get("/sales-scripts/{int:script_id}", response=ScriptOut)
def script_get(request: ActorRequest, script_id: int) -> dict[str, Any]:
    return script_out(selectors.script_get(actor=request.actor, pk=script_id))


@router.patch("/sales-scripts/{int:script_id}", response=ScriptOut)
def script_update(request: ActorRequest, script_id: int, payload: ScriptIn) -> dict[str, Any]:
    script = selectors.script_get(actor=request.actor, pk=script_id)
    data = {**script_out(script), "series": script.series_id, **payload.dict(exclude_unset=True)}
    return script_out(services.script_save(actor=request.actor, data=data, script=script))


@router.delete("/sales-scripts/{int:script_id}", response={204: None})
def script_delete(request: ActorRequest, script_id: int) -> HttpResponse:
    script = selectors.script_get(actor=request.actor, pk=script_id)
    services.script_delete(actor=request.actor, script=script)
    return HttpResponse(status=204)
