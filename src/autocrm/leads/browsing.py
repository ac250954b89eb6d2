"""Browsing events from the website or the mini-program (``POST /api/v1/lead-events``): stored
in ``LeadEvent``, linked to the open lead with the same mobile (blind index) or visitor ID, or
kept until such a lead arrives (:func:`attach_pending`, on ``leads.created``, in the worker). They feed the
lead's behaviour score; three days in a row on one model's configuration page raise a to-do
"invite to negotiate" for the lead's consultant and tell them, once per lead and model."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import identifiers
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.fields import blind_lookup
from autocrm.core.permissions import require_model

from . import notify, scoring
from .choices import OPEN_STATUSES, ActivityKind, PageKind
from .models import Lead, LeadActivity, LeadEvent
from .services import _lead_link, _managers

MAX_EVENTS = 500
_VISITOR = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_FUTURE = dt.timedelta(minutes=10)  # a sender's clock may run a little fast
_PAST = dt.timedelta(days=366)
STREAK_DAYS = 3


@dataclass
class EventsResult:
    created: int = 0
    duplicates: int = 0
    linked: int = 0
    pending: int = 0
    invited: list[tuple[int, str]] = field(default_factory=list)  # (lead id, model)


def _text(errors: dict[str, list[Any]], name: str, value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        errors.setdefault(name, []).append(_("Enter text."))
        return ""
    text = str(value).strip()
    if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        errors.setdefault(name, []).append(_("Text may not contain NUL characters or unpaired surrogates."))
        return ""
    if len(text) > limit:
        errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": limit})
        return ""
    return text


def _moment(errors: dict[str, list[Any]], name: str, value: Any, now: dt.datetime) -> dt.datetime | None:
    if value in (None, ""):
        errors.setdefault(name, []).append(_("Give the time of the event."))
        return None
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date and time such as 2026-11-24T09:30+08:00."))
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if not (now - _PAST <= moment <= now + _FUTURE):
        errors.setdefault(name, []).append(_("Enter a time within the last year, not in the future."))
        return None
    return moment


def _series_names(ids: set[int]) -> dict[int, str]:
    from autocrm.vehicles.models import Series

    return dict(Series.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def events_clean(items: Any, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Validate a batch (every error at once, named ``events.<i>.<field>``; nothing is stored
    when any is wrong): a list of 1–500 events, each with a mobile or a visitor ID, a model (or
    a catalogue ``series`` id that exists), a page kind and the time it happened."""
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list) or not items:
        raise ValidationError(fields={"events": [_("Send one event or a list of events.")]})
    if len(items) > MAX_EVENTS:
        raise ValidationError(fields={"events": [_("At most %(n)s events in one call.") % {"n": MAX_EVENTS}]})
    errors: dict[str, list[Any]] = {}
    out: list[dict[str, Any]] = []
    series_ids: set[int] = set()
    for i, raw in enumerate(items):
        e: dict[str, list[Any]] = {}
        if not isinstance(raw, Mapping):
            errors[f"events.{i}"] = [_("Each event is an object.")]
            continue
        row: dict[str, Any] = {}
        mobile = _text(e, "mobile", raw.get("mobile"), 40)
        if mobile:
            try:
                row["mobile"] = identifiers.normalize_mobile(mobile)
            except ValidationError:
                e.setdefault("mobile", []).append(_("Enter a valid mainland mobile number."))
        visitor = _text(e, "visitor_id", raw.get("visitor_id"), 64)
        if visitor and not _VISITOR.match(visitor):
            e.setdefault("visitor_id", []).append(_("Use letters, digits and _ . : - only."))
        row["visitor_id"] = visitor
        if not mobile and not visitor and "mobile" not in e and "visitor_id" not in e:
            e["mobile"] = [_("Give a mobile number or a visitor ID.")]
        series = raw.get("series")
        if series not in (None, ""):
            if (
                isinstance(series, bool)
                or not isinstance(series, int | str)
                or not str(series).isdigit()
                or not (0 < int(series) < 2**63)
            ):
                e.setdefault("series", []).append(_("Enter the ID of a series of the catalogue."))
            else:
                row["series_id"] = int(series)
                series_ids.add(int(series))
        row["model"] = _text(e, "model", raw.get("model"), 100)
        if not row["model"] and "series_id" not in row and "model" not in e and "series" not in e:
            e["model"] = [_("Name the model (or give its series ID).")]
        page = raw.get("page", raw.get("page_kind"))
        if not isinstance(page, str) or page not in PageKind.values:
            e["page"] = [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(PageKind.values)}]
        row["page"] = page
        row["occurred_at"] = _moment(e, "occurred_at", raw.get("occurred_at"), now)
        row["event_id"] = _text(e, "event_id", raw.get("event_id"), 64)
        for name, messages in e.items():
            errors[f"events.{i}.{name}"] = messages
        out.append(row)
    if not errors and series_ids:
        names = _series_names(series_ids)
        for i, row in enumerate(out):
            sid = row.get("series_id")
            if sid is not None and sid not in names:
                errors[f"events.{i}.series"] = [_("No such series in the catalogue.")]
            elif sid is not None and not row["model"]:
                row["model"] = names[sid][:100]
    if errors:
        raise ValidationError(_("Some events are not valid."), fields=errors)
    return out


