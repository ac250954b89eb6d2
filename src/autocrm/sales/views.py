"""The sales pages: the deal list (cards on a phone), a deal with its stage bar, evidence uploads,
test-drive and quote forms; the stock list with ageing and the price-sensitive prospects of an
ageing car (CSV). Thin: each POST calls one service; a refused input comes back as a message on
the deal's page (nothing was saved); 404/403 are the middleware's."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core import uploads
from autocrm.core.actor import actor_of
from autocrm.core.errors import DomainError, NotFound, PermissionDenied
from autocrm.core.extensions import panels_for
from autocrm.core.forms import error_text
from autocrm.core.permissions import can, require_model

from . import selectors, services
from .api import cost_visible, next_stage
from .choices import STAGE_ORDER, DocumentKind, PurchaseType, Purpose, Sensitivity, Stage
from .models import Deal, NeedsAnalysis, Quote, SalesScript, StockVehicle, TestDrive


def _refused(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, error_text(exc))


def _back(deal: Deal, anchor: str = "") -> HttpResponse:
    return redirect(reverse("sales:deal_detail", args=[deal.pk]) + anchor)


@login_required
@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "view", Deal)
    stage = request.GET.get("stage") or None
    filters: dict[str, Any] = {"stage": stage if stage in STAGE_ORDER else None, "q": request.GET.get("q", "")[:100]}
    customer = request.GET.get("customer", "")
    purchases = None
    if customer.isdigit() and len(customer) < 18:
        filters["customer"] = int(customer)
        purchases = selectors.customer_purchases(actor=actor, customer_id=int(customer))
    page = selectors.deal_page(actor=actor, filters=filters, limit=50, cursor=request.GET.get("cursor") or None)
    return render(request, "sales/deal_list.html", {
        "deals": page.items, "next_cursor": page.next_cursor, "stages": Stage.choices, "stage": filters["stage"],
        "q": filters["q"], "purchases": purchases,
    })  # fmt: skip


def _stage_bar(deal: Deal) -> list[dict[str, Any]]:
    current = STAGE_ORDER.index(deal.stage)
    return [
        {"code": code, "label": label, "done": i < current, "current": i == current}
        for i, (code, label) in enumerate(Stage.choices)
    ]


@login_required
@require_GET
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    following = next_stage(deal)
    now = timezone.localtime().replace(second=0, microsecond=0)
    trade_ins = list(deal.trade_ins.order_by("-id").prefetch_related("photos")[:10])
    for trade in trade_ins:
        setattr(trade, "photo_list", list(trade.photos.all()))  # noqa: B010  (shown under it)
    lines, price, due = services.deal_lines(deal)
    return render(request, "sales/deal_detail.html", {
        "lines": lines, "price": price, "total_due": due,
        "panels": [{"key": panel.key, "html": render_to_string(panel.template, {**ctx, "deal": deal}, request=request)}
                   for panel, ctx in panels_for("sales.deal", actor, deal)],
        "deal": deal,
        "stage_bar": _stage_bar(deal),
        "next_stage": Stage(following).label if following else None,
        "later_stages": [(c, lbl) for c, lbl in Stage.choices if STAGE_ORDER.index(c) > STAGE_ORDER.index(deal.stage)],
        "missing": services.evidence_missing(deal, following) if following else {},
        "documents": deal.documents.order_by("-id"),
        "document_kinds": DocumentKind.choices,
        "quotes": Quote.objects.for_actor(actor, "view").filter(deal=deal).order_by("-id")[:20],
        "test_drives": TestDrive.objects.for_actor(actor, "view").filter(deal=deal).select_related("vehicle")
        .order_by("-starts_at")[:20],
        "demo_cars": StockVehicle.objects.for_actor(actor, "view").filter(status__in=("demo", "in_stock"))
        .order_by("model_name")[:100],
        "sensitivities": Sensitivity.choices,
        "gross_profit": deal.gross_profit if cost_visible(actor) else None,
        "can_change": can(actor, "change", deal),
        "can_advance": can(actor, "advance", deal) and deal.status == "open",
        "can_quote": can(actor, "add", Quote) and deal.status == "open",
        "can_approve": can(actor, "approve", Quote),
        "can_finance": can(actor, "finance", deal) and deal.stage == Stage.FINANCE and deal.status == "open"
        and deal.finance_approved_at is None,
        "stock_cars": StockVehicle.objects.for_actor(actor, "view").filter(status__in=("in_stock", "reserved"))
        .order_by("model_name", "id")[:200] if can(actor, "change", deal) and deal.status == "open" else [],
        "needs": NeedsAnalysis.objects.filter(deal=deal).first(),  # scoped: the deal's own
        "trade_ins": trade_ins,
        "latest_trade_in": trade_ins[0] if trade_ins else None,
        "purposes": Purpose.choices, "purchase_types": PurchaseType.choices,
        "bodies": (_("Sedan"), _("SUV"), _("MPV"), _("Hatchback"), _("Pickup")),
        "fuels": (_("Petrol"), _("Hybrid"), _("Plug-in hybrid"), _("Electric")),
        "default_start": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "default_end": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    })  # fmt: skip


@login_required
@require_POST
def deal_advance(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    try:
        deal = services.deal_advance(actor=actor, deal=deal, to_stage=request.POST.get("to_stage") or None)
        messages.success(request, _("Moved to %(stage)s.") % {"stage": Stage(deal.stage).label})
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
    return _back(deal)


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            from autocrm.core.errors import ValidationError

            raise ValidationError(fields={"file": [_("Choose a file.")]})
        services.document_upload(actor=actor, deal=deal, kind=request.POST.get("kind", ""), file=upload,
                                 name=upload.name)  # fmt: skip
        messages.success(request, _("File attached."))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
    return _back(deal, "#documents")


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int, doc: int) -> FileResponse:
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    document = selectors.document_get(actor=actor, deal=deal, pk=doc)
    return uploads.response(document.path, content_type=document.content_type, name=document.name)


def _local(value: str) -> Any:
    """A ``datetime-local`` value in the store's time zone (the browser sends it without one)."""
    try:
        return timezone.make_aware(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return value


@login_required
@require_POST
def test_drive_book(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    post = request.POST
    vehicle = None
    if post.get("vehicle", "").isdigit():
        vehicle = StockVehicle.objects.for_actor(actor, "view").filter(pk=int(post["vehicle"])).first()
    data = {name: post.get(name, "") for name in ("route", "licence_number", "competitor", "price_sensitivity",
                                                 "feedback")}  # fmt: skip
    data["starts_at"], data["ends_at"] = _local(post.get("starts_at", "")), _local(post.get("ends_at", ""))
    try:
        services.test_drive_book(actor=actor, deal=deal, vehicle=vehicle, data=data,
                                 licence_photo=request.FILES.get("licence_photo"))  # fmt: skip
        messages.success(request, _("Test drive booked."))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
    return _back(deal, "#test-drives")


@login_required
@require_POST
def quote_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    post = request.POST
    data: dict[str, Any] = {name: post.get(name, "") for name in (
        "vehicle_price", "discount", "trade_in_value", "insurance", "insurer", "down_payment", "term_months",
        "annual_rate")}  # fmt: skip
    if post.get("option_name"):
        data["options"] = [{"name": post.get("option_name"), "price": post.get("option_price", "")}]
    trade = deal.trade_ins.order_by("-id").first()  # the latest appraisal flows into the quote
    try:
        quote = services.quote_create(actor=actor, deal=deal, data=data, trade_in=trade)
        if quote.status == "pending_approval":
            messages.warning(request, _("The discount is above your authority: the quote waits for a manager."))
        else:
            messages.success(request, _("Quote saved."))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
    return _back(deal, "#quotes")


@login_required
@require_GET
def stock_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = {"status": request.GET.get("status") or None, "q": request.GET.get("q", "")[:100]}
    page = selectors.stock_page(actor=actor, filters=filters, limit=100, cursor=request.GET.get("cursor") or None)
    thresholds = selectors.settings_for(actor.require_store_id()).ageing_days or []
    today = timezone.localdate()
    rows = [{"car": car, "age": car.age_days(today), "alert": selectors.ageing_level(car.age_days(today), thresholds)}
            for car in page.items]  # fmt: skip
    return render(request, "sales/stock_list.html", {
        "rows": rows, "next_cursor": page.next_cursor, "thresholds": thresholds, "show_cost": cost_visible(actor),
        "can_export": can(actor, "export", StockVehicle), "q": filters["q"],
    })  # fmt: skip


SIGNALS = {
    "test_drive": _("price sensitive at the test drive"),
    "needs_analysis": _("price sensitive in the needs analysis"),
    "budget_below_price": _("budget below the list price"),
    "asked_discount": _("asked for a discount above authority"),
}


@login_required
@require_GET
def stock_prospects(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    car = selectors.stock_get(actor=actor, pk=pk)
    rows = selectors.price_sensitive_prospects(actor=actor, stock=car)
    return render(request, "sales/stock_prospects.html", {
        "car": car, "rows": [{"p": r, "signals": [SIGNALS[s] for s in r.signals]} for r in rows],
    })  # fmt: skip


@login_required
@require_GET
def stock_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The prospects as CSV (UTF-8 with BOM, so Excel opens the Chinese names), audited."""
    actor = actor_of(request)
    car = selectors.stock_get(actor=actor, pk=pk)
    rows = selectors.price_sensitive_prospects(actor=actor, stock=car)
    from autocrm.core import audit

    audit.record("export", obj=car, actor=actor, extra={"what": "price_sensitive_prospects", "rows": len(rows)})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="prospects-{car.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Deal"), _("Customer"), _("Consultant"), _("Model of interest"), _("Signals")])
    for r in rows:
        writer.writerow([r.deal_id, _csv_safe(r.name), r.consultant, _csv_safe(r.model_interest),
                         "; ".join(str(SIGNALS[s]) for s in r.signals)])  # fmt: skip
    return response


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- the deal's other forms ----------------------------------------------------------------------


def _step(request: HttpRequest, deal: Deal, anchor: str, run: Any, done: Any) -> HttpResponse:
    """Run one service call for the deal's page: a refusal comes back as a message (403/404 are
    the middleware's)."""
    try:
        run()
        messages.success(request, str(done))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
    return _back(deal, anchor)


@login_required
@require_POST
def deal_from_lead(request: HttpRequest, lead: int) -> HttpResponse:
    """Open a deal from the lead's page (its consultant's; a manager's for the lead's consultant)."""
    actor = actor_of(request)
    found = selectors.lead_for_deal(actor=actor, pk=lead)
    require_model(actor, "add", Deal)
    data = {"consultant": found.consultant_id or ""} if can(actor, "export", Deal) else {}
    try:
        deal = services.deal_create(actor=actor, data=data, lead=found)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
        return redirect("leads:lead_detail", pk=found.pk)
    messages.success(request, _("Deal opened."))
    return _back(deal)


@login_required
@require_POST
def deal_update(request: HttpRequest, pk: int) -> HttpResponse:
    """The car from stock, the agreed price and the planned delivery date."""
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    post = request.POST
    stock = None
    if post.get("stock_vehicle", "").isdigit() and len(post["stock_vehicle"]) < 18:
        stock = selectors.stock_get(actor=actor, pk=int(post["stock_vehicle"]))
    data = {name: post[name] for name in ("agreed_price", "planned_delivery") if name in post}
    return _step(request, deal, "", lambda: services.deal_update(actor=actor, deal=deal, data=data,
                                                                 stock_vehicle=stock), _("Deal saved."))  # fmt: skip


@login_required
@require_POST
def deal_points(request: HttpRequest, pk: int) -> HttpResponse:
    """The consultant applies the customer's points toward the car (0 takes them off)."""
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    return _step(request, deal, "", lambda: services.deal_points_apply(
        actor=actor, deal=deal, points=request.POST.get("points", "")), _("Points applied."))  # fmt: skip


@login_required
@require_POST
def deal_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel (lose) the deal with a reason; points it used come back."""
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    return _step(request, deal, "", lambda: services.deal_cancel(
        actor=actor, deal=deal, reason=request.POST.get("reason", "")), _("Deal cancelled."))  # fmt: skip


@login_required
@require_POST
def deal_finance(request: HttpRequest, pk: int) -> HttpResponse:
    """The finance and insurance specialist approves the finance, naming the insurer."""
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    return _step(request, deal, "", lambda: services.deal_finance_approve(
        actor=actor, deal=deal, insurer=request.POST.get("insurer", "")), _("Finance approved."))  # fmt: skip


NEEDS_FIELDS = ("budget_min", "budget_max", "purpose", "body_preference", "fuel_preference", "options_wanted",
                "brands_considered", "purchase_type", "price_sensitivity")  # fmt: skip


@login_required
@require_POST
def needs_save(request: HttpRequest, pk: int) -> HttpResponse:
    """The needs analysis (需求分析) form: the same service as the API."""
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    data = {name: request.POST.get(name, "") for name in NEEDS_FIELDS}
    return _step(request, deal, "#needs", lambda: services.needs_save(actor=actor, deal=deal, data=data),
                 _("Needs analysis saved."))  # fmt: skip


@login_required
@require_POST
def trade_in_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The trade-in appraisal (二手车评估) form, with its photos; the next quote takes its price."""
    actor = actor_of(request)
    deal = selectors.deal_get(actor=actor, pk=pk)
    data = {name: request.POST.get(name, "") for name in ("plate", "vin", "model_name", "mileage_km", "condition",
                                                           "offered_price")}  # fmt: skip
    photos = request.FILES.getlist("photos")
    return _step(request, deal, "#trade-in", lambda: services.trade_in_create(
        actor=actor, deal=deal, data=data, photos=photos), _("Trade-in appraisal saved."))  # fmt: skip


@login_required
@require_POST
def quote_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager approves or rejects a quote waiting for approval (from the deal or the queue)."""
    actor = actor_of(request)
    quote = selectors.quote_get(actor=actor, pk=pk)
    approve = request.POST.get("decision") == "approve"
    deal = quote.deal
    try:
        services.quote_approve(actor=actor, quote=quote, approve=approve)
        messages.success(request, _("Quote approved.") if approve else _("Quote rejected."))
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        _refused(request, exc)
    if request.POST.get("next") == "queue":
        return redirect("sales:quote_queue")
    return _back(deal, "#quotes")


@login_required
@require_GET
def quote_queue(request: HttpRequest) -> HttpResponse:
    """The sales manager's queue of quotes whose discount waits for approval."""
    actor = actor_of(request)
    require_model(actor, "approve", Quote)
    return render(request, "sales/quote_queue.html", {"quotes": selectors.quotes_to_approve(actor=actor, limit=100)})


# --- repeat purchases on the customer 360 page ----------------------------------------------------


@login_required
@require_GET
def customer_purchases(request: HttpRequest, customer: int) -> HttpResponse:
    """The 360 page's sales part, loaded after the first paint: cars bought here, the years
    between them, the customer's open and won deals. The customer is read as the page reads it
    (another store's is the page's 404)."""
    from autocrm.customers.selectors import customer_get

    actor = actor_of(request)
    found = customer_get(actor=actor, pk=customer)
    require_model(actor, "view", Deal)
    context = {"customer": found, "purchases": selectors.customer_purchases(actor=actor, customer_id=found.pk),
               "deals": selectors.deal_page(actor=actor, filters={"customer": found.pk}, limit=5).items}  # fmt: skip
    return _part(request, "sales/panels/customer_purchases.html", context)


def _part(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The fragment alone for htmx (rendered without the request: the shell's queries are the
    page's), the fragment inside the shell otherwise (the no-JS fallback)."""
    from django.middleware.csrf import get_token
    from django.template.loader import render_to_string
    from django.utils.cache import patch_vary_headers

    if request.headers.get("HX-Request"):
        response = HttpResponse(render_to_string(template, {**context, "csrf_token": get_token(request)}))
    else:
        response = render(request, "sales/part_page.html", {**context, "part_template": template})
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- sales scripts (话术库) -------------------------------------------------------------------------


@login_required
@require_GET
def script_search(request: HttpRequest) -> HttpResponse:
    """The search box of the lead page (htmx): scripts whose text holds what was typed."""
    actor = actor_of(request)
    q = request.GET.get("q", "")[:100]
    page = selectors.script_page(actor=actor, q=q, model=request.GET.get("model", "")[:100], limit=10)
    return _part(request, "sales/partials/script_results.html", {"scripts": page.items, "q": q})


@login_required
def script_list(request: HttpRequest) -> HttpResponse:
    """The store's library: everyone who may read it searches; sales managers add, edit and
    delete (a POST with ``id`` edits, with ``delete`` removes)."""
    actor = actor_of(request)
    require_model(actor, "view", SalesScript)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        post = request.POST
        found = selectors.script_get(actor=actor, pk=post["id"]) if post.get("id", "").isdigit() else None
        try:
            if found is not None and post.get("delete"):
                services.script_delete(actor=actor, script=found)
                messages.success(request, _("Script deleted."))
            else:
                values = {n: post.get(n, "") for n in ("objection", "answer", "model_name", "competitor", "tags")}
                services.script_save(actor=actor, data=values, script=found)
                messages.success(request, _("Script saved."))
            return redirect("sales:script_list")
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            errors = exc.fields or {"__all__": [exc.message]}
    q = request.GET.get("q", "")[:100]
    page = selectors.script_page(actor=actor, q=q, limit=50, cursor=request.GET.get("cursor") or None)
    return render(request, "sales/script_list.html", {
        "scripts": page.items, "next_cursor": page.next_cursor, "q": q, "errors": errors, "values": values,
        "can_edit": can(actor, "add", SalesScript),
    }, status=400 if errors else 200)  # fmt: skip
