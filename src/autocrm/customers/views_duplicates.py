"""The duplicate review queue in the staff UI: the list of suggested pairs with score and
reasons, a side-by-side comparison where each field's surviving value is picked, merge,
dismiss, and the merge record with its undo button. Each step calls exactly one service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from autocrm.audit.formatting import type_label
from autocrm.core.actor import Actor, actor_of
from autocrm.core.errors import PermissionDenied
from autocrm.core.forms import REFUSED, run_action
from autocrm.core.models import model_field
from autocrm.core.pagination import paginate
from autocrm.core.permissions import Access, can, field_access, present
from autocrm.core.views import scoped_object_or_404

from . import merging
from .choices import DuplicateStatus
from .dedup import DEFAULT_THRESHOLD, duplicate_pair_get, duplicate_pair_list, reason_display
from .merging import MERGE_FIELDS, MERGED, SURVIVOR, merge_defaults
from .models import Customer, CustomerMerge, DuplicatePair

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _shown(actor: Any, customer: Customer, name: str) -> Any:
    """A field's value as ``actor`` may see it, choice labels and users resolved."""
    field = model_field(Customer, name)
    if field_access(actor, customer, name) is Access.HIDDEN:
        return None
    if field.is_relation:
        return getattr(customer, name) or None
    value = present(actor, customer, name)
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    return value if value not in (None, "") else None


def _summary(actor: Any, customer: Customer) -> dict[str, Any]:
    """How a customer shows in the queue: a colleague's customer by surname only (as on entry)."""
    if not can(actor, "view", customer):
        return {"id": customer.pk, "name": customer.name[:1] + "*", "mobile": None, "district": None}
    return {"id": customer.pk, "name": customer.name, "mobile": present(actor, customer, "mobile"),
            "district": customer.district}  # fmt: skip


def _completeness(customer: Customer) -> int:
    return sum(1 for n in MERGE_FIELDS if getattr(customer, model_field(Customer, n).attname) not in (None, ""))


@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not can(actor, "view", DuplicatePair):
        raise PermissionDenied()
    status = request.GET.get("status") or DuplicateStatus.OPEN
    if status not in DuplicateStatus.values:
        status = DuplicateStatus.OPEN
    page = paginate(duplicate_pair_list(actor=actor, status=status), ordering=("-score", "-id"),
                    limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)  # fmt: skip
    rows = [
        {
            "pair": pair,
            "percent": round(pair.score * 100),
            "reasons": [reason_display(actor, pair, r) for r in pair.reasons or []],
            "a": _summary(actor, pair.customer_a),
            "b": _summary(actor, pair.customer_b),
            "can_open": can(actor, "view", pair.customer_a) and can(actor, "view", pair.customer_b),
        }
        for pair in page.items
    ]
    merges = []
    if can(actor, "view", CustomerMerge):
        merges = list(
            CustomerMerge.objects.for_actor(actor, "view").select_related("survivor", "merged").order_by("-id")[:10]
        )
    return render(
        request,
        "customers/duplicates.html",
        {
            "rows": rows,
            "status": status,
            "statuses": DuplicateStatus.choices,
            "next_cursor": page.next_cursor,
            "can_find": can(actor, "change", DuplicatePair),
            "merges": merges,
        },
    )


@login_required
@require_POST
def duplicate_find(request: HttpRequest) -> HttpResponse:
    """Run the finder now, or queue it when a worker runs (the service decides)."""
    result = run_action(request, merging.duplicates_find, actor=_actor(request), threshold=DEFAULT_THRESHOLD)
    if result is REFUSED:
        pass
    elif result.queued:
        messages.info(request, gettext("The duplicate check is running. Reload this page in a minute."))
    else:
        messages.success(
            request,
            gettext("Checked %(customers)s customers: %(pairs)s possible duplicates, %(created)s new.")
            % {"customers": result.customers, "pairs": result.pairs, "created": result.created},
        )
    return redirect("duplicates:duplicate_list")


def _sides(pair: DuplicatePair, survivor_id: str | None) -> tuple[Customer, Customer]:
    a, b = pair.customer_a, pair.customer_b
    if survivor_id == str(b.pk):
        return b, a
    if survivor_id == str(a.pk):
        return a, b
    # Default survivor: the more complete record, the older one on a tie.
    return (b, a) if _completeness(b) > _completeness(a) else (a, b)