def _open_leads(store_id: int, rows: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """The open lead of each mobile and visitor ID of the batch (newest first wins)."""
    by_candidate: dict[str, str] = {}
    for mobile in {r["mobile"] for r in rows if r.get("mobile")}:
        for candidate in blind_lookup(Lead, "mobile_index", mobile)["mobile_index__in"]:
            by_candidate[candidate] = mobile
    by_mobile: dict[str, int] = {}
    by_visitor: dict[str, int] = {}
    base = Lead.objects.filter(store_id=store_id, status__in=list(OPEN_STATUSES))  # scoped: the actor's store
    if by_candidate:
        for pk, index in (
            base.filter(mobile_index__in=list(by_candidate))
            .exclude(mobile_index="")
            .order_by("arrived_at", "id")
            .values_list("pk", "mobile_index")
        ):
            by_mobile[by_candidate[index]] = pk
    visitors = {r["visitor_id"] for r in rows if r.get("visitor_id")}
    if visitors:
        for pk, visitor in (
            base.filter(visitor_id__in=visitors)
            .exclude(visitor_id="")
            .order_by("arrived_at", "id")
            .values_list("pk", "visitor_id")
        ):
            by_visitor[visitor] = pk
    return by_mobile, by_visitor


@transaction.atomic
def lead_events_record(*, actor: Actor, items: Any, now: dt.datetime | None = None) -> EventsResult:
    """Store a batch of browsing events in the actor's store and feed each linked lead's score.
    An ``event_id`` seen before (in this store) is skipped: posting a batch again changes nothing."""
    require_model(actor, "add", LeadEvent)
    store_id = actor.require_store_id()
    now = now or timezone.now()
    rows = events_clean(items, now=now)
    result = EventsResult()
    ids = [r["event_id"] for r in rows if r["event_id"]]
    seen = (
        set(LeadEvent.objects.filter(store_id=store_id, event_id__in=ids).values_list("event_id", flat=True))
        if ids
        else set()
    )  # scoped: the actor's store
    fresh: list[dict[str, Any]] = []
    for row in rows:
        if row["event_id"] and row["event_id"] in seen:
            result.duplicates += 1
            continue
        if row["event_id"]:
            seen.add(row["event_id"])
        fresh.append(row)
    by_mobile, by_visitor = _open_leads(store_id, fresh)
    index_of = Lead._meta.get_field("mobile_index").compute
    made = []
    for row in fresh:
        lead_id = by_mobile.get(row.get("mobile", "")) or by_visitor.get(row["visitor_id"])
        made.append(
            LeadEvent(
                store_id=store_id, lead_id=lead_id, mobile_index=index_of(row["mobile"]) if row.get("mobile") else "",
                visitor_id=row["visitor_id"], series_id=row.get("series_id"), model=row["model"], page=row["page"],
                occurred_at=row["occurred_at"], event_id=row["event_id"],
            )
        )  # fmt: skip
    try:
        with transaction.atomic():
            LeadEvent.objects.bulk_create(made, batch_size=500)
    except IntegrityError:  # the same event_id raced in from another call: skip those one by one
        kept = []
        for event in made:
            try:
                with transaction.atomic():
                    event.save()
                kept.append(event)
            except IntegrityError:
                result.duplicates += 1
        made = kept
    result.created = len(made)
    per_lead: dict[int, list[LeadEvent]] = defaultdict(list)
    for event in made:
        if event.lead_id is not None:
            per_lead[event.lead_id].append(event)
    result.linked = sum(len(v) for v in per_lead.values())
    result.pending = result.created - result.linked
    result.invited = _feed(per_lead, now=now)
    return result


_FIELDS = ["score", "score_reasons", "score_signals", "scored_at", "next_action_at", "follow_up_reminded_at",
           "follow_up_escalated_at", "updated_at"]  # fmt: skip


def _feed(per_lead: dict[int, list[LeadEvent]], *, now: dt.datetime) -> list[tuple[int, str]]:
    """Count each lead's new events, check the three-day trigger, rescore — a few queries for the
    whole batch, not per lead: the leads locked at once (in id order, so two batches never
    deadlock; concurrent batches for one person must not lose a count), the configuration views
    of the batch's (lead, model) pairs read at once, the leads written back in one update."""
    if not per_lead:
        return []
    leads = list(
        Lead.objects.select_for_update().filter(pk__in=sorted(per_lead)).order_by("pk")
    )  # scoped: leads the batch was linked to
    candidates: dict[int, set[str]] = {}
    for lead in leads:
        done = set((lead.score_signals or {}).get("streak", []))
        models = {e.model for e in per_lead[lead.pk] if e.page == PageKind.CONFIG and e.model not in done}
        if models:
            candidates[lead.pk] = models
    days = _config_days(candidates)
    invited: list[tuple[int, str]] = []
    for lead in leads:
        streaks = [m for m in sorted(candidates.get(lead.pk, ())) if _three_in_a_row(days.get((lead.pk, m), set()))]
        scoring.note_views(lead, [(e.model, e.page) for e in per_lead[lead.pk]], streak_models=streaks)
        scoring.apply(lead, now=now)
        lead.updated_at = now
        for model in streaks:
            if _invite(lead, model, now=now):
                invited.append((lead.pk, model))
    Lead.objects.bulk_update(leads, _FIELDS, batch_size=500)
    return invited


def _config_days(candidates: dict[int, set[str]]) -> dict[tuple[int, str], set[dt.date]]:
    """The local days on which each (lead, model) of ``candidates`` had a configuration view."""
    if not candidates:
        return {}
    models = set().union(*candidates.values())
    out: dict[tuple[int, str], set[dt.date]] = {}
    rows = LeadEvent.objects.filter(  # scoped: the batch's own leads
        lead_id__in=list(candidates), model__in=models, page=PageKind.CONFIG
    ).values_list("lead_id", "model", "occurred_at")
    for lead_id, model, at in rows.iterator(chunk_size=5000):
        if model in candidates.get(lead_id, ()):
            out.setdefault((lead_id, model), set()).add(timezone.localdate(at))
    return out


def _three_in_a_row(days: set[dt.date]) -> bool:
    """Three consecutive (local) days among ``days``?"""
    return any(d - dt.timedelta(days=1) in days and d - dt.timedelta(days=2) in days for d in days)


def _invite(lead: Lead, model: str, *, now: dt.datetime) -> bool:
    """The to-do "invite to negotiate" (an activity with today as its next action) and the
    consultant told — once per lead and model (the activity's ``ref``)."""
    ref = f"invite:{model}"[:64]
    if LeadActivity.objects.filter(store_id=lead.store_id, lead=lead, ref=ref).exists():  # scoped: the lead's own
        return False
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=0, microsecond=0)
    note = str(_("Invite to negotiate: viewed the %(model)s configuration three days in a row") % {"model": model})
    LeadActivity.objects.create(store_id=lead.store_id, lead=lead, kind=ActivityKind.TASK, at=now, note=note,
                                next_action_at=end_of_day, ref=ref)  # fmt: skip
    if lead.next_action_at is None or lead.next_action_at > end_of_day:
        lead.next_action_at = end_of_day
        lead.follow_up_reminded_at = lead.follow_up_escalated_at = None
    targets = [lead.consultant_id] if lead.consultant_id else _managers(lead.store_id)
    for uid in targets:
        notify.tell(
            user_id=uid, kind=notify.INVITE, store_id=lead.store_id, link=_lead_link(lead),
            title=_("Invite %(name)s to negotiate: %(model)s configuration viewed three days in a row")
            % {"name": lead.name or lead.pk, "model": model},
            dedup_key=f"lead-invite:{lead.pk}:{model}"[:200],
        )  # fmt: skip
    return True


