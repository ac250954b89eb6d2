"""Pages of care moments (the settings per store, the log of what was sent) and the car club
(events, registrations, check-in, invitations, and the customer's signed sign-up page)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.forms import REFUSED, run_action, run_service
from autocrm.core.permissions import can, require_model
from autocrm.messaging.models import Message
from autocrm.tenancy.selectors import store_names

from . import calendar, gifts, selectors, services
from .choices import EventStatus, MomentKind, RegistrationSource, RegistrationStatus
from .forms import CustomerPickForm, EventForm, TriggerForm
from .models import ClubEvent, MomentTrigger, WeatherWarning

PAGE_SIZE = 50


def _kind_labels() -> dict[str, str]:
    return {k: str(v) for k, v in MomentKind.choices}


@login_required
@require_http_methods(["GET", "POST"])
def moment_settings(request: HttpRequest) -> HttpResponse:
    """The store's care moment triggers, one card each (the store manager edits them)."""
    actor = actor_of(request)
    require_model(actor, "view", MomentTrigger)
    store_id = actor.require_store_id()
    editable = can(actor, "change", MomentTrigger)
    posted_kind = request.POST.get("kind", "") if request.method == "POST" else ""
    cards = []
    labels = _kind_labels()
    for trigger in services.triggers_of(store_id):
        weather = trigger.kind == MomentKind.WEATHER
        initial = {"is_active": trigger.is_active, "days_before": trigger.days_before,
                   "template_code": trigger.template_code, "gift": trigger.gift, "location": trigger.location}  # fmt: skip
        bound = posted_kind == trigger.kind
        form = TriggerForm(request.POST if bound else None, initial=initial, prefix=trigger.kind, weather=weather,
                           store_id=store_id)  # fmt: skip
        if bound and editable and form.is_valid():
            saved = run_service(form, services.trigger_save, actor=actor, kind=trigger.kind, data=form.cleaned_data)
            if saved is not None:
                messages.success(request, _("Saved."))
                return redirect("moments:moment_settings")
        elif bound and not editable:
            require_model(actor, "change", MomentTrigger)
        cards.append({"trigger": trigger, "form": form, "label": labels[trigger.kind],
                      "purpose": services.purpose_of(trigger.kind, trigger.gift)})  # fmt: skip
    holidays = [(str(h.name), h.dates) for h in calendar.HOLIDAYS]
    return render(request, "moments/settings.html", {
        "cards": cards, "editable": editable, "holidays": holidays, "has_gifts": bool(gifts.options(store_id)),
        "inspection_ages": calendar.inspection_ages(),
    })  # fmt: skip


