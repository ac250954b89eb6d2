"""The customer UI: the list with one search box answering as you type, create and edit with
duplicates shown before saving, and the customer 360 page (profile with reveal, tags,
household, consent grid, timeline, and the panels other apps register).

Views are thin: forms parse, ``customers.services`` decide, ``customers.selectors`` read, and
every service call goes through ``core.forms.run_service``/``run_action`` (domain errors become
form errors; 404/403 are the middleware's).

Higher apps add a small form to the create page (the first vehicle, for instance) with
``core.forms.register_create_extra("customers.customer", …)``; ``customer_create`` validates
the customer and every extra together and saves them in one transaction, so ``customers``
imports none of those apps."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from autocrm.core import identifiers
from autocrm.core.actor import Actor, actor_of
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.core.forms import REFUSED, ServiceFormView, create_extras, run_action, run_service
from autocrm.core.models import model_field
from autocrm.core.permissions import Access, can, field_access, present
from autocrm.core.sensitive import field_reveal
from autocrm.core.views import all_stores_chosen, scoped_object_or_404

from . import selectors, services
from .choices import Channel, ConsentPurpose
from .filtersets import CustomerFilterSet
from .forms import CustomerForm, TagForm
from .models import Customer, CustomerExternalId
from .tables import CustomerTable
from .timeline import timeline_label

PAGE_SIZE = 25
TIMELINE_SIZE = 30  # a "load more" page
TIMELINE_FIRST = 10  # the events the 360 page shows in its first paint
REVEALABLE = ("mobile", "id_number", "address", "other_phones")


# --- helpers -----------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _require_model(actor: Actor, action: str) -> None:
    if not can(actor, action, Customer):
        raise PermissionDenied()


def _get(actor: Actor, pk: Any, action: str = "view") -> Customer:
    return scoped_object_or_404(Customer, actor, pk, action)


# --- list --------------------------------------------------------------------------------------


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers in the actor's scope, newest first, in keyset pages ("load more", no count).
    A director sees the store picked in the header's switch, or every store (with a store
    column and filter) after picking "all stores". An htmx request (typing in the search box,
    "load more") gets only the rows."""
    actor = _actor(request)
    _require_model(actor, "view")
    form = CustomerFilterSet(request.GET or None, actor=actor, all_stores=all_stores_chosen(request))
    filters = form.filters()
    page = selectors.customer_page(
        actor=actor,
        filters=filters,
        limit=PAGE_SIZE,
        cursor=request.GET.get("cursor") or None,
        only=CustomerTable.reads,
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    exported = query.copy()
    if "store" in form.fixed:  # the store the header's switch shows: the export is that list too
        exported["store"] = str(form.fixed["store"])
    export_query = exported.urlencode()  # the export downloads exactly this filtered list
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    context = {
        "form": form,
        "rows": CustomerTable(actor, page.items, show_store=form.show_store).rows(),
        "show_store": form.show_store,
        "columns": 8 if form.show_store else 7,
        "list_store": _store_name(form),
        "next_cursor": page.next_cursor,
        "more_query": query.urlencode(),
        "first_page": not request.GET.get("cursor"),
        "filtered": bool(form.chosen()),
        "can_add": can(actor, "add", Customer),
        "can_export": can(actor, "export", Customer),
        "export_query": export_query,
    }
    if getattr(request, "htmx", False):
        return render(request, "customers/partials/customer_rows.html", context)
    return render(request, "customers/customer_list.html", context)


def _store_name(form: Any) -> str | None:
    """The store a director's list is narrowed to by the header's switch (None: not narrowed)."""
    from autocrm.tenancy.selectors import store_name

    return store_name(actor=form.actor, store_id=form.fixed.get("store"))


# --- create / edit -----------------------------------------------------------------------------


def _address_doubts(
    request: HttpRequest, actor: Actor, data: dict[str, Any], customer: Customer | None = None
) -> tuple[list[tuple[str, str]], str]:
    """The address's doubts to show before saving (``services.customer_address_warnings``), and
    the key of the address as typed: a submit carrying it in ``confirm_address`` saves past
    them (the user checked); an address changed since is checked again."""
    key = "|".join(str(data.get(k) or "") for k in ("province", "city", "district", "address"))
    if request.POST.get("confirm_address") == key:
        return [], key
    return services.customer_address_warnings(actor=actor, data=data, customer=customer), key


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    """Create a customer, with the extras other apps add (the first vehicle). The customer and
    every extra are checked together — one submit shows every error of every part — and saved
    in one service call, so nothing is saved when any part is bad. When the service finds
    likely duplicates (409), they are shown before anything is saved: open the existing record,
    or — when only the name and district match — save a new record anyway (``confirm_new``)."""
    actor = _actor(request)
    _require_model(actor, "add")
    data = request.POST or None
    form = CustomerForm(data, actor=actor)
    extras = [
        (extra, extra.form_class(data, prefix=extra.key)) for extra in create_extras(services.CREATE_TARGET, actor)
    ]
    every_form = [form, *(extra_form for _extra, extra_form in extras)]
    duplicates: list[dict[str, Any]] = []
    strong = False
    address_doubts: list[tuple[str, str]] = []
    address_key = ""
    if request.method == "POST":
        results = [f.is_valid() for f in every_form]  # every form validates, so every error shows
        valid = all(results)
        kwargs = {
            "actor": actor,
            "data": form.service_data(),
            "consultant_id": form.cleaned_data.get("consultant"),
            "advisor_id": form.cleaned_data.get("advisor"),
            "extras": {extra.key: extra_form.cleaned_data for extra, extra_form in extras},
        }
        if valid:
            address_doubts, address_key = _address_doubts(request, actor, form.service_data())
        if valid and address_doubts:
            # Shown with the service's own errors, if any; nothing saved until the user confirms.
            run_service(every_form, services.customer_create_check, **kwargs)
        elif valid:
            customer = run_service(
                every_form, services.customer_create, confirm_new=bool(form.cleaned_data.get("confirm_new")), **kwargs
            )
            if customer is not None:
                messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
                return redirect("customers:customer_detail", pk=customer.pk)
            if isinstance(form.service_error, Conflict):  # type: ignore[attr-defined]
                duplicates = list(getattr(form.service_error, "duplicates", []))  # type: ignore[attr-defined]
                strong = bool(getattr(form.service_error, "strong", True))  # type: ignore[attr-defined]
        else:
            # Some field failed the form's own parsing: still check what did parse, so the
            # service's errors (a bad mobile, a bad VIN) show in the same answer.
            run_service(every_form, services.customer_create_check, **kwargs)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "extras": [{"key": e.key, "template": e.template, "form": f} for e, f in extras],
            "duplicates": duplicates,
            "strong": strong,
            "creating": True,
            "address_doubts": address_doubts,
            "address_key": address_key,
        },
    )


