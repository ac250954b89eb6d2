"""Loyalty's pages: members (cards on a phone) and a member's card with the points ledger,
coupons and the forms to issue a coupon or adjust points; coupons with redemption by code at
the till; the programme's settings; the member card on the customer 360 page (lazy). Thin: each
POST calls one service through ``run_action``; a refusal is a flash message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.forms import REFUSED, run_action
from autocrm.core.permissions import can, get_in_scope, require, require_model
from autocrm.customers.models import Customer

from . import selectors, services
from .choices import CouponKind, CouponStatus, PointsSource, SpendCategory, TierBasis
from .models import Coupon, CouponType, Membership, Programme


def _labels(choices: Any) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    tier = (request.GET.get("tier") or "")[:20]
    page = selectors.membership_page(actor=actor, tier=tier or None, limit=50, cursor=request.GET.get("cursor") or None)
    ids = [m.customer_id for m in page.items]
    names = dict(Customer.objects.for_actor(actor, "view").filter(pk__in=ids).values_list("pk", "name"))
    rows = [{"m": m, "name": names.get(m.customer_id, "—"), "url": reverse("loyalty:member_detail", args=[m.pk])}
            for m in page.items]  # fmt: skip
    tiers = services.tiers_of(actor.require_store_id())
    return render(request, "loyalty/member_list.html", {"rows": rows, "next_cursor": page.next_cursor, "tier": tier,
                                                        "tiers": tiers})  # fmt: skip


def _member_context(actor: Any, member: Membership, cursor: str | None = None) -> dict[str, Any]:
    _balance, page = selectors.points_page(actor=actor, customer=member.customer_id, limit=30, cursor=cursor)
    coupons = list(Coupon.objects.for_actor(actor, "view").select_related("type")
                   .filter(customer_id=member.customer_id).order_by("-id")[:20]) if can(actor, "view", Coupon) else []  # fmt: skip
    sources, statuses = _labels(PointsSource), _labels(CouponStatus)
    return {
        "member": member, "next_cursor": page.next_cursor,
        "entries": [{"e": e, "label": sources.get(e.source, e.source)} for e in page.items],
        "coupons": [{"c": c, "status": statuses.get(c.status, c.status)} for c in coupons],
        "types": list(CouponType.objects.for_actor(actor, "view").filter(is_active=True).order_by("code"))
        if can(actor, "add", Coupon) and can(actor, "view", CouponType) else [],
        "can_adjust": can(actor, "adjust", member),
    }  # fmt: skip


@login_required
@require_GET
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    member = selectors.membership_get(actor=actor, pk=pk)
    customer = get_in_scope(Customer.objects.all(), actor, member.customer_id)
    context = _member_context(actor, member, request.GET.get("cursor") or None)
    return render(request, "loyalty/member_detail.html", {**context, "customer": customer})


@login_required
@require_POST
def member_issue(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    member = selectors.membership_get(actor=actor, pk=pk)
    done = run_action(request, services.coupon_issue, actor=actor,
                      data={"type": request.POST.get("type", ""), "customer": member.customer_id})  # fmt: skip
    if done is not REFUSED:
        messages.success(request, _("Coupon %(code)s issued.") % {"code": done.code})
    return redirect("loyalty:member_detail", pk=member.pk)


@login_required
@require_POST
def member_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    member = selectors.membership_get(actor=actor, pk=pk)
    data = {"customer": member.customer_id, "source": PointsSource.ADJUSTMENT, "points": request.POST.get("points"),
            "reason": request.POST.get("reason", "")}  # fmt: skip
    key = f"page:{actor.user_id}:{request.POST.get('nonce', '')[:40]}"
    if run_action(request, services.points_post, actor=actor, data=data, idempotency_key=key) is not REFUSED:
        messages.success(request, _("Points adjusted."))
    return redirect("loyalty:member_detail", pk=member.pk)


@login_required
@require_POST
def customer_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    done = run_action(request, services.membership_enrol, actor=actor, customer_id=pk)
    if done is not REFUSED:
        messages.success(request, _("The customer is a member."))
        return redirect("loyalty:member_detail", pk=done[0].pk)
    return redirect("customers:customer_detail", pk=pk)


@login_required
@require_GET
def customer_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The member card on the customer 360 page (lazy): tier, points, spend, coupons."""
    actor = actor_of(request)
    customer = get_in_scope(Customer.objects.all(), actor, pk)
    member = selectors.membership_of(actor=actor, customer_id=customer.pk)
    coupons = []
    if member is not None and can(actor, "view", Coupon):
        coupons = list(Coupon.objects.for_actor(actor, "view").select_related("type")
                       .filter(customer=customer, status=CouponStatus.ISSUED).order_by("valid_until")[:5])  # fmt: skip
    context = {"customer": customer, "member": member, "coupons": coupons,
               "can_enrol": member is None and can(actor, "add", Membership)}  # fmt: skip
    template = "loyalty/panels/customer_member_part.html"
    if getattr(request, "htmx", False):
        response = HttpResponse(render_to_string(template, {**context, "csrf_token": get_token(request)}))
    else:
        response = render(request, "customers/customer_part.html", {**context, "part_template": template})
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def bill_choose(request: HttpRequest, pk: int) -> HttpResponse:
    """The coupon and the points a repair order's bill is to use (the panel on the repair order
    page); back to the page the form was on."""
    from django.utils.http import url_has_allowed_host_and_scheme

    actor = actor_of(request)
    data = {"repair_order": pk, "customer": request.POST.get("customer", ""),
            "coupon": request.POST.get("coupon", ""), "points": request.POST.get("points", "")}  # fmt: skip
    if run_action(request, services.bill_loyalty_set, actor=actor, data=data) is not REFUSED:
        messages.success(request, _("The bill will use this coupon and these points."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("loyalty:member_list")
    return redirect(back)


@login_required
@require_GET
def coupon_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status") or None
    status = status if status in CouponStatus.values else None
    page = selectors.coupon_page(actor=actor, status=status, limit=50, cursor=request.GET.get("cursor") or None)
    types = list(CouponType.objects.for_actor(actor, "view").order_by("code")) if can(actor, "view", CouponType) else []
    return render(request, "loyalty/coupon_list.html", {
        "coupons": page.items, "next_cursor": page.next_cursor, "status": status or "",
        "statuses": CouponStatus.choices, "status_labels": _labels(CouponStatus), "types": types,
        "kinds": _labels(CouponKind), "can_redeem": can(actor, "redeem", Coupon),
        "can_add_type": can(actor, "add", CouponType), "kind_choices": CouponKind.choices,
    })  # fmt: skip


@login_required
@require_POST
def coupon_redeem(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "redeem", Coupon)
    code = request.POST.get("code", "").strip().upper()[:16]
    if not code or not Coupon.objects.for_actor(actor, "view").filter(code=code).exists():
        messages.error(request, _("No coupon with this code."))
        return redirect("loyalty:coupon_list")
    data = {"reference": request.POST.get("reference", ""), "service_code": request.POST.get("service_code", "")}
    if request.POST.get("amount"):
        data["amount"] = request.POST.get("amount", "")
    done = run_action(request, services.coupon_redeem, actor=actor, code=code, data=data)
    if done is not REFUSED:
        messages.success(request, _("Coupon %(code)s redeemed.") % {"code": done.code})
    return redirect("loyalty:coupon_list")


@login_required
@require_POST
def coupon_type_add(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    fields = ("code", "name", "kind", "value", "service_code", "min_spend", "valid_days", "per_customer_limit")
    data = {k: request.POST.get(k, "") for k in fields}
    done = run_action(request, services.coupon_type_create, actor=actor, data=data)
    if done is not REFUSED:
        messages.success(request, _("Coupon type %(name)s added.") % {"name": done.name})
    return redirect("loyalty:coupon_list")


@login_required
@require_http_methods(["GET", "POST"])
def programme(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_model(actor, "view", Programme)
    current = services.programme_for(actor.require_store_id())
    require(actor, "view", current)
    if request.method == "POST":
        names = ("name", "max_points_share", "expiry_months", "grace_days", "welcome_percent", "referral_reward",
                 "referral_spend_credit", "point_value", "tier_basis")  # fmt: skip
        data: dict[str, Any] = {k: request.POST.get(k, "") for k in names if k in request.POST}
        tiers = services.tiers_of(current.store_id)
        data["tiers"] = [{"code": t.code, "min_spend": request.POST.get(f"tier-{t.code}-min_spend", str(t.min_spend)),
                          "discount_percent": request.POST.get(f"tier-{t.code}-discount_percent",
                                                               str(t.discount_percent))} for t in tiers]  # fmt: skip
        rates = {k: request.POST.get(f"rate-{k}", "") for k in (current.earn_rates or {})}
        data["earn_rates"] = rates
        if run_action(request, services.programme_update, actor=actor, data=data) is not REFUSED:
            messages.success(request, _("Programme saved."))
        return redirect("loyalty:programme")
    return render(request, "loyalty/programme.html", {
        "programme": current, "tiers": services.tiers_of(current.store_id), "can_change": can(actor, "change", current),
        "bases": TierBasis.choices, "rates": [(k, _labels(SpendCategory).get(k, k), v) for k, v in sorted((current.earn_rates or {}).items())],
    })  # fmt: skip
