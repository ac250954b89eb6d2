"""The customer UI: the list with one search box answering as you type, create and edit with
duplicates shown before saving, and the customer 360 page (profile with reveal, tags,
household, consent grid, timeline, and the panels other apps register).

Views are thin: forms parse, ``customers.services`` decide, ``customers.selectors`` read.

Higher apps may add a small form to the create page (the first vehicle, for instance) with
:func:`register_create_extra`; its ``save`` runs in the same transaction as the customer, so
a bad extra leaves nothing behind and ``customers`` imports none of those apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from autocrm.core import identifiers
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, DomainError, PermissionDenied, ValidationError
from autocrm.core.extensions import Registry, registry
from autocrm.core.permissions import Access, can, field_access, present
from autocrm.core.sensitive import field_reveal
from autocrm.core.views import scoped_object_or_404

from . import selectors, services
from .choices import Channel, ConsentPurpose
from .filtersets import CustomerFilterSet
from .forms import CustomerForm, TagForm, add_domain_errors
from .models import Customer
from .tables import CustomerTable

PAGE_SIZE = 25
TIMELINE_SIZE = 30
REVEALABLE = ("mobile", "id_number", "address", "other_phones")


# --- extension point: extra forms on the create page ------------------------------------------


@dataclass(frozen=True)
class CreateExtra:
    """A form another app adds to the customer create page.

    ``save(actor, customer, form)`` runs inside the customer's transaction after the customer
    is created; a :class:`DomainError` it raises is shown on ``form`` and undoes everything."""

    key: str
    form_class: type[forms.Form]
    template: str
    save: Callable[[Actor, Customer, forms.Form], Any]
    visible: Callable[[Actor], bool] = lambda actor: True
    order: int = 100


_CREATE_EXTRAS: dict[str, CreateExtra] = {}


def register_create_extra(extra: CreateExtra) -> None:
    _CREATE_EXTRAS[extra.key] = extra


def _extras_for(actor: Actor, data: Any = None) -> list[tuple[CreateExtra, forms.Form]]:
    out = []
    for extra in sorted(_CREATE_EXTRAS.values(), key=lambda e: (e.order, e.key)):
        if extra.visible(actor):
            out.append((extra, extra.form_class(data, prefix=extra.key)))
    return out


class _Rollback(Exception):
    pass


# --- helpers -----------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _require_model(actor: Actor, action: str) -> None:
    if not can(actor, action, Customer):
        raise DjangoPermissionDenied()


def _get(actor: Actor, pk: Any, action: str = "view") -> Customer:
    return scoped_object_or_404(Customer, actor, pk, action)


# --- list --------------------------------------------------------------------------------------


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers in the actor's scope, newest first, in keyset pages ("load more", no count).
    An htmx request (typing in the search box, "load more") gets only the rows."""
    actor = _actor(request)
    _require_model(actor, "view")
    form = CustomerFilterSet(request.GET or None, actor=actor)
    filters = form.filters()
    try:
        page = selectors.customer_page(
            actor=actor, filters=filters, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None
        )
    except DomainError as exc:
        return HttpResponseBadRequest(str(exc.message))
    query = request.GET.copy()
    query.pop("cursor", None)
    export_query = query.urlencode()  # the export downloads exactly this filtered list
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    context = {
        "form": form,
        "rows": CustomerTable(actor, page.items).rows(),
        "next_cursor": page.next_cursor,
        "more_query": query.urlencode(),
        "first_page": not request.GET.get("cursor"),
        "filtered": bool(filters),
        "can_add": can(actor, "add", Customer),
        "can_export": can(actor, "export", Customer),
        "export_query": export_query,
    }
    if getattr(request, "htmx", False):
        return render(request, "customers/partials/customer_rows.html", context)
    return render(request, "customers/customer_list.html", context)