class CustomerEditView(ServiceFormView):
    """Edit a customer; a role that may assign changes the consultant in the same save."""

    form_class = CustomerForm
    template_name = "customers/customer_form.html"

    def setup_view(self, request: HttpRequest, **kwargs: Any) -> None:
        self.customer = _get(self.actor, kwargs["pk"], "change")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"actor": self.actor, "instance": self.customer}

    def call(self, form: Any) -> Customer:
        self.address_doubts, self.address_key = _address_doubts(
            self.request, self.actor, form.service_data(), self.customer
        )
        if self.address_doubts:  # shown on their fields and above the form, until confirmed
            raise ValidationError(_("Check the address."), fields={f: [m] for f, m in self.address_doubts})
        assign = {"consultant_id": form.cleaned_data.get("consultant")} if "consultant" in form.fields else {}
        return services.customer_update(actor=self.actor, customer=self.customer, data=form.service_data(), **assign)

    def success_url(self, result: Customer) -> str:
        return reverse("customers:customer_detail", args=[self.customer.pk])

    def message(self, result: Customer) -> str:
        return _("Customer %(name)s saved.") % {"name": self.customer.name}

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        error = getattr(context["form"], "service_error", None)
        if error is not None:
            self.customer.refresh_from_db()  # the refused save may have set attributes in memory
        duplicates = list(getattr(error, "duplicates", [])) if isinstance(error, Conflict) else []
        return {**context, "customer": self.customer, "duplicates": duplicates, "strong": True, "creating": False,
                "address_doubts": getattr(self, "address_doubts", []), "address_key": getattr(self, "address_key", "")}  # fmt: skip


customer_edit = CustomerEditView.as_view()


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
        field = model_field(Customer, name)
        if field.choices:
            raw = getattr(customer, name)
            value = _choice_labels(name, get_language()).get(raw, raw) if raw else ""
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
        if name == "external_id":  # the keys of records merged into this one, beside its own
            aliases = sorted(customer.external_aliases.values_list("external_id", flat=True))
            if aliases:
                label = CustomerExternalId._meta.verbose_name_plural
                rows.append({"name": "external_id_aliases", "label": label, "value": ", ".join(aliases),
                             "masked": False, "revealable": False})  # fmt: skip
    return rows


@functools.cache
def _choice_labels(name: str, language: str | None) -> dict[Any, str]:
    """A choice field's values → labels in ``language``, built once per process and language:
    Django's ``get_FOO_display()`` hashes every lazy choice of the field (a translation each) on
    every call, which was the largest part of the profile's render."""
    return {value: str(label) for value, label in model_field(Customer, name).flatchoices}


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


def _timeline_context(customer: Customer, page: Any) -> dict[str, Any]:
    more_url = None
    if page.next_cursor:
        more_url = reverse("customers:customer_timeline", args=[customer.pk]) + "?cursor=" + page.next_cursor
    events = [{"event": e, "label": timeline_label(e.kind)} for e in page.items]
    return {"events": events, "timeline_more_url": more_url}