@login_required
@require_GET
def moment_log(request: HttpRequest) -> HttpResponse:
    """What the store's moments sent to whom, newest first, with the outbox's status."""
    actor = actor_of(request)
    kind = request.GET.get("kind", "")
    if kind and kind not in MomentKind.values:
        kind = ""
    page = selectors.send_page(actor=actor, kind=kind, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    warnings = selectors.warnings_recent(actor=actor) if can(actor, "view", WeatherWarning) else []
    labels = _kind_labels()
    stores = store_names(actor=actor, ids={r.store_id for r in page.items})
    rows = [{"r": r, "kind": labels.get(r.kind, r.kind), "store": stores.get(r.store_id, "")} for r in page.items]
    return render(request, "moments/log.html", {
        "rows": rows, "next_cursor": page.next_cursor, "kind": kind, "kinds": MomentKind.choices,
        "warnings": warnings, "can_settings": can(actor, "view", MomentTrigger),
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def event_list(request: HttpRequest) -> HttpResponse:
    """The store's club events (newest first) and, for those who may, the form for a new one."""
    actor = actor_of(request)
    require_model(actor, "view", ClubEvent)
    may_add = can(actor, "add", ClubEvent)
    form = EventForm(request.POST or None) if may_add else None
    if request.method == "POST":
        require_model(actor, "add", ClubEvent)
        assert form is not None
        if form.is_valid():
            event = run_service(form, services.event_create, actor=actor, data=form.cleaned_data)
            if event is not None:
                messages.success(request, _("Event created."))
                return redirect("moments:event_detail", event.pk)
    page = selectors.event_page(actor=actor, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    return render(request, "moments/event_list.html", {
        "events": page.items, "next_cursor": page.next_cursor, "form": form, "now": timezone.now(),
        "stores": store_names(actor=actor, ids={e.store_id for e in page.items}),
    })  # fmt: skip


def _event_context(actor: Any, event: ClubEvent, pick: CustomerPickForm) -> dict[str, Any]:
    rows = selectors.registrations_of(event=event)
    return {
        "event": event, "rows": rows, "pick": pick, "may_change": can(actor, "change", event),
        "may_invite": can(actor, "send_marketing", Message),
        "seated": sum(1 for r in rows if r.status == RegistrationStatus.REGISTERED),
        "waiting": sum(1 for r in rows if r.status == RegistrationStatus.WAITLISTED),
        "attended": sum(1 for r in rows if r.attended_at is not None),
        "status_labels": dict(RegistrationStatus.choices), "source_labels": dict(RegistrationSource.choices),
        "is_open": event.status == EventStatus.OPEN and event.starts_at > timezone.now(),
    }  # fmt: skip


@login_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    event = selectors.event_get(actor=actor, pk=pk)
    return render(request, "moments/event_detail.html", _event_context(actor, event, CustomerPickForm()))


@login_required
@require_POST
def event_register(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff register a customer (by the customer's id) or, with ``invite``, send them the link."""
    actor = actor_of(request)
    event = selectors.event_get(actor=actor, pk=pk, action="change")
    pick = CustomerPickForm(request.POST)
    if pick.is_valid():
        if request.POST.get("invite"):
            sent = run_service(pick, services.invite_send, actor=actor, event=event,
                               customer_id=pick.cleaned_data["customer"])  # fmt: skip
            if sent is not None:
                messages.success(request, _("Invitation queued."))
                return redirect("moments:event_detail", event.pk)
        else:
            row = run_service(pick, services.registration_create, actor=actor, event=event,
                              customer_id=pick.cleaned_data["customer"])  # fmt: skip
            if row is not None:
                if row.status == RegistrationStatus.WAITLISTED:
                    messages.warning(request, _("The event is full: the customer is on the waitlist."))
                else:
                    messages.success(request, _("Registered."))
                return redirect("moments:event_detail", event.pk)
    return render(request, "moments/event_detail.html", _event_context(actor, event, pick), status=200)


@login_required
@require_POST
def registration_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    row = selectors.registration_get(actor=actor, pk=pk)
    if run_action(request, services.registration_check_in, actor=actor, registration=row) is not REFUSED:
        messages.success(request, _("Checked in."))
    return redirect("moments:event_detail", row.event_id)


@login_required
@require_POST
def registration_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    row = selectors.registration_get(actor=actor, pk=pk)
    if run_action(request, services.registration_cancel, actor=actor, registration=row) is not REFUSED:
        messages.success(request, _("Registration cancelled."))
    return redirect("moments:event_detail", row.event_id)


@require_http_methods(["GET", "POST"])
def club_join(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's sign-up page from their invitation (no login; the signed link names the
    event and the customer). A forged or stale link is the 404 page."""
    event, customer = services.link_read(token)
    if request.method == "POST" and run_action(request, services.registration_by_link, token=token) is not REFUSED:
        return redirect("moments_public:club_join", token)
    registration = services.registration_of_link(event=event, customer=customer)
    return render(request, "moments/club_join.html", {
        "event": event, "name": customer.name, "registration": registration,
        "status_labels": dict(RegistrationStatus.choices),
        "full": event.seats_taken >= event.capacity, "url": reverse("moments_public:club_join", args=[token]),
    })  # fmt: skip