# --- create / edit -----------------------------------------------------------------------------


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    """Create a customer. When the service finds likely duplicates (409), they are shown before
    anything is saved: open the existing record, or — when only the name and district match —
    save a new record anyway (``confirm_new``)."""
    actor = _actor(request)
    _require_model(actor, "add")
    form = CustomerForm(request.POST or None, actor=actor)
    extras = _extras_for(actor, request.POST or None)
    duplicates: list[dict[str, Any]] = []
    strong = False
    if request.method == "POST":
        valid = form.is_valid()
        for _extra, extra_form in extras:  # validate every form, so every error shows at once
            valid = extra_form.is_valid() and valid
        if valid:
            try:
                with transaction.atomic():
                    customer = services.customer_create(
                        actor=actor,
                        data=form.service_data(),
                        consultant_id=form.cleaned_data.get("consultant"),
                        advisor_id=form.cleaned_data.get("advisor"),
                        confirm_new=bool(form.cleaned_data.get("confirm_new")),
                    )
                    for extra, extra_form in extras:
                        try:
                            extra.save(actor, customer, extra_form)
                        except DomainError as exc:
                            if not extra_form.errors:  # the extra may have placed its errors itself
                                add_domain_errors(extra_form, exc)
                            raise _Rollback() from exc
            except _Rollback:
                pass
            except Conflict as exc:
                duplicates = list(getattr(exc, "duplicates", []))
                strong = bool(getattr(exc, "strong", True))
                add_domain_errors(form, exc)
            except PermissionDenied:
                raise DjangoPermissionDenied() from None
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
                return redirect("customers:customer_detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "extras": [{"key": e.key, "template": e.template, "form": f} for e, f in extras],
            "duplicates": duplicates,
            "strong": strong,
            "creating": True,
        },
    )


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _get(actor, pk, "change")
    form = CustomerForm(request.POST or None, actor=actor, instance=customer)
    duplicates: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.customer_update(actor=actor, customer=customer, data=form.service_data())
                consultant_id = form.cleaned_data.get("consultant")
                if "consultant" in form.fields and consultant_id != customer.consultant_id:
                    services.customer_assign(actor=actor, customer=customer, consultant_id=consultant_id)
        except Conflict as exc:
            duplicates = list(getattr(exc, "duplicates", []))
            add_domain_errors(form, exc)
        except PermissionDenied:
            raise DjangoPermissionDenied() from None
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect("customers:customer_detail", pk=customer.pk)
        customer.refresh_from_db()
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "customer": customer, "duplicates": duplicates, "strong": True, "creating": False},
    )


# --- 360 ---------------------------------------------------------------------------------------

_PROFILE_FIELDS = (
    "kind", "mobile", "other_phones", "wechat_id", "email", "gender", "birthday", "id_number", "uscc",
    "province", "city", "district", "address", "community", "occupation", "employer", "income_band",
    "preferred_channel", "source_channel", "lifecycle_stage", "external_id",
)  # fmt: skip


def _profile(actor: Actor, customer: Customer) -> list[dict[str, Any]]:
    may_reveal = can(actor, "reveal", customer)
    rows = []
    for name in _PROFILE_FIELDS:
        access = field_access(actor, customer, name)
        if access is Access.HIDDEN:
            continue
        field = Customer._meta.get_field(name)
        if getattr(field, "choices", None):
            raw = getattr(customer, name)
            value = getattr(customer, f"get_{name}_display")() if raw else ""
        else:
            value = present(actor, customer, name)
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "value": value,
                "masked": access is Access.MASKED,
                "revealable": may_reveal and access is Access.MASKED and bool(getattr(customer, name)),
            }
        )
    return rows


def _consent_grid(consents: list[Any]) -> list[dict[str, Any]]:
    by_key = {(c.purpose, c.channel): c for c in consents}
    grid = []
    for purpose, purpose_label in ConsentPurpose.choices:
        cells = []
        for channel, channel_label in Channel.choices:
            consent = by_key.get((purpose, channel))
            if consent is None:
                state = "none"
            elif consent.withdrawn_at is not None:
                state = "withdrawn"
            elif consent.granted:
                state = "granted"
            else:
                state = "refused"
            cells.append(
                {"purpose": purpose, "channel": channel, "channel_label": channel_label, "state": state,
                 "consent": consent}
            )  # fmt: skip
        grid.append({"purpose": purpose, "label": purpose_label, "cells": cells})
    return grid


# What the timeline calls the kinds it writes; other modules register theirs
# (:func:`register_timeline_kind`); an unknown kind shows as written.
TIMELINE_KINDS: Registry[Any] = registry("customers.timeline_kinds")


def register_timeline_kind(kind: str, label: Any) -> None:
    """Called from a higher app's ``AppConfig.ready``: ``register_timeline_kind("vehicle.added", _("…"))``."""
    TIMELINE_KINDS.register(label, key=kind)


TIMELINE_LABELS = {
    "customer.created": gettext_lazy("Created"),
    "customer.assigned": gettext_lazy("Assigned"),
    "consent.granted": gettext_lazy("Consent granted"),
    "consent.refused": gettext_lazy("Consent refused"),
    "consent.withdrawn": gettext_lazy("Consent withdrawn"),
    "household.linked": gettext_lazy("Household"),
    "customer.merged": gettext_lazy("Merged"),
    "customer.merge_undone": gettext_lazy("Merge undone"),
}


