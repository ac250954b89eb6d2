"""Writes of care moments and the car club.

Moments: ``trigger_save`` (a store's setting per kind), ``moments_run`` (the nightly job: every
active trigger finds the customers whose date falls in its window and queues one message each
through messaging's outbox, with an optional gift from the ``care.gifts`` registry) and
``weather_check`` (QWeather alerts for the store's city → driving tips, once per alert id).
Caps, quiet hours, consent and opt-out are the outbox's send-time checks, never ours.

Club: ``event_create``, ``registration_create`` (staff or the signed link; a seat is taken by one
conditional UPDATE, a full event puts the customer on the waitlist), ``registration_cancel``
(the first on the waitlist moves up), ``registration_check_in`` (points for attending through
``care.gifts``) and ``invite_send`` (the signed link through the outbox)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, NotFound, ValidationError
from autocrm.core.permissions import can, require, require_model
from autocrm.customers.models import Customer
from autocrm.messaging.choices import Purpose
from autocrm.tenancy.models import Store
from autocrm.vehicles.models import Vehicle

from . import calendar, gifts, qweather
from .choices import (
    DEFAULT_DAYS_BEFORE,
    DEFAULT_TEMPLATE,
    GREETINGS,
    EventStatus,
    MomentKind,
    RegistrationSource,
    RegistrationStatus,
)
from .models import ClubEvent, ClubRegistration, MomentSend, MomentTrigger, WeatherWarning
from .texts import CLUB_INVITE_TEXT, DEFAULT_TEXT, GIFT_LINE, SEAT_TEXT, TIPS

log = logging.getLogger(__name__)
MAX_DAYS_BEFORE = 90
LINK_SALT = "moments.club-invite"


# --- triggers ------------------------------------------------------------------------------------


def purpose_of(kind: str, gift: str) -> str:
    """Marketing for greetings and for anything carrying a gift; a service notice otherwise."""
    return Purpose.MARKETING if kind in GREETINGS or gift else Purpose.SERVICE


def trigger_default(store_id: int, kind: str) -> MomentTrigger:
    return MomentTrigger(
        store_id=store_id, kind=kind, is_active=False, days_before=DEFAULT_DAYS_BEFORE[MomentKind(kind)],
        template_code=DEFAULT_TEMPLATE[MomentKind(kind)],
    )  # fmt: skip


def triggers_of(store_id: int) -> list[MomentTrigger]:
    """One trigger per kind, in the kinds' order: the saved one, else the default (off)."""
    saved = {t.kind: t for t in MomentTrigger.objects.filter(store_id=store_id)}  # scoped: the caller's store
    return [saved.get(kind) or trigger_default(store_id, kind) for kind in MomentKind.values]


@transaction.atomic
def trigger_save(*, actor: Actor, kind: str, data: Mapping[str, Any]) -> MomentTrigger:
    """Save the actor's store's trigger for ``kind`` (on/off, days before, template, gift, and
    for the weather the store city's "latitude,longitude")."""
    require_model(actor, "change", MomentTrigger)
    store_id = actor.require_store_id()
    if kind not in MomentKind.values:
        raise NotFound()
    errors = inputs.Errors()
    days = inputs.integer(errors, data.get("days_before"), "days_before", 0, MAX_DAYS_BEFORE)
    code = inputs.text(errors, data, "template_code", 60, required=True)
    if code and not gifts.SPEC.fullmatch(code.replace("-", "_").lower()):
        errors.add("template_code", _("Use letters, digits and underscores."))
    gift = inputs.text(errors, data, "gift", 60)
    refusal = gifts.problem(gift, store_id) if gift else None
    if refusal is not None:
        errors.add("gift", refusal)
    location = inputs.text(errors, data, "location", 20)
    if kind == MomentKind.WEATHER and location and qweather.parse_location(location) is None:
        errors.add("location", _("Enter latitude,longitude, for example 30.66,104.07."))
    active = inputs.boolean(data.get("is_active"))
    if kind == MomentKind.WEATHER and active and not location and "location" not in errors.fields:
        errors.add("location", _("The weather moment needs the store city's location."))
    errors.raise_if_any()
    trigger = MomentTrigger.objects.select_for_update().filter(store_id=store_id, kind=kind).first()
    if trigger is None:
        trigger = trigger_default(store_id, kind)
    trigger.is_active = active
    trigger.days_before = days if days is not None else trigger.days_before
    trigger.template_code = code
    trigger.gift = gift
    trigger.location = location if kind == MomentKind.WEATHER else ""
    trigger.save()
    audit.record("moments.trigger_saved", obj=trigger, actor=actor,
                 extra={"kind": kind, "on": active, "days_before": trigger.days_before, "gift": gift})  # fmt: skip
    return trigger


