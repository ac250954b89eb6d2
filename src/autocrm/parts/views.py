"""The parts pages: the catalogue with stock (search, category, low-stock filter; cards on a
phone), a part with its movement history (keyset pages) and the keeper's receive / adjust /
transfer forms, purchase orders (list, detail, receive, send, cancel, a draft from the reorder
list). Thin: each POST calls one service through ``run_action``; a refusal is a flash message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.forms import REFUSED, run_action
from autocrm.core.permissions import Access, can, field_access
from autocrm.tenancy.models import Store

from . import selectors, services
from .choices import Category, MovementKind, POStatus, Unit
from .models import Part, PurchaseOrder


def cost_visible(actor: Any) -> bool:
    return field_access(actor, Part, "cost") is Access.FULL


def _labels(choices: Any) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


@login_required
@require_GET
def part_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    category = request.GET.get("category") or None
    filters: dict[str, Any] = {
        "q": request.GET.get("q", "")[:100], "category": category if category in Category.values else None,
        "low": request.GET.get("low") == "1", "active": True,
    }  # fmt: skip
    page = selectors.part_page(actor=actor, filters=filters, limit=50, cursor=request.GET.get("cursor") or None)
    units, categories = _labels(Unit), _labels(Category)
    rows = [{"part": p, "unit": units.get(p.unit, p.unit), "category": categories.get(p.category, p.category),
             "url": reverse("parts:part_detail", args=[p.pk])} for p in page.items]  # fmt: skip
    return render(request, "parts/part_list.html", {
        "rows": rows, "next_cursor": page.next_cursor, "show_cost": cost_visible(actor), "filters": filters,
        "categories": Category.choices, "can_order": can(actor, "add", PurchaseOrder),
        "query": request.GET.urlencode(),
    })  # fmt: skip


@login_required
@require_GET
def part_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    part = selectors.part_get(actor=actor, pk=pk)
    page = selectors.movement_page(actor=actor, filters={"part": part.pk}, limit=30,
                                   cursor=request.GET.get("cursor") or None)  # fmt: skip
    kinds = _labels(MovementKind)
    rows = [{"m": m, "kind": kinds.get(m.kind, m.kind)} for m in page.items]
    others = []
    if can(actor, "transfer", part):
        others = list(
            Store.objects.filter(  # scoped: the actor's organization, names for the transfer form
                organization_id=actor.require_organization_id(), is_active=True
            )
            .exclude(pk=part.store_id)
            .order_by("code")
        )
    return render(request, "parts/part_detail.html", {
        "part": part, "rows": rows, "next_cursor": page.next_cursor, "show_cost": cost_visible(actor),
        "unit": _labels(Unit).get(part.unit, part.unit),
        "can_receive": can(actor, "receive", part), "can_adjust": can(actor, "adjust", part),
        "can_transfer": bool(others), "stores": others,
    })  # fmt: skip


@login_required
@require_POST
def part_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the keeper's forms on the part page: receive, adjust or transfer."""
    actor = actor_of(request)
    part = selectors.part_get(actor=actor, pk=pk)
    kind, data = request.POST.get("kind"), request.POST
    result: Any = REFUSED
    if kind == "receive":
        result = run_action(request, services.stock_receive, actor=actor, part=part, qty=data.get("quantity"),
                            unit_cost=data.get("unit_cost") or None)  # fmt: skip
    elif kind == "adjust":
        result = run_action(request, services.stock_adjust, actor=actor, part=part, qty=data.get("quantity"),
                            reason=data.get("reason"))  # fmt: skip
    elif kind == "transfer":
        to_store = data.get("to_store", "")
        result = run_action(request, services.stock_transfer, actor=actor, part=part, qty=data.get("quantity"),
                            to_store=int(to_store) if to_store.isdigit() and len(to_store) < 18 else None)  # fmt: skip
    else:
        messages.error(request, _("Choose what to record."))
    if result is not REFUSED:
        messages.success(request, _("Stock recorded."))
    return redirect("parts:part_detail", pk=part.pk)


@login_required
@require_GET
def po_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status") or None
    filters = {"status": status if status in POStatus.values else None}
    page = selectors.po_page(actor=actor, filters=filters, limit=50, cursor=request.GET.get("cursor") or None)
    labels = _labels(POStatus)
    rows = [{"po": po, "status": labels.get(po.status, po.status)} for po in page.items]
    suppliers = list(selectors.supplier_list(actor=actor)) if can(actor, "add", PurchaseOrder) else []
    return render(request, "parts/po_list.html", {
        "rows": rows, "next_cursor": page.next_cursor, "statuses": POStatus.choices, "status": filters["status"],
        "suppliers": suppliers,
    })  # fmt: skip


@login_required
@require_POST
def po_from_alerts(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    supplier = selectors.supplier_get(actor=actor, pk=selectors._id(request.POST.get("supplier"), "supplier"))
    order = run_action(request, services.po_from_alerts, actor=actor, supplier=supplier)
    if order is REFUSED:
        return redirect("parts:po_list")
    messages.success(request, _("Draft order made from the reorder list."))
    return redirect("parts:po_detail", pk=order.pk)


@login_required
@require_GET
def po_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    order = selectors.po_get(actor=actor, pk=pk)
    lines = list(order.lines.select_related("part").order_by("pk"))
    return render(request, "parts/po_detail.html", {
        "po": order, "lines": lines, "status": _labels(POStatus).get(order.status, order.status),
        "can_change": can(actor, "change", order), "can_receive": can(actor, "receive", order),
        "receivable": order.status in (POStatus.SENT, POStatus.PARTLY_RECEIVED),
        "is_draft": order.status == POStatus.DRAFT,
        "cancellable": order.status in (POStatus.DRAFT, POStatus.SENT),
    })  # fmt: skip


@login_required
@require_POST
def po_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Send, cancel or receive (the quantities per line as ``line_<id>``; empty lines are skipped)."""
    actor = actor_of(request)
    order = selectors.po_get(actor=actor, pk=pk)
    action = request.POST.get("action")
    result: Any = REFUSED
    if action == "send":
        result = run_action(request, services.po_send, actor=actor, order=order)
    elif action == "cancel":
        result = run_action(request, services.po_cancel, actor=actor, order=order)
    elif action == "receive":
        quantities = {k[5:]: v for k, v in request.POST.items() if k.startswith("line_") and str(v).strip()}
        result = run_action(request, services.po_receive, actor=actor, order=order, quantities=quantities)
    else:
        messages.error(request, _("Choose what to do."))
    if result is not REFUSED:
        messages.success(request, _("Purchase order updated."))
    return redirect("parts:po_detail", pk=order.pk)
