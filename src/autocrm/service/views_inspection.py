"""Pages of the digital inspection (phone first: the advisor walks round the car) and the
booking pickers (customer and vehicle by plate, mobile or name, the store's own only).

Each item saves on its own (htmx swaps the item's card; without JavaScript the form posts and
the page comes back at the item). Photos are served only after the repair order's permission
check; the owner's link serves its own order's photos (``views_public``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core import uploads
from autocrm.core.actor import actor_of
from autocrm.core.errors import DomainError
from autocrm.core.forms import REFUSED, error_text, run_action
from autocrm.core.permissions import can, get_in_scope, require_model

from . import inspection, selectors
from .models import Appointment, CannedJob, InspectionPhoto, InspectionRating, RepairOrder

PICK_LIMIT = 8


def _url(ro: RepairOrder | int) -> str:
    return reverse("service:inspection", args=[ro if isinstance(ro, int) else ro.pk])


def _context(actor: Any, ro: RepairOrder) -> dict[str, Any]:
    row = inspection.inspection_of(ro)
    items = inspection.items_of(row)
    return {
        "ro": ro, "inspection": row, "groups": inspection.grouped(items), "summary": inspection.summary(items),
        "findings": inspection.findings(items), "ratings": [r for r in InspectionRating.choices if r[0]],
        "can_fill": inspection.may_fill(actor, ro), "can_change": can(actor, "change", ro),
        "canned_jobs": list(CannedJob.objects.for_actor(actor, "view").filter(is_active=True).order_by("code")[:50])
        if can(actor, "view", CannedJob) else [],
    }  # fmt: skip


@login_required
@require_GET
def inspection_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    return render(request, "service/inspection/inspection.html", _context(actor, ro))


@login_required
@require_GET
def inspection_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The repair order page's inspection card (loaded after the first paint): the colours, the
    findings with their "add to the estimate" buttons, the link to the checklist."""
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    response = render(request, "service/inspection/ro_part.html", {**_context(actor, ro), "next": "ro"})
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def inspection_start(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    run_action(request, inspection.inspection_start, actor=actor, repair_order=ro)
    return redirect(_url(ro))


@login_required
@require_POST
def inspection_item_save(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    """Save one item: its colour, note and any photos (``photo``, several allowed)."""
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    row = inspection.item_for(actor=actor, repair_order=ro, item_id=item)
    error = ""
    try:
        data = {k: request.POST[k] for k in ("rating", "note") if k in request.POST}
        files = request.FILES.getlist("photo")[: inspection.MAX_PHOTOS_PER_ITEM]
        row = inspection.inspection_item_set(actor=actor, item=row, data=data, new_photos=len(files))
        for upload in files:
            inspection.inspection_photo_add(actor=actor, item=row, file=upload)
    except DomainError as exc:
        if not getattr(request, "htmx", False):
            raise
        error = error_text(exc)
    if getattr(request, "htmx", False):
        row = inspection.item_for(actor=actor, repair_order=ro, item_id=item)
        response = render(
            request,
            "service/inspection/item.html",
            {
                "ro": ro,
                "item": row,
                "ratings": [r for r in InspectionRating.choices if r[0]],
                "can_fill": True,
                "error": error,
                "saved": not error,
            },
        )  # fmt: skip  (200 with the error shown: htmx swaps only 2xx answers)
        patch_vary_headers(response, ("HX-Request",))
        return response
    messages.success(request, _("Saved."))
    return redirect(_url(ro) + f"#item-{row.pk}")


@login_required
@require_POST
def inspection_recommend(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk, action="change")
    row = inspection.item_for(actor=actor, repair_order=ro, item_id=item)
    data = {k: request.POST[k] for k in ("hours", "canned_job") if k in request.POST}
    if run_action(request, inspection.inspection_recommend, actor=actor, item=row, data=data) is not REFUSED:
        messages.success(request, _("Recommended work added to the estimate."))
    return redirect((request.POST.get("next") == "ro" and reverse("service:repair_order_detail", args=[ro.pk]))
                    or _url(ro) + "#findings")  # fmt: skip


@login_required
@require_GET
def inspection_photo(request: HttpRequest, pk: int, photo: int) -> HttpResponseBase:
    actor = actor_of(request)
    ro = selectors.repair_order_get(actor=actor, pk=pk)
    row = get_in_scope(InspectionPhoto.objects.filter(item__inspection__repair_order=ro), actor, photo)
    return uploads.response(row.path, content_type=row.content_type, name=row.name)


# --- the store's checklist (the service manager's editor, ADR 0031) -----------------------------

BLANK_ROWS = 3


def _posted_rows(post: Any) -> list[dict[str, Any]]:
    """The editor's rows in the order asked for: by the ``order`` typed (then as listed), the
    rows marked for removal and the blank ones left out."""
    rows = []
    count = min(int(post.get("rows") or 0) if str(post.get("rows") or "").isdigit() else 0, inspection.MAX_ITEMS + 20)
    for i in range(count):
        area, label = post.get(f"area-{i}", ""), post.get(f"label-{i}", "")
        if post.get(f"delete-{i}") or not (str(area).strip() or str(label).strip()):
            continue
        order = post.get(f"order-{i}", "")
        try:
            rank = float(order) if str(order).strip() else float(i + 1)
        except ValueError:
            rank = float(i + 1)
        rows.append((rank, i, {"area": area, "label": label, "photo": bool(post.get(f"photo-{i}")),
                               "canned_job": post.get(f"canned_job-{i}", "")}))  # fmt: skip
    return [row for _rank, _i, row in sorted(rows, key=lambda r: (r[0], r[1]))]


@login_required
@require_http_methods(["GET", "POST"])
def inspection_checklist(request: HttpRequest) -> HttpResponse:
    """The store's walk-round checklist: areas (sections) and their items in order, which items
    need a photo, and the canned job a finding becomes by default. Repair orders already
    inspected keep their own list."""
    actor = actor_of(request)
    row = inspection.checklist_get(actor=actor)
    can_change = can(actor, "change", row)
    items: list[dict[str, Any]] = inspection.checklist_items(row)
    errors: list[str] = []
    if request.method == "POST":
        posted = _posted_rows(request.POST)
        try:
            inspection.inspection_template_save(actor=actor, data={"items": posted})
        except DomainError as exc:
            if not exc.fields:
                raise
            errors = [str(m) for msgs in exc.fields.values() for m in msgs]
            items = [{**r, "canned_job": r["canned_job"]} for r in posted]
        else:
            messages.success(request, _("Inspection checklist saved."))
            return redirect("service:inspection_checklist")
    canned = list(CannedJob.objects.for_actor(actor, "view").filter(store_id=row.store_id, is_active=True)
                  .order_by("code")[:200]) if can(actor, "view", CannedJob) else []  # fmt: skip
    shown = [{**item, "canned_job": str(item.get("canned_job") or ""), "n": n + 1} for n, item in enumerate(items)]
    if can_change:
        shown += [{"area": "", "label": "", "photo": False, "canned_job": "", "n": len(items) + k + 1}
                  for k in range(BLANK_ROWS)]  # fmt: skip
    areas = list(dict.fromkeys(item["area"] for item in items if item.get("area")))
    return render(request, "service/inspection/checklist.html", {
        "row": row, "rows": shown, "count": len(shown), "errors": errors, "can_change": can_change,
        "canned_jobs": canned, "areas": areas, "groups": inspection.grouped_items(items),
    }, status=400 if errors else 200)  # fmt: skip


# --- the booking pickers -------------------------------------------------------------------------


def pick_rows(actor: Any, query: str) -> list[dict[str, Any]]:
    """Customer-and-car pairs of the actor's store matching ``query``: the plate (or its end, or
    a VIN), the mobile, the name. A customer without a car comes alone."""
    from autocrm.customers.selectors import customer_list
    from autocrm.vehicles.models import Vehicle
    from autocrm.vehicles.selectors import vehicle_list

    query = query.strip()[:40].replace("\x00", "")
    if len(query) < 2:
        return []
    store_id = actor.store_id
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, int | None]] = set()
    vehicles = (vehicle_list(actor=actor, filters={"q": query}).filter(store_id=store_id, customer__isnull=False)
                .select_related("customer")[:PICK_LIMIT])  # fmt: skip
    for v in vehicles:
        if v.customer is not None and v.customer_id is not None and v.customer.merged_into_id is None:
            seen.add((v.customer_id, v.pk))
            rows.append({"customer": v.customer, "vehicle": v})
    if len(rows) < PICK_LIMIT:
        customers = list(customer_list(actor=actor, filters={"q": query}).filter(store_id=store_id)
                         .order_by("-id")[:PICK_LIMIT])  # fmt: skip
        cars: dict[int, list[Vehicle]] = {}
        for v in Vehicle.objects.for_actor(actor, "view").filter(customer_id__in=[c.pk for c in customers],
                                                                 store_id=store_id).order_by("id"):  # fmt: skip
            if v.customer_id is not None:
                cars.setdefault(v.customer_id, []).append(v)
        for c in customers:
            options: list[Vehicle | None] = [*cars.get(c.pk, [])] or [None]
            for car in options:
                key = (c.pk, car.pk if car else None)
                if key not in seen and len(rows) < PICK_LIMIT:
                    seen.add(key)
                    rows.append({"customer": c, "vehicle": car})
    return rows


@login_required
@require_GET
def pick(request: HttpRequest) -> HttpResponse:
    """The picker's results (htmx): buttons that fill the form's customer and vehicle."""
    actor = actor_of(request)
    if not (can(actor, "add", Appointment) or can(actor, "add", RepairOrder)):
        require_model(actor, "add", Appointment)
    query = request.GET.get("q") or ""
    rows = pick_rows(actor, query) if actor.store_id else []
    response = render(request, "service/inspection/pick_results.html", {"rows": rows, "query": query.strip()})
    patch_vary_headers(response, ("HX-Request",))
    return response