# --- who is due ------------------------------------------------------------------------------------


@dataclass
class Due:
    customer: Customer
    occasion: str
    due_on: dt.date
    vehicle: Vehicle | None = None
    values: dict[str, str] = field(default_factory=dict)


def _window(today: dt.date, days_before: int) -> list[dt.date]:
    return [today + dt.timedelta(days=n) for n in range(days_before + 1)]


def _month_day_q(prefix: str, days: Iterable[dt.date]) -> Q:
    q = Q()
    for day in days:
        q |= Q(**{f"{prefix}__month": day.month, f"{prefix}__day": day.day})
        if day.month == 2 and day.day == 28 and not _leap(day.year):
            q |= Q(**{f"{prefix}__month": 2, f"{prefix}__day": 29})  # 29 February greeted on the 28th
    return q


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _customers(store_id: int, *, greeting: bool) -> Any:
    qs = Customer.objects.filter(store_id=store_id, merged_into__isnull=True)  # scoped: a store's nightly job
    # Marketing to a child under 14 needs a guardian's separate consent (PIPL Art. 31): no greetings.
    return qs.filter(is_minor=False) if greeting else qs


def _plate(vehicle: Vehicle) -> str:
    return vehicle.plate or (vehicle.vin[-6:] if vehicle.vin else "")


def due_birthdays(store_id: int, today: dt.date, days_before: int) -> Iterator[Due]:
    days = _window(today, days_before)
    for c in _customers(store_id, greeting=True).filter(birthday__isnull=False).filter(_month_day_q("birthday", days)):
        assert c.birthday is not None
        on = next((d for d in days if calendar.anniversary(c.birthday, d.year) == d), days[0])
        yield Due(c, str(on.year), on)


def _registered_on(v: Vehicle) -> dt.date | None:
    return v.delivery_date or v.purchase_date


def _vehicles(store_id: int) -> Any:
    return (
        Vehicle.objects.filter(store_id=store_id, customer__isnull=False, customer__merged_into__isnull=True)  # scoped: a store's nightly job
        .select_related("customer")
    )  # fmt: skip


def due_anniversaries(store_id: int, today: dt.date, days_before: int) -> Iterator[Due]:
    days = _window(today, days_before)
    q = Q(delivery_date__isnull=False) & _month_day_q("delivery_date", days)
    q |= Q(delivery_date__isnull=True, purchase_date__isnull=False) & _month_day_q("purchase_date", days)
    for v in _vehicles(store_id).filter(customer__is_minor=False).filter(q):
        start = _registered_on(v)
        assert start is not None and v.customer is not None
        on = next((d for d in days if calendar.anniversary(start, d.year) == d), days[0])
        years = on.year - start.year
        if years < 1:
            continue
        yield Due(v.customer, f"{on.year}:v{v.pk}", on, v, {"years": str(years), "plate": _plate(v)})


def due_holidays(store_id: int, today: dt.date, days_before: int) -> Iterator[Due]:
    for day in _window(today, days_before):
        for holiday in calendar.holidays_on(day):
            name = str(holiday.name)
            with translation.override("zh-hans"):
                name = str(holiday.name)
            for c in _customers(store_id, greeting=True).iterator(chunk_size=500):
                yield Due(c, f"{day.year}-{holiday.code}", day, values={"holiday": name})