# The parts of the 360 page that are read less often than they cost to render load after the
# first paint (htmx, one URL each, scope checked as the page's: ``_get``). The first paint keeps
# what the user needs first: the name, the profile with its phones masked as the role needs,
# tags, household, vehicles and the page's actions, and the first page of the timeline.
LAZY_PARTS: dict[str, tuple[str, Any]] = {}  # name → (title, context(actor, customer))


def _consent_part(actor: Actor, customer: Customer) -> dict[str, Any]:
    return {"consent_grid": _consent_grid(selectors.consents_in_force(customer=customer))}


def _insights_part(actor: Actor, customer: Customer) -> dict[str, Any]:
    return {
        "slots": [
            ("segment", _("Segment")),
            ("value", _("Customer value")),
            ("churn_risk", _("Churn risk")),
            ("next_best_action", _("Next best action")),
        ]
    }


LAZY_PARTS["consent"] = ("customers/partials/consent_grid.html", _consent_part)
LAZY_PARTS["insights"] = ("customers/partials/insights.html", _insights_part)


def _part_url(customer: Customer, name: str) -> str:
    return reverse(f"customers:customer_{name}_part", args=[customer.pk])


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360 page, read in a bounded number of queries by ``customer_360``; the
    consent grid and the insights load after the first paint (``customer_part``)."""
    actor = _actor(request)
    data = selectors.customer_360(actor=actor, pk=pk, consents=False, timeline_limit=TIMELINE_FIRST)
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
        "panels": panels,
        "can_change": may_change,
        "can_reveal": can(actor, "reveal", customer),
        "parts": {name: _part_url(customer, name) for name in LAZY_PARTS},
        **_timeline_context(customer, data["timeline"]),
    }
    return render(request, "customers/customer_detail.html", context)


def customer_part(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One lazy part of the 360 page: the fragment for htmx, or — the no-JS fallback link — a
    page of its own with a way back. The customer is read exactly as the page reads it."""
    actor = _actor(request)
    customer = _get(actor, pk)
    template, build = LAZY_PARTS[name]
    context = {"customer": customer, "can_change": can(actor, "change", customer), **build(actor, customer)}
    return _part_response(request, template, context)


def _part_response(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The fragment alone for htmx, rendered without the request (the shell's context processors
    and their queries are the page's, not the fragment's); the page around it otherwise."""
    if getattr(request, "htmx", False):
        response = HttpResponse(render_to_string(template, {**context, "csrf_token": get_token(request)}))
    else:
        response = render(request, "customers/customer_part.html", {**context, "part_template": template})
    patch_vary_headers(response, ("HX-Request",))  # one URL, two answers: caches keep them apart
    return response


def _part_view(name: str) -> Any:
    @login_required
    @require_GET
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return customer_part(request, pk, name)

    view.__name__ = view.__qualname__ = f"customer_{name}_part"
    view.__doc__ = f"The 360 page's {name} part (``customer_part``)."
    return view


customer_consent_part = _part_view("consent")
customer_insights_part = _part_view("insights")


@login_required
@require_GET
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of the timeline ("load more", fetched by htmx when it scrolls into view;
    without JavaScript the same link opens it as a page of its own)."""
    actor = _actor(request)
    customer = _get(actor, pk)
    page = selectors.timeline_page(
        actor=actor, customer=customer, limit=TIMELINE_SIZE, cursor=request.GET.get("cursor") or None
    )
    context = {"customer": customer, **_timeline_context(customer, page)}
    if getattr(request, "htmx", False):
        return _part_response(request, "customers/partials/timeline_rows.html", context)
    return _part_response(request, "customers/partials/timeline_part.html", context)


@login_required
@require_POST
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full value of one protected field, written to the access log (``pii.reveal``)."""
    actor = _actor(request)
    customer = _get(actor, pk)
    field = request.POST.get("field", "")
    value = field_reveal(actor=actor, obj=customer, field=field)  # a field that is not protected: 400
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
        run_action(request, services.customer_tag, actor=actor, customer=customer, add=add, remove=remove)
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
    source = str(_("Staff UI"))
    if action == "grant":
        done = run_action(
            request, services.consent_record, actor=actor, customer=customer, purpose=purpose, channel=channel,
            granted=True, source=source,
        )  # fmt: skip
        if done is not REFUSED:
            messages.success(request, _("Consent recorded."))
    else:
        done = run_action(
            request, services.consent_withdraw, actor=actor, customer=customer, purpose=purpose, channel=channel,
            source=source,
        )  # fmt: skip
        if done is not REFUSED:
            messages.success(
                request, _("Consent withdrawn at %(at)s.") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
            )
    return redirect(reverse("customers:customer_detail", args=[customer.pk]) + "#consent")