@login_required
def duplicate_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Side by side: one radio per field picks the surviving value (defaults: the only value,
    or the newer record's), and a merge button."""
    actor = _actor(request)
    pair = duplicate_pair_get(actor=actor, pk=pk)  # both customers must be visible, else 404
    if not (can(actor, "view", pair.customer_a) and can(actor, "view", pair.customer_b)):
        raise PermissionDenied()
    survivor, merged = _sides(pair, request.POST.get("survivor") or request.GET.get("survivor"))
    if request.method == "POST":
        if not can(actor, "change", pair):
            raise PermissionDenied()
        choices = {}
        for name in MERGE_FIELDS:
            picked = request.POST.get(f"choice_{name}")
            if picked in (str(survivor.pk), str(merged.pk)):
                choices[name] = SURVIVOR if picked == str(survivor.pk) else MERGED
        merge = run_action(request, merging.customer_merge, actor=actor, survivor=survivor, merged=merged,
                           choices=choices)  # fmt: skip
        if merge is not REFUSED:
            messages.success(request, gettext("The two records are now one. You can undo this merge here."))
            return redirect("duplicates:merge_detail", pk=merge.pk)
    defaults = merge_defaults(survivor, merged)
    rows = []
    for name in MERGE_FIELDS:
        left, right = _shown(actor, survivor, name), _shown(actor, merged, name)
        if left is None and right is None:
            continue  # nothing to choose
        rows.append(
            {
                "name": name,
                "label": capfirst(model_field(Customer, name).verbose_name),
                "survivor": left,
                "merged": right,
                "differs": left != right,
                "pick": survivor.pk if defaults[name] == SURVIVOR else merged.pk,
            }
        )
    return render(
        request,
        "customers/duplicates_compare.html",
        {
            "pair": pair,
            "survivor": survivor,
            "merged": merged,
            "rows": rows,
            "percent": round(pair.score * 100),
            "reasons": [reason_display(actor, pair, r) for r in pair.reasons or []],
            "can_merge": pair.status == DuplicateStatus.OPEN
            and can(actor, "merge", survivor)
            and can(actor, "merge", merged),
            "can_dismiss": pair.status == DuplicateStatus.OPEN and can(actor, "change", pair),
            "swap_url": reverse("duplicates:duplicate_compare", args=[pair.pk]) + f"?survivor={merged.pk}",
        },
    )


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    pair = duplicate_pair_get(actor=actor, pk=pk)  # both customers must be visible, else 404
    if run_action(request, merging.duplicate_dismiss, actor=actor, pair=pair) is not REFUSED:
        messages.success(request, gettext("Marked as not a duplicate."))
    return redirect("duplicates:duplicate_list")


def _relation_label(key: str) -> str:
    """``vehicles.vehicle.customer`` → "Vehicle"; a many-to-many table by its owner and field
    (``customers.customer_tags.customer`` → 客户标签, not "Customer-tag关系")."""
    return type_label(key.rsplit(".", 1)[0])


@login_required
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    merge = scoped_object_or_404(CustomerMerge.objects.select_related("survivor", "merged", "actor"), actor, pk)
    moved = [{"key": key, "label": _relation_label(key), "count": len(ids)} for key, ids in (merge.moved or {}).items()]
    taken = [
        capfirst(model_field(Customer, name).verbose_name)
        for name, source in (merge.choices or {}).items()
        if source == MERGED and name in MERGE_FIELDS
    ]
    return render(
        request,
        "customers/duplicates_merge.html",
        {
            "merge": merge,
            "moved": moved,
            "taken": taken,
            "can_undo": merge.undone_at is None and can(actor, "undo", merge),
        },
    )


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    merge = scoped_object_or_404(CustomerMerge, actor, pk)
    if run_action(request, merging.customer_merge_undo, actor=actor, merge=merge) is not REFUSED:
        messages.success(request, gettext("The merge was undone: both records are back as they were."))
    return redirect("duplicates:merge_detail", pk=merge.pk)