def due_licences(store_id: int, today: dt.date, days_before: int) -> Iterator[Due]:
    end = today + dt.timedelta(days=days_before)
    for c in _customers(store_id, greeting=False).filter(licence_expiry__gte=today, licence_expiry__lte=end):
        assert c.licence_expiry is not None
        yield Due(c, c.licence_expiry.isoformat(), c.licence_expiry, values={"date": c.licence_expiry.isoformat()})


def due_insurance(store_id: int, today: dt.date, days_before: int) -> Iterator[Due]:
    end = today + dt.timedelta(days=days_before)
    for v in _vehicles(store_id).filter(insurance_expiry__gte=today, insurance_expiry__lte=end):
        assert v.insurance_expiry is not None and v.customer is not None
        on = v.insurance_expiry
        yield Due(v.customer, f"{on.isoformat()}:v{v.pk}", on, v, {"date": on.isoformat(), "plate": _plate(v)})


def inspection_due_of(v: Vehicle, today: dt.date) -> dt.date | None:
    """The vehicle's next annual inspection: its recorded date when it has one (from the 行驶证),
    else by the rule from its first registration (the delivery date, else the purchase date)."""
    if v.inspection_due is not None and v.inspection_due >= today:
        return v.inspection_due
    start = _registered_on(v)
    return calendar.inspection_due(start, today) if start is not None else None


def due_inspections(store_id: int, today: dt.date, days_before: int) -> Iterator[Due]:
    end = today + dt.timedelta(days=days_before)
    rows = _vehicles(store_id).filter(
        Q(inspection_due__gte=today, inspection_due__lte=end)
        | Q(inspection_due__isnull=True) & (Q(delivery_date__isnull=False) | Q(purchase_date__isnull=False))
    )
    for v in rows.iterator(chunk_size=500):
        on = inspection_due_of(v, today)
        if on is None or not today <= on <= end:
            continue
        assert v.customer is not None
        yield Due(v.customer, f"{on.isoformat()}:v{v.pk}", on, v, {"date": on.isoformat(), "plate": _plate(v)})


FINDERS: dict[str, Callable[[int, dt.date, int], Iterator[Due]]] = {
    MomentKind.BIRTHDAY: due_birthdays,
    MomentKind.ANNIVERSARY: due_anniversaries,
    MomentKind.HOLIDAY: due_holidays,
    MomentKind.LICENCE: due_licences,
    MomentKind.INSPECTION: due_inspections,
    MomentKind.INSURANCE: due_insurance,
}


# --- sending ---------------------------------------------------------------------------------------


def _default_text(kind: str, values: Mapping[str, str]) -> str:
    with translation.override("zh-hans"):
        gift_line = str(GIFT_LINE) % {"gift": values["gift"]} if values.get("gift") else ""
        words = {"name": values.get("customer_name", ""), "store": values.get("store_name", ""),
                 "plate": values.get("plate", ""), "years": values.get("years", ""),
                 "holiday": values.get("holiday", ""), "date": values.get("date", ""),
                 "warning": values.get("warning", ""), "tips": values.get("tips", ""), "gift": gift_line}  # fmt: skip
        return str(DEFAULT_TEXT[MomentKind(kind)]) % words


