"""The data-quality report page and, per problem, the affected customers with links to fix them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied
from autocrm.core.pagination import paginate
from autocrm.core.permissions import can, present, scope_for

from .models import Customer
from .quality import PROBLEM_KEYS, PROBLEMS, quality_customers, quality_report

PAGE_SIZE = 50


def _customer_url(name: str, pk: int) -> str | None:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


@login_required
@require_GET
def quality_overview(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    if scope_for(actor, Customer, "view") is None:
        raise PermissionDenied()
    return render(
        request,
        "customers/quality.html",
        {
            "stores": quality_report(actor=actor, refresh=bool(request.GET.get("refresh"))),
            "problems": PROBLEMS,
        },
    )


@login_required
@require_GET
def quality_problem(request: ActorRequest, problem: str) -> HttpResponse:
    actor = request.actor
    if scope_for(actor, Customer, "view") is None:
        raise PermissionDenied()
    if problem not in PROBLEM_KEYS:
        raise Http404
    try:
        store_id = int(request.GET.get("store") or 0) or None
    except ValueError:
        store_id = None
    qs = quality_customers(actor=actor, problem=problem, store_id=store_id)
    page = paginate(qs, ordering=("-id",), limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    rows = [
        {
            "customer": c,
            "mobile": present(actor, c, "mobile"),
            "detail_url": _customer_url("customers:customer_detail", c.pk),
            "edit_url": _customer_url("customers:customer_edit", c.pk) if can(actor, "change", c) else None,
        }
        for c in page.items
    ]
    return render(
        request,
        "customers/quality.html",
        {
            "problem": PROBLEM_KEYS[problem],
            "rows": rows,
            "next_cursor": page.next_cursor,
            "store_id": store_id,
        },
    )