def attach_pending(*, lead_id: int, now: dt.datetime | None = None) -> int:
    """A new lead arrived: link the events that waited for its mobile or visitor ID (subscriber
    of ``leads.created`` in the worker, after the intake's commit — the intake reads nothing more)."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = (
            Lead.objects.filter(pk=lead_id).only("pk", "store_id", "mobile_index", "visitor_id").first()
        )  # scoped: the new lead
        if lead is None:
            return 0
        pending = LeadEvent.objects.filter(store_id=lead.store_id, lead__isnull=True)  # scoped: the lead's store
        from django.db.models import Q

        # each arm names its partial index's condition, so PostgreSQL can use both (a BitmapOr)
        match = Q(pk__in=[])
        if lead.mobile_index:
            match |= Q(mobile_index=lead.mobile_index) & ~Q(mobile_index="")
        if lead.visitor_id:
            match |= Q(visitor_id=lead.visitor_id) & ~Q(visitor_id="")
        if not (lead.mobile_index or lead.visitor_id):
            return 0
        events = list(pending.filter(match).order_by("occurred_at", "id")[:5000])
        if not events:
            return 0
        LeadEvent.objects.filter(pk__in=[e.pk for e in events]).update(lead_id=lead.pk)  # scoped: rows read above
        for e in events:
            e.lead_id = lead.pk
        _feed({lead.pk: events}, now=now)
        return len(events)


def on_lead_created(event: Any) -> None:
    attach_pending(lead_id=event.payload.lead_id)