def moment_send(*, trigger: MomentTrigger, store: Store, due: Due) -> MomentSend | None:
    """Queue one moment to one customer, with its gift, once per (moment, customer, occasion).
    Returns the new log row, None when it was sent before. A gift that fails rolls back the
    whole send (nothing written): the next night tries again while the date is in the window."""
    kind, customer = trigger.kind, due.customer
    if MomentSend.objects.filter(store_id=store.pk, kind=kind, customer=customer, occasion=due.occasion).exists():
        return None
    from autocrm.messaging.services import message_queue

    purpose = purpose_of(kind, trigger.gift)
    try:
        with transaction.atomic():
            row = MomentSend.objects.create(
                store_id=store.pk, kind=kind, occasion=due.occasion, customer=customer, vehicle=due.vehicle,
                due_on=due.due_on, purpose=purpose, gift=trigger.gift,
            )  # fmt: skip
            given = gifts.give(trigger.gift, customer_id=customer.pk, store_id=store.pk) if trigger.gift else ""
            values = {"customer_name": customer.name, "store_name": store.name, "due_date": due.due_on.isoformat(),
                      "gift": given, **due.values}  # fmt: skip
            message = message_queue(
                actor=None, store=store.pk, purpose=purpose, channel=None, template_code=trigger.template_code,
                customer=customer, values=values, idempotency_key=f"moment:{kind}:{customer.pk}:{due.occasion}",
                cause=row, text=_default_text(kind, values),
            )  # fmt: skip
            row.message, row.gift_result = message, given
            row.save(update_fields=["message", "gift_result", "updated_at"])
    except IntegrityError:  # another run sent it a moment ago
        return None
    except Exception:
        log.exception("care moment %s for customer %s failed", kind, customer.pk)
        return None
    return row


def moments_run(*, store_id: int, today: dt.date | None = None) -> dict[str, int]:
    """The nightly job of one store: every active trigger (but the weather's, which follows the
    alerts) sends to the customers due in its window. Safe to run again: once per occasion."""
    today = today or timezone.localdate()
    store = Store.objects.get(pk=store_id)
    sent: dict[str, int] = {}
    for trigger in MomentTrigger.objects.filter(store_id=store_id, is_active=True).exclude(
        kind=MomentKind.WEATHER
    ):  # scoped: the store's job
        finder = FINDERS.get(trigger.kind)
        if finder is None:
            continue
        count = 0
        for due in finder(store_id, today, trigger.days_before):
            if moment_send(trigger=trigger, store=store, due=due) is not None:
                count += 1
        sent[trigger.kind] = count
    return sent


def weather_check(
    *, store_id: int, fetch: Callable[[tuple[str, str]], list[qweather.Alert]] | None = None
) -> list[WeatherWarning]:
    """Ask QWeather for the store city's alerts; each new rain, snow, heat or typhoon alert sends
    driving tips to the store's customers who drive (a service notice: consent is the outbox's
    check), once per alert id. Returns the warnings seen for the first time."""
    trigger = MomentTrigger.objects.filter(
        store_id=store_id, kind=MomentKind.WEATHER, is_active=True
    ).first()  # scoped: the store's job
    location = qweather.parse_location(trigger.location) if trigger is not None else None
    if trigger is None or location is None:
        return []
    if fetch is None:
        creds = qweather.credentials()
        if creds is None:
            return []

        def fetch(loc: tuple[str, str]) -> list[qweather.Alert]:
            assert creds is not None
            return qweather.alerts(creds, loc)

    try:
        found = fetch(location)
    except qweather.WeatherError:
        log.warning("QWeather alerts for store %s could not be read", store_id, exc_info=True)
        return []
    store = Store.objects.get(pk=store_id)
    new = []
    for alert in found:
        hazard = qweather.hazard_of(alert)
        if alert.kind == "cancel":
            continue
        try:
            with transaction.atomic():
                warning = WeatherWarning.objects.create(
                    store_id=store_id, warning_id=alert.id, type_code=alert.type_code, type_name=alert.type_name,
                    severity=alert.severity, title=alert.headline or alert.type_name, text=alert.description,
                    published_at=alert.issued_at, hazard=hazard,
                )  # fmt: skip
        except IntegrityError:
            continue  # seen before
        new.append(warning)
        if not hazard:
            continue
        with translation.override("zh-hans"):
            tips = str(TIPS[hazard])
        told = 0
        for vehicle_owner in (
            _customers(store_id, greeting=False).filter(vehicles__isnull=False).distinct().iterator(chunk_size=500)
        ):
            due = Due(vehicle_owner, f"w:{alert.id}"[:60], timezone.localdate(),
                      values={"warning": warning.title, "tips": tips})  # fmt: skip
            if moment_send(trigger=trigger, store=store, due=due) is not None:
                told += 1
        WeatherWarning.objects.filter(pk=warning.pk).update(recipients=told)
        warning.recipients = told
    return new