def _timeline_context(customer: Customer, page: Any) -> dict[str, Any]:
    more_url = None
    if page.next_cursor:
        more_url = reverse("customers:customer_timeline", args=[customer.pk]) + "?cursor=" + page.next_cursor
    events = [{"event": e, "label": TIMELINE_LABELS.get(e.kind) or TIMELINE_KINDS.get(e.kind) or e.kind}
              for e in page.items]  # fmt: skip
    return {"events": events, "timeline_more_url": more_url}


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360 page, read in a bounded number of queries by ``customer_360``."""
    actor = _actor(request)
    data = selectors.customer_360(actor=actor, pk=pk)
    customer = data["customer"]
    # Panels are rendered without the request (running the context processors again would
    # repeat the shell's queries once per panel); they get the CSRF token for their forms.
    shared = {"customer": customer, "actor": actor, "csrf_token": get_token(request)}
    panels = [
        {"key": panel.key, "html": render_to_string(panel.template, {**ctx, **shared})} for panel, ctx in data["panels"]
    ]
    may_change = can(actor, "change", customer)
    context = {
        "customer": customer,
        "profile": _profile(actor, customer),
        "tags": sorted(customer.tags.all(), key=lambda t: t.name),
        "household": data["household"],
        "consent_grid": _consent_grid(data["consents"]),
        "panels": panels,
        "can_change": may_change,
        "can_reveal": can(actor, "reveal", customer),
        "tag_form": TagForm(),
        "slots": [
            ("segment", _("Segment")),
            ("value", _("Customer value")),
            ("churn_risk", _("Churn risk")),
            ("next_best_action", _("Next best action")),
        ],
        **_timeline_context(customer, data["timeline"]),
    }
    return render(request, "customers/customer_detail.html", context)


@login_required
@require_GET
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of the timeline ("load more")."""
    actor = _actor(request)
    customer = _get(actor, pk)
    try:
        page = selectors.timeline_page(
            actor=actor, customer=customer, limit=TIMELINE_SIZE, cursor=request.GET.get("cursor") or None
        )
    except DomainError as exc:
        return HttpResponseBadRequest(str(exc.message))
    return render(request, "customers/partials/timeline_rows.html", _timeline_context(customer, page))


@login_required
@require_POST
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full value of one protected field, written to the access log (``pii.reveal``)."""
    actor = _actor(request)
    customer = _get(actor, pk)
    field = request.POST.get("field", "")
    try:
        value = field_reveal(actor=actor, obj=customer, field=field)
    except PermissionDenied:
        raise DjangoPermissionDenied() from None
    except ValidationError as exc:
        return HttpResponseBadRequest(str(exc.message))
    if field in ("mobile", "other_phones"):
        value = identifiers.phone_display(value)
    return HttpResponse(format_html('<span class="revealed font-monospace" data-field="{}">{}</span>', field, value))


@login_required
@require_POST
def customer_tags(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _get(actor, pk, "change")
    form = TagForm(request.POST)
    if form.is_valid():
        add = [form.cleaned_data["add"]] if form.cleaned_data["add"] else []
        remove = [form.cleaned_data["remove"]] if form.cleaned_data["remove"] else []
        try:
            services.customer_tag(actor=actor, customer=customer, add=add, remove=remove)
        except PermissionDenied as exc:
            messages.error(request, str(exc.message))
        except DomainError as exc:
            messages.error(request, "; ".join(str(m) for ms in exc.fields.values() for m in ms) or str(exc.message))
    else:
        messages.error(request, _("A tag has at most 40 characters."))
    return redirect(reverse("customers:customer_detail", args=[customer.pk]) + "#tags")


@login_required
@require_POST
def customer_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """Grant or withdraw one purpose × channel consent from the grid."""
    actor = _actor(request)
    customer = _get(actor, pk, "change")
    purpose, channel, action = (request.POST.get(k, "") for k in ("purpose", "channel", "action"))
    if purpose not in ConsentPurpose.values or channel not in Channel.values or action not in ("grant", "withdraw"):
        return HttpResponseBadRequest(_("Choose one of the listed values."))
    try:
        if action == "grant":
            services.consent_record(
                actor=actor, customer=customer, purpose=purpose, channel=channel, granted=True,
                source=str(_("Staff UI")),
            )  # fmt: skip
            messages.success(request, _("Consent recorded."))
        else:
            services.consent_withdraw(
                actor=actor, customer=customer, purpose=purpose, channel=channel, source=str(_("Staff UI"))
            )
            messages.success(
                request, _("Consent withdrawn at %(at)s.") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
            )
    except PermissionDenied:
        raise DjangoPermissionDenied() from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect(reverse("customers:customer_detail", args=[customer.pk]) + "#consent")