# --- the car club --------------------------------------------------------------------------------


def _event_clean(data: Mapping[str, Any], errors: inputs.Errors) -> dict[str, Any]:
    title = inputs.text(errors, data, "title", 100, required=True)
    place = inputs.text(errors, data, "place", 200, required=True)
    description = inputs.text(errors, data, "description", 2000)
    starts = inputs.aware(errors, data.get("starts_at"), "starts_at")
    ends = inputs.aware(errors, data.get("ends_at"), "ends_at", required=False)
    capacity = inputs.integer(errors, data.get("capacity"), "capacity", 1, 10000)
    if capacity is None and "capacity" not in errors.fields:
        errors.add("capacity", _("This field is required."))
    points = inputs.integer(errors, data.get("points"), "points", 0, 100000)
    if starts is not None and starts < timezone.now():
        errors.add("starts_at", _("The event must start in the future."))
    if starts is not None and ends is not None and ends <= starts:
        errors.add("ends_at", _("The end must be after the start."))
    gift = f"points:{points}" if points else ""
    if gift and gifts.giver(gift) is None:
        errors.add("points", _("Points cannot be given yet: no points giver is registered."))
    return {"title": title, "place": place, "description": description, "starts_at": starts, "ends_at": ends,
            "capacity": capacity, "attend_gift": gift}  # fmt: skip


@transaction.atomic
def event_create(*, actor: Actor, data: Mapping[str, Any]) -> ClubEvent:
    require_model(actor, "add", ClubEvent)
    errors = inputs.Errors()
    fields = _event_clean(data, errors)
    errors.raise_if_any()
    event = ClubEvent.objects.create(store_id=actor.require_store_id(), created_by=actor.user, **fields)
    audit.record("club.event_created", obj=event, actor=actor, extra={"title": event.title})
    return event


def _seat_take(event_id: int) -> bool:
    """Take one seat if one is free: one conditional UPDATE, so of two registrations for the last
    seat exactly one wins (the other waits in the row lock and then sees it full)."""
    return bool(
        ClubEvent.objects.filter(pk=event_id, seats_taken__lt=F("capacity")).update(seats_taken=F("seats_taken") + 1)
    )


def _open_for_registration(event: ClubEvent) -> None:
    if event.status != EventStatus.OPEN:
        raise Conflict(_("The event was cancelled."), fields={"event": [_("The event was cancelled.")]})
    if event.starts_at <= timezone.now():
        raise Conflict(_("The event has started: registration is closed."),
                       fields={"event": [_("The event has started: registration is closed.")]})  # fmt: skip


def _register(event: ClubEvent, customer: Customer, source: str) -> tuple[ClubRegistration, bool]:
    """(registration, created). An active registration is returned as it is."""
    if customer.store_id != event.store_id:
        raise ValidationError(fields={"customer": [_("The customer belongs to another store.")]})
    _open_for_registration(event)
    existing = ClubRegistration.objects.select_for_update().filter(event=event, customer=customer).first()
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        return existing, False
    status = RegistrationStatus.REGISTERED if _seat_take(event.pk) else RegistrationStatus.WAITLISTED
    if existing is not None:
        existing.status, existing.source, existing.attended_at = status, source, None
        existing.save(update_fields=["status", "source", "attended_at", "updated_at"])
        return existing, True
    try:
        with transaction.atomic():
            row = ClubRegistration.objects.create(
                store_id=event.store_id, event=event, customer=customer, status=status, source=source
            )
    except IntegrityError:  # the same customer twice at once: the first row stands, give the seat back
        if status == RegistrationStatus.REGISTERED:
            ClubEvent.objects.filter(pk=event.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
        return ClubRegistration.objects.get(event=event, customer=customer), False
    return row, True


@transaction.atomic
def registration_create(*, actor: Actor, event: ClubEvent, customer_id: Any) -> ClubRegistration:
    """Staff register a customer they may see: a seat, or the waitlist when the event is full.
    The same customer twice is a 409 naming the customer."""
    require(actor, "change", event)
    errors = inputs.Errors()
    pk = inputs.integer(errors, customer_id, "customer", 1, inputs.ID_MAX)
    if pk is None and "customer" not in errors.fields:
        errors.add("customer", _("This field is required."))
    errors.raise_if_any()
    customer = Customer.objects.for_actor(actor).filter(pk=pk or 0, store_id=event.store_id).first()
    if customer is None:
        raise ValidationError(fields={"customer": [_("No such customer in this store.")]})
    row, created = _register(event, customer, RegistrationSource.STAFF)
    if not created:
        raise Conflict(_("The customer is already registered."), fields={"customer": [_("Already registered.")]})
    audit.record("club.registered", obj=row, actor=actor, extra={"event": event.pk, "status": row.status})
    return row


@transaction.atomic
def registration_by_link(*, token: str) -> ClubRegistration:
    """The customer's own registration through the signed link of their invitation (no login):
    the link names the event and the customer and is valid until the event starts."""
    event, customer = link_read(token)
    row, created = _register(event, customer, RegistrationSource.LINK)
    if created:
        audit.record("club.registered", obj=row, actor=None, store_id=event.store_id,
                     extra={"event": event.pk, "status": row.status, "by": "link"})  # fmt: skip
    return row


def registration_of_link(*, event: ClubEvent, customer: Customer) -> ClubRegistration | None:
    """The registration the link's customer holds (for the sign-up page after a POST)."""
    return ClubRegistration.objects.filter(event=event, customer=customer).first()  # scoped: the signed link names both


def _promote(event_id: int) -> ClubRegistration | None:
    """Move the first on the waitlist up if a seat is free."""
    nxt = (
        ClubRegistration.objects.select_for_update()
        .filter(event_id=event_id, status=RegistrationStatus.WAITLISTED)
        .select_related("event", "customer")
        .order_by("id")
        .first()
    )
    if nxt is None or not _seat_take(event_id):
        return None
    nxt.status = RegistrationStatus.REGISTERED
    nxt.save(update_fields=["status", "updated_at"])
    _tell_seated(nxt)
    return nxt


def _tell_seated(row: ClubRegistration) -> None:
    """Tell a customer moved up from the waitlist that they have a seat (a service notice about
    their own booking, once per registration)."""
    from autocrm.messaging.services import message_queue

    event, customer = row.event, row.customer
    when = timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M")
    with translation.override("zh-hans"):
        text = str(SEAT_TEXT) % {"name": customer.name, "event": event.title, "time": when, "place": event.place}
    message_queue(
        actor=None, store=event.store_id, purpose=Purpose.SERVICE, channel=None, template_code="club_seat",
        customer=customer, idempotency_key=f"club-seat:{row.pk}", cause=event, text=text,
        values={"customer_name": customer.name, "event_title": event.title, "event_time": when,
                "event_place": event.place},
    )  # fmt: skip


@transaction.atomic
def registration_cancel(*, actor: Actor, registration: ClubRegistration) -> ClubRegistration:
    require(actor, "change", registration.event)
    row = ClubRegistration.objects.select_for_update().get(pk=registration.pk)
    if row.status == RegistrationStatus.CANCELLED:
        return row
    if row.attended_at is not None:
        raise Conflict(_("The customer has checked in."), fields={"registration": [_("Already checked in.")]})
    was_seated = row.status == RegistrationStatus.REGISTERED
    row.status = RegistrationStatus.CANCELLED
    row.save(update_fields=["status", "updated_at"])
    if was_seated:
        ClubEvent.objects.filter(pk=row.event_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
        _promote(row.event_id)
    audit.record("club.cancelled", obj=row, actor=actor, extra={"event": row.event_id})
    return row


CHECK_IN_EARLY = dt.timedelta(hours=3)


@transaction.atomic
def registration_check_in(*, actor: Actor, registration: ClubRegistration) -> ClubRegistration:
    """Check a registered customer in at the event (from 3 hours before it starts); the event's
    gift for attending (``points:<n>``) is given once, through ``care.gifts``."""
    require(actor, "change", registration.event)
    row = ClubRegistration.objects.select_for_update().select_related("event").get(pk=registration.pk)
    if row.attended_at is not None:
        return row
    if row.status != RegistrationStatus.REGISTERED:
        raise Conflict(_("Only a registered customer can check in."),
                       fields={"registration": [_("Not registered for a seat.")]})  # fmt: skip
    if timezone.now() < row.event.starts_at - CHECK_IN_EARLY:
        raise Conflict(_("Check-in opens 3 hours before the event."),
                       fields={"registration": [_("Check-in has not opened yet.")]})  # fmt: skip
    row.attended_at = timezone.now()
    if row.event.attend_gift:
        row.gift_result = gifts.give(row.event.attend_gift, customer_id=row.customer_id, store_id=row.store_id)
    row.save(update_fields=["attended_at", "gift_result", "updated_at"])
    audit.record("club.checked_in", obj=row, actor=actor, extra={"event": row.event_id, "gift": row.gift_result})
    return row


def link_token(event: ClubEvent, customer: Customer) -> str:
    return signing.dumps({"e": event.pk, "c": customer.pk}, salt=LINK_SALT, compress=True)


def link_read(token: str) -> tuple[ClubEvent, Customer]:
    """The event and customer a link names; a forged, altered or stale link is a 404."""
    if not token or len(token) > 300:
        raise NotFound()
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=dt.timedelta(days=120))
        event_id, customer_id = int(data["e"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound() from None
    event = ClubEvent.objects.filter(pk=event_id).first()  # scoped: the signed link names it
    customer = Customer.objects.filter(
        pk=customer_id, merged_into__isnull=True
    ).first()  # scoped: the signed link names it
    if event is None or customer is None or customer.store_id != event.store_id:
        raise NotFound()
    return event, customer


def _public_base() -> str:
    return str(getattr(settings, "AUTOCRM_PUBLIC_URL", "") or "").rstrip("/")


@transaction.atomic
def invite_send(*, actor: Actor, event: ClubEvent, customer_id: Any) -> Any:
    """Send a customer the event's invitation with their own signed sign-up link, through the
    outbox (marketing: an invitation to an event needs the customer's marketing consent)."""
    from autocrm.messaging.models import Message

    require(actor, "change", event)
    require_model(actor, "send_marketing", Message)
    _open_for_registration(event)
    errors = inputs.Errors()
    pk = inputs.integer(errors, customer_id, "customer", 1, inputs.ID_MAX)
    if pk is None and "customer" not in errors.fields:
        errors.add("customer", _("This field is required."))
    errors.raise_if_any()
    customer = Customer.objects.for_actor(actor).filter(pk=pk or 0, store_id=event.store_id).first()
    if customer is None:
        raise ValidationError(fields={"customer": [_("No such customer in this store.")]})
    from autocrm.messaging.services import message_queue

    link = _public_base() + reverse("moments_public:club_join", args=[link_token(event, customer)])
    when = timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M")
    values = {"customer_name": customer.name, "event_title": event.title, "event_time": when,
              "event_place": event.place, "link": link}  # fmt: skip
    with translation.override("zh-hans"):
        text = str(CLUB_INVITE_TEXT) % {"name": customer.name, "event": event.title, "time": when,
                                            "place": event.place, "link": link}  # fmt: skip
    message = message_queue(
        actor=actor, store=event.store_id, purpose=Purpose.MARKETING, channel=None, template_code="club_invite",
        customer=customer, values=values, idempotency_key=f"club-invite:{event.pk}:{customer.pk}", cause=event,
        text=text,
    )  # fmt: skip
    audit.record("club.invited", obj=event, actor=actor, extra={"customer": customer.pk})
    return message


def can_manage(actor: Actor, event: ClubEvent) -> bool:
    return can(actor, "change", event)
