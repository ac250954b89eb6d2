"""Writes of leads: intake with de-duplication on arrival and assignment, reassignment,
activities, lost requests, and the follow-up sweep. Every function is keyword-only, atomic,
checks the actor's rights and leaves an audit trail; notifications are written in the same
transaction (messaging delivers them after the commit)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core import audit, identifiers, uploads
from autocrm.core.actor import Actor
from autocrm.core.business_hours import add_business_minutes
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.core.events import emit
from autocrm.core.fields import blind_lookup
from autocrm.core.permissions import can, require, require_model
from autocrm.core.roles import CONSULTANT_ROLES, ESCALATION_LADDER, Role

from . import events, notify, routing, scoring
from .choices import (
    CONTACT_KINDS,
    OPEN_STATUSES,
    ActivityKind,
    ActivityOutcome,
    DutyStatus,
    Grade,
    LeadSource,
    LeadStatus,
    LostRequestStatus,
    MobileFlag,
    RecordKind,
)
from .models import ConsultantDuty, ConversationRecord, Lead, LeadActivity, LeadSettings, LostRequest
from .notify import tell

TEXT_FIELDS = (
    "name",
    "campaign",
    "external_id",
    "model_interest",
    "brand_interest",
    "message",
    "visitor_id",
    "referral_code",
)
_MAX = {f.name: f.max_length for f in Lead._meta.concrete_fields if getattr(f, "max_length", None)}
_MESSAGE_MAX = 4000
# 空号 patterns: numbers platforms and bots fill in when a person will not give theirs.
_EMPTY_PATTERNS = (
    re.compile(r"^1\d(\d)\1{7,}$"),  # 13800000000, 13999999999
    re.compile(r"^1\d{2}(\d{4})\1$"),  # 13812341234
)


def _text(name: str, value: Any, errors: dict[str, list[Any]], limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors.setdefault(name, []).append(_("Enter text."))
        return ""
    text = str(value).strip()
    if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        errors.setdefault(name, []).append(_("Text may not contain NUL characters or unpaired surrogates."))
        return ""
    limit = limit or _MAX.get(name)
    if limit is not None and len(text) > limit:
        errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": limit})
        return ""
    return text


def mobile_check(raw: str) -> tuple[str, str]:
    """``(stored mobile, flag)``: a valid number in E.164 with no flag, or an empty-number
    pattern (空号) / an invalid number kept as typed (digits) with its flag. Never refuses."""
    from autocrm.core.normalize import normalize_mobile

    try:
        e164 = identifiers.normalize_mobile(raw)
    except ValidationError:
        digits = normalize_mobile(raw)[:20]
        return (digits or raw.strip()[:20]), MobileFlag.INVALID
    national = e164[3:]
    if any(p.match(national) for p in _EMPTY_PATTERNS):
        return e164, MobileFlag.EMPTY_NUMBER
    return e164, MobileFlag.OK


def lead_clean(data: Mapping[str, Any], *, source: str = "") -> dict[str, Any]:
    """Validate and normalise the fields of a new lead (every error at once, each naming its
    field). A lead needs a way to reach the person: no mobile → 400 on ``mobile``. A doubtful
    number is flagged (``mobile_flag``), not refused."""
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in data:
            out[name] = _text(name, data[name], errors, _MESSAGE_MAX if name == "message" else None)
    raw_mobile = _text("mobile", data.get("mobile"), errors, 40)
    if not raw_mobile and "mobile" not in errors:
        errors["mobile"] = [_("Give a mobile number: a lead needs a way to reach the person.")]
    elif raw_mobile:
        out["mobile"], out["mobile_flag"] = mobile_check(raw_mobile)
    channel = _text("source_channel", data.get("source_channel") or source or LeadSource.OTHER, errors, 20)
    if channel and channel not in LeadSource.values:
        errors.setdefault("source_channel", []).append(_("Choose one of the listed values."))
    out["source_channel"] = channel
    grade = _text("grade", data.get("grade"), errors, 1).upper()
    if grade not in Grade.values:
        errors.setdefault("grade", []).append(_("Choose one of the listed values."))
    out["grade"] = grade
    out["marketing_consent"] = bool(data.get("marketing_consent") is True)
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    return out


_CACHE_SECONDS = 30.0
_settings_cache: dict[int, tuple[float, LeadSettings, str]] = {}


def _store_rules(store_id: int) -> tuple[LeadSettings, str]:
    """The store's lead settings and opening hours, read at most every 30 seconds per process (the
    intake path reads them for every lead); a change applies within that time."""
    hit = _settings_cache.get(store_id)
    clock = time.monotonic()
    if hit is not None and clock - hit[0] < _CACHE_SECONDS:
        return hit[1], hit[2]
    # A read: the defaults stand in for a store that never saved its settings (no row is created).
    found = LeadSettings.objects.filter(store_id=store_id).first() or LeadSettings(
        store_id=store_id
    )  # scoped: one store's settings
    hours = _opening_hours(store_id)
    _settings_cache[store_id] = (clock, found, hours)
    return found, hours


def rules_changed(store_id: int | None = None) -> None:
    """Forget the cached rules (after a change of the settings or opening hours, and in tests)."""
    if store_id is None:
        _settings_cache.clear()
    else:
        _settings_cache.pop(store_id, None)
    routing.forget(store_id)


def lead_settings_for(store_id: int) -> LeadSettings:
    """The store's lead rules (created with the defaults on first use)."""
    found = LeadSettings.objects.filter(store_id=store_id).first()  # scoped: one store's own settings row
    if found is None:
        try:
            with transaction.atomic():
                found = LeadSettings.objects.create(store_id=store_id)
        except IntegrityError:
            found = LeadSettings.objects.get(store_id=store_id)  # scoped: created by a concurrent call
    return found


def _opening_hours(store_id: int) -> str:
    from autocrm.tenancy.models import Store

    return Store.objects.filter(pk=store_id).values_list("opening_hours", flat=True).first() or ""


def first_contact_due(*, store_id: int, start: dt.datetime, settings: LeadSettings | None = None) -> dt.datetime:
    """When the first contact of a lead assigned at ``start`` is due: the store's target in
    minutes of opening hours (``core.business_hours``)."""
    cached, hours = _store_rules(store_id)
    return add_business_minutes(start, (settings or cached).first_contact_minutes, hours)


def _managers(store_id: int, *, step: int = 1) -> list[int]:
    """The store's people at ``step`` of the sales escalation ladder (1: sales managers), falling
    back to the next step up when nobody holds the role, so an escalation always reaches someone."""
    ladder = ESCALATION_LADDER["sales"]
    for role in ladder[step:]:
        ids = list(
            Membership.objects.filter(store_id=store_id, role=role, is_active=True)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        if ids:
            return ids
    return []


def _lead_link(lead: Lead) -> str:
    try:
        return reverse("leads:lead_detail", args=[lead.pk])
    except Exception:  # the pages are optional to this module's writes
        return ""


def _consultant_ok(store_id: int, user_id: int) -> bool:
    return Membership.objects.filter(
        user_id=user_id, store_id=store_id, role__in=list(CONSULTANT_ROLES), is_active=True
    ).exists()


# --- assignment ---------------------------------------------------------------------------------


def _pick_consultant(
    *, store_id: int, lead: Lead, now: dt.datetime, preferred_id: int | None, ranking: list[int] | None = None
) -> int | None:
    """Choose who gets ``lead`` by the store's rules and book it on their duty row: the returning
    owner's consultant when on duty; else round robin (lowest ``turn``) among on-duty consultants
    under their daily capacity, those whose specialities match the lead's brand/model first, then
    those without specialities, then anyone on duty. None when nobody can take it.

    Only the chosen consultant's row is booked, by one conditional UPDATE (:func:`_book`),
    skipping it when another intake holds it (that one is booking the consultant: the next in the
    round is taken instead); a row found full or off is not touched. An intake thus holds at most
    one duty row and waits on none — concurrent intakes neither block each other nor deadlock, and
    a capacity's last slot is never taken twice. When every candidate is held, the best one is
    waited for. ``ranking`` (a hot lead: the best converters first) goes before the round."""
    today = timezone.localdate(now)
    duties = _duties_on(store_id)
    if not duties:
        return None
    top = max(d.turn for d in duties)
    skipped: set[int] = set()
    full: set[int] = set()
    for _attempt in range(2 * len(duties) + 2):  # each row may be skipped once, then waited for once
        left = [d for d in duties if d.pk not in full]
        own = next((d for d in left if d.user_id == preferred_id), None) if preferred_id is not None else None
        chosen, capped = _choose([d for d in left if d.pk not in skipped], lead, today, preferred_id, ranking)
        wait = False
        if own is not None and own.pk in skipped:
            chosen, capped, wait = own, False, True  # their own consultant is being booked right now: wait for them
        elif chosen is None:
            chosen, capped = _choose(left, lead, today, preferred_id, ranking)  # every candidate is held: wait
            if chosen is None:
                return None
            wait = True
        booked = _book(chosen.pk, today=today, now=now, top=top, capped=capped, wait=wait)
        if booked is True:
            return chosen.user_id
        (skipped if booked is None else full).add(chosen.pk)
    return None


_DUTY_COLUMNS = ("id", "store_id", "user_id", "status", "daily_capacity", "specialities", "turn", "assigned_on",
                 "assigned_today")  # fmt: skip
_DUTIES_SQL: dict[str, str] = {}


@dataclass(slots=True)
class DutyRow:
    """What the assignment rules read of an on-duty row (a plain row: no model instance per
    consultant per lead — a store of 20 consultants made 20 instances on every intake)."""

    pk: int
    store_id: int
    user_id: int
    status: str
    daily_capacity: int
    specialities: str
    turn: int
    assigned_on: dt.date | None
    assigned_today: int
    _specialities: list[str] | None = None

    def speciality_list(self) -> list[str]:
        if self._specialities is None:
            self._specialities = [
                s.strip().lower() for s in self.specialities.replace("，", ",").split(",") if s.strip()
            ]
        return self._specialities


def _duties_on(store_id: int) -> list[DutyRow]:
    """The store's on-duty rows of active consultants, lowest turn first, with the columns the
    rules read (round robin, capacity, specialities). One raw read, its text made once per
    database: built by the ORM (a membership subquery) it was the intake's costliest statement
    to compile."""
    sql = _DUTIES_SQL.get(connection.vendor)
    if sql is None:
        q = connection.ops.quote_name
        members = q(Membership._meta.db_table)
        roles = ", ".join(["%s"] * len(CONSULTANT_ROLES))
        sql = _DUTIES_SQL[connection.vendor] = (
            f"SELECT {', '.join(q(c) for c in _DUTY_COLUMNS)} FROM {q(ConsultantDuty._meta.db_table)} "
            f"WHERE store_id = %s AND status = %s AND user_id IN (SELECT user_id FROM {members} "
            f"WHERE store_id = %s AND role IN ({roles}) AND is_active) ORDER BY turn, id"
        )
    params: list[Any] = [store_id, DutyStatus.ON_DUTY.value, store_id, *(r.value for r in CONSULTANT_ROLES)]
    with connection.cursor() as cursor:  # scoped: the intake's own store
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for pk, store, user, status, capacity, specialities, turn, day, today in rows:
        if day is not None and not isinstance(day, dt.date):
            day = dt.date.fromisoformat(str(day))  # SQLite hands a date column's text back
        out.append(DutyRow(pk, store, user, status, int(capacity), specialities or "", int(turn), day, int(today)))
    return out


def _book(pk: int, *, today: dt.date, now: dt.datetime, top: int, capped: bool, wait: bool) -> bool | None:
    """Book one duty row in one conditional UPDATE: True booked; otherwise, with ``wait`` False
    or the row full or off. Without ``wait`` the row is taken only when no other intake holds it
    (``FOR UPDATE SKIP LOCKED`` in the subquery); with it, after that intake's commit, the
    conditions read again. The capacity is checked on the row as it is then, so a last slot is
    never taken twice, and a row found full is never locked.

    The statement is written out (:func:`_book_sql`, one text per shape and database) rather than
    built by the ORM on every lead: its compiling was a third of the booking's CPU."""
    ops = connection.ops
    day, at = ops.adapt_datefield_value(today), ops.adapt_datetimefield_value(now)
    ready: list[Any] = [pk, DutyStatus.ON_DUTY.value] + ([day] if capped else [])
    params: list[Any] = [top, at, day, day, *ready, *(ready if not wait else [])]
    with connection.cursor() as cursor:
        cursor.execute(_book_sql(capped=capped, wait=wait), params)
        done = cursor.rowcount
    if done:
        return True
    return False if wait else None


_BOOK_SQL: dict[tuple[str, bool, bool], str] = {}


def _book_sql(*, capped: bool, wait: bool) -> str:
    """The booking's UPDATE for this shape: the row on duty (and, ``capped``, under its capacity
    today) — conditions that stand on the UPDATE itself too, so PostgreSQL checks them again on
    the row as another intake left it when this one had to wait — and, without ``wait``, only
    when no other intake holds it (``FOR UPDATE SKIP LOCKED``; SQLite writes one transaction at a
    time and has no row locks)."""
    key = (connection.vendor, capped, wait)
    sql = _BOOK_SQL.get(key)
    if sql is None:
        table = connection.ops.quote_name(ConsultantDuty._meta.db_table)
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
        ready = "id = %s AND status = %s"
        if capped:
            ready += " AND (assigned_on IS NULL OR assigned_on <> %s OR assigned_today < daily_capacity)"
        where = ready
        if not wait:
            lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
            where += f" AND id IN (SELECT id FROM {table} WHERE {ready}{lock})"
        sql = _BOOK_SQL[key] = (
            f"UPDATE {table} SET turn = {greatest}(turn, %s) + 1, last_assigned_at = %s, "
            f"assigned_today = CASE WHEN assigned_on = %s THEN assigned_today + 1 ELSE 1 END, assigned_on = %s "
            f"WHERE {where}"
        )
    return sql


def _choose(
    duties: list[DutyRow],
    lead: Lead,
    today: dt.date,
    preferred_id: int | None,
    ranking: list[int] | None = None,
) -> tuple[DutyRow | None, bool]:
    """The rules' choice among ``duties`` (ordered by turn) and whether the capacity applies."""
    if preferred_id is not None:
        own = next((d for d in duties if d.user_id == preferred_id), None)
        if own is not None:
            return own, False  # a returning owner goes to their consultant, whatever the day's count
    open_ = [d for d in duties if (d.assigned_today if d.assigned_on == today else 0) < d.daily_capacity]
    if ranking:
        best = routing.first_ranked(open_, ranking)
        if best is not None:
            return best, True
    interest = f"{lead.brand_interest} {lead.model_interest}".lower()
    specialists = [d for d in open_ if interest.strip() and any(sp in interest for sp in d.speciality_list())]
    generalists = [d for d in open_ if not d.speciality_list()]
    pool = specialists or generalists or open_
    return (pool[0] if pool else None), True


def _place(lead: Lead, *, now: dt.datetime, preferred_id: int | None, settings: LeadSettings) -> None:
    """Assign a new lead by the rules, or put it in the sales manager's queue and tell them."""
    ranking = routing.hot_ranking(lead, now=now, settings=settings)
    consultant_id = _pick_consultant(
        store_id=lead.store_id, lead=lead, now=now, preferred_id=preferred_id, ranking=ranking
    )
    if consultant_id is not None:
        _set_consultant(lead, consultant_id, now=now, settings=settings)
        return
    lead.consultant_id = None
    lead.first_contact_due = first_contact_due(store_id=lead.store_id, start=now, settings=settings)


def _set_consultant(lead: Lead, consultant_id: int, *, now: dt.datetime, settings: LeadSettings) -> None:
    lead.consultant_id = consultant_id
    lead.assigned_at = now
    if lead.first_contact_at is None:
        lead.first_contact_due = first_contact_due(store_id=lead.store_id, start=now, settings=settings)
        lead.first_contact_reminded_at = lead.first_contact_escalated_at = None


def _tell_assigned(lead: Lead) -> None:
    if lead.consultant_id is None:
        for uid in _managers(lead.store_id):
            tell(
                user_id=uid, kind=notify.ESCALATED, store_id=lead.store_id, link=_lead_link(lead),
                title=_("No consultant could take lead %(name)s: it waits in your queue") % {"name": lead.name or lead.pk},
                dedup_key=f"lead-unassigned:{lead.pk}:{lead.version}",
            )  # fmt: skip
        return
    tell(
        user_id=lead.consultant_id, kind=notify.ASSIGNED, store_id=lead.store_id, link=_lead_link(lead),
        title=_("New lead: %(name)s") % {"name": lead.name or lead.pk},
        dedup_key=f"lead-assigned:{lead.pk}:{lead.version}",
    )  # fmt: skip


# --- intake -------------------------------------------------------------------------------------


@dataclass
class Intake:
    """What an intake did: ``created`` a new lead, or found ``lead`` again (the same external ID:
    ``repeated``; an open lead with the same mobile: ``linked``)."""

    lead: Lead
    created: bool
    linked: bool = False
    repeated: bool = False


def _find_repeat(store_id: int, external_id: str) -> Lead | None:
    """The lead an earlier enquiry with this external ID made (the unique index), else the lead
    its "enquired again" activity went to (the activities' ref index): one statement of two
    indexed reads, ``UNION ALL`` (one query with an OR of the two read every lead of the table,
    measured at 1,000,000), answering an id; the lead is read only when there is one — a new
    enquiry, the common case, costs one small query."""
    if not external_id:
        return None
    leads, activities = (connection.ops.quote_name(m._meta.db_table) for m in (Lead, LeadActivity))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, 0 FROM {leads} WHERE store_id = %s AND external_id = %s UNION ALL "
            f"SELECT lead_id, 1 FROM {activities} WHERE store_id = %s AND ref = %s",
            [store_id, external_id, store_id, external_id],
        )
        found = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))  # the lead's own external ID first
    if not found:
        return None
    return Lead.objects.filter(store_id=store_id, pk=found[0][0]).first()  # scoped: the id just found


def _open_lead_locked(store_id: int, mobile: str) -> Lead | None:
    """The store's most recent open lead with this mobile (blind index, every current key),
    its row locked (``FOR UPDATE``, where the database has row locks). Written out as one raw
    read of the model's columns: built by the ORM it was the intake's costliest statement to
    compile (37 columns, every lead, found or not)."""
    candidates = next(iter(blind_lookup(Lead, "mobile_index", mobile).values()), [])
    if isinstance(candidates, str):
        candidates = [candidates]
    if not candidates:
        return None
    sql = _OPEN_LEAD_SQL.get((connection.vendor, len(candidates)))
    if sql is None:
        q = connection.ops.quote_name
        columns = ", ".join(q(f.column) for f in Lead._meta.concrete_fields)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        sql = _OPEN_LEAD_SQL[(connection.vendor, len(candidates))] = (
            f"SELECT {columns} FROM {q(Lead._meta.db_table)} WHERE store_id = %s AND status IN "
            f"({', '.join(['%s'] * len(OPEN_STATUSES))}) AND mobile_index IN ({', '.join(['%s'] * len(candidates))}) "
            f"ORDER BY arrived_at DESC, id DESC LIMIT 1{lock}"
        )
    found = list(
        Lead.objects.raw(sql, [store_id, *(s.value for s in OPEN_STATUSES), *candidates])
    )  # scoped: the store's own
    return found[0] if found else None


_OPEN_LEAD_SQL: dict[tuple[str, int], str] = {}


def _lock_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def _intake_lock(store_id: int, mobile: str, external_id: str) -> bool:
    """On PostgreSQL, hold this transaction's advisory locks on the store's mobile (by its blind
    index, never the number) and external ID, taken in one statement in a fixed order (no
    deadlock). Two identical enquiries at once then run one after the other: the second sees the
    first's lead and is linked to it (or is its repeat) — never a second lead. True when taken;
    elsewhere (SQLite writes one transaction at a time) False."""
    if connection.vendor != "postgresql":
        return False
    keys: set[int] = set()
    if mobile:
        index = next(iter(blind_lookup(Lead, "mobile_index", mobile).values()), [])
        if index:
            keys.add(_lock_key(f"lead:{store_id}:mobile:{index[0]}"))
    if external_id:
        keys.add(_lock_key(f"lead:{store_id}:external:{external_id}"))
    if not keys:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys)), sorted(keys))
    return True


@transaction.atomic
def lead_create(
    *,
    actor: Actor,
    data: Mapping[str, Any],
    source: str = "",
    consultant_id: Any = None,
    now: dt.datetime | None = None,
    consent_source: str = "",
) -> Intake:
    """Take in one enquiry in the actor's store, from any channel (staff UI, API, public form,
    import).

    * The same ``external_id`` again (a platform retrying) → the lead it made, unchanged.
    * A mobile matching an open lead of the store (blind index) → that lead, with an activity
      "enquired again via <channel>" and its consultant told — never a second lead.
    * A mobile matching a customer links ``customer``; a returning owner's lead goes to their
      own consultant when that consultant is on duty.
    * Otherwise assigned by the store's rules (:func:`_pick_consultant`); a consultant entering
      a lead keeps it; a manager may name the consultant. Nobody can take it → unassigned, in the
      sales manager's queue, and the sales manager is told.

    No mobile → 400 naming ``mobile``; a doubtful number is flagged, not refused."""
    require_model(actor, "add", Lead)
    store_id = actor.require_store_id()
    now = now or timezone.now()
    cleaned = lead_clean(data, source=source)
    chosen_id = _chosen_consultant(actor, store_id, consultant_id)
    mobile = cleaned.get("mobile", "")
    locked = _intake_lock(store_id, mobile, cleaned.get("external_id", ""))
    repeat = _find_repeat(store_id, cleaned.get("external_id", ""))
    if repeat is not None:
        return Intake(lead=repeat, created=False, repeated=True)
    if mobile:
        existing = _open_lead_locked(store_id, mobile)
        if existing is not None:
            _enquired_again(actor, existing, cleaned, now=now)
            return Intake(lead=existing, created=False, linked=True)
    settings, _hours = _store_rules(store_id)
    lead = Lead(store_id=store_id, arrived_at=now, **{k: v for k, v in cleaned.items() if k != "external_id"})
    lead.external_id = cleaned.get("external_id", "")
    customer = _customer_of(store_id, mobile) if mobile and cleaned.get("mobile_flag") != MobileFlag.INVALID else None
    preferred = None
    if customer is not None:
        lead.customer_id = customer.pk
        preferred = customer.consultant_id
        if not lead.name:
            lead.name = customer.name[: _MAX["name"]]
    scoring.on_intake(lead, customer=customer, now=now)  # pure: no query (docs/adr/0015)
    if chosen_id is not None:
        _set_consultant(lead, chosen_id, now=now, settings=settings)
    else:
        _place(lead, now=now, preferred_id=preferred, settings=settings)
    if locked:  # the external ID is ours until the commit: no race, no savepoint needed
        lead.save()
    else:
        try:
            with transaction.atomic():
                lead.save()
        except IntegrityError:  # the same external_id raced in from another request
            again = _find_repeat(store_id, lead.external_id)
            if again is None:
                raise
            return Intake(lead=again, created=False, repeated=True)
    if lead.consultant_id is None:  # an assignment on arrival is its assigned_at; a queued lead says why
        _activity(lead, ActivityKind.ASSIGNMENT, actor=actor, at=now,
                  note=str(_("No consultant on duty could take it: in the sales manager's queue")))  # fmt: skip
    _tell_assigned(lead)
    if customer is not None:
        _timeline(
            lead, "lead.created", str(_("New lead via %(channel)s") % {"channel": _channel_label(lead.source_channel)})
        )
        if lead.marketing_consent:
            _consent(actor, customer, consent_source or lead.source_channel)
    emit(events.LEAD_CREATED, store_id=store_id, actor_id=actor.user_id, payload=events.LeadCreated(
        lead_id=lead.pk, source_channel=lead.source_channel, customer_id=lead.customer_id,
        consultant_id=lead.consultant_id, referral_code=lead.referral_code.upper(),
    ))  # fmt: skip
    return Intake(lead=lead, created=True)


def _chosen_consultant(actor: Actor, store_id: int, consultant_id: Any) -> int | None:
    if actor.role == Role.SALES and actor.user_id is not None:
        return int(actor.user_id)  # a consultant entering a walk-in keeps it
    if consultant_id in (None, ""):
        return None
    if not can(actor, "assign", Lead):
        raise PermissionDenied(_("You may not choose the consultant."))
    try:
        uid = int(consultant_id)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(fields={"consultant": [_("Choose a member of this store.")]}) from None
    if not (0 < uid < 2**63) or not _consultant_ok(store_id, uid):
        raise ValidationError(fields={"consultant": [_("Choose a sales consultant of this store.")]})
    return uid


_CUSTOMER_COLUMNS = ("id", "store_id", "name", "consultant_id", "lifecycle_stage", "income_band", "merged_into_id")
_CUSTOMER_SQL: dict[tuple[str, int], str] = {}


def _customer_of(store_id: int, mobile: str) -> Any:
    """The store's customer with this mobile (blind index), oldest first, not merged away — with
    what intake uses of them (link, their consultant, name, the score's profile, the consent's
    scope): the encrypted fields are neither read nor decrypted. One raw read, its text made once
    per database and number of index candidates (the ORM's compile was most of its CPU)."""
    from autocrm.customers.models import Customer

    candidates = next(iter(blind_lookup(Customer, "mobile_index", mobile).values()), [])
    if isinstance(candidates, str):
        candidates = [candidates]
    if not candidates:
        return None
    key = (connection.vendor, len(candidates))
    sql = _CUSTOMER_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        sql = _CUSTOMER_SQL[key] = (
            f"SELECT {', '.join(q(c) for c in _CUSTOMER_COLUMNS)} FROM {q(Customer._meta.db_table)} "
            f"WHERE store_id = %s AND merged_into_id IS NULL AND mobile_index IN ({', '.join(['%s'] * len(candidates))}) "
            f"ORDER BY id LIMIT 1"
        )
    found = list(Customer.objects.raw(sql, [store_id, *candidates]))  # scoped: de-dup on arrival looks across the store
    return found[0] if found else None


def _consent(actor: Actor, customer: Any, source: str) -> None:
    """The person ticked the consent box: a marketing consent of the customer (SMS), through
    customers' service when the actor may change the customer, else recorded as relayed."""
    from autocrm.customers.choices import Channel, ConsentPurpose
    from autocrm.customers.models import Consent
    from autocrm.customers.services import consent_record

    source = f"lead:{source}"[:60]
    if can(actor, "change", customer):
        consent_record(actor=actor, customer=customer, purpose=ConsentPurpose.MARKETING, channel=Channel.SMS,
                       granted=True, source=source)  # fmt: skip
        return
    Consent.objects.create(
        store_id=customer.store_id, customer=customer, purpose=ConsentPurpose.MARKETING, channel=Channel.SMS,
        granted=True, source=source,
    )  # fmt: skip


def _channel_label(code: str) -> str:
    try:
        return str(LeadSource(code).label)
    except ValueError:
        return code


def _timeline(lead: Lead, kind: str, summary: str) -> None:
    if lead.customer_id is None:
        return
    from autocrm.customers.services import timeline_record

    timeline_record(customer=lead.customer_id, kind=kind, summary=summary, obj=lead, store_id=lead.store_id,
                    link=_lead_link(lead))  # fmt: skip


def _activity(
    lead: Lead, kind: str, *, actor: Actor | None, at: dt.datetime, note: str = "", **kw: Any
) -> LeadActivity:
    return LeadActivity.objects.create(
        store_id=lead.store_id, lead=lead, kind=kind, at=at, note=note,
        user_id=actor.user_id if actor is not None else None, **kw,
    )  # fmt: skip


def _enquired_again(actor: Actor, lead: Lead, cleaned: Mapping[str, Any], *, now: dt.datetime) -> None:
    channel = cleaned.get("source_channel", "")
    note = str(_("Enquired again via %(channel)s") % {"channel": _channel_label(channel)})
    if cleaned.get("message"):
        note = f"{note}: {cleaned['message']}"
    _activity(lead, ActivityKind.ENQUIRY, actor=actor, at=now, note=note[:_MESSAGE_MAX],
              channel=channel, ref=cleaned.get("external_id", ""))  # fmt: skip
    # The lead's row is locked (select_for_update above): its values as read are current, so the
    # instance is brought up to date without reading it again.
    updates: dict[str, Any] = {"enquiries": lead.enquiries + 1}
    for name in ("model_interest", "brand_interest", "name", "visitor_id"):
        if cleaned.get(name) and not getattr(lead, name):
            updates[name] = cleaned[name]
    updates.update(scoring.on_enquiry(lead, text=cleaned.get("message", ""), now=now))
    updates["updated_at"] = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(**updates)  # scoped: the lead found above
    loaded = getattr(lead, "_loaded", None)
    for name, value in updates.items():
        setattr(lead, name, value)
        if loaded is not None:
            loaded[name] = value  # as stored now: a later save's audit diffs against it
    audit.record("lead.enquired_again", obj=lead, actor=actor, extra={"channel": channel})
    targets = [lead.consultant_id] if lead.consultant_id else _managers(lead.store_id)
    for uid in targets:
        tell(user_id=uid, kind=notify.ASSIGNED, store_id=lead.store_id, link=_lead_link(lead),
             title=_("%(name)s enquired again via %(channel)s") % {"name": lead.name or lead.pk,
                                                                    "channel": _channel_label(channel)},
             body=str(cleaned.get("message", ""))[:500])  # fmt: skip
    _timeline(lead, "lead.enquired_again", note[:300])


# --- manual assignment --------------------------------------------------------------------------


@transaction.atomic
def lead_assign(
    *, actor: Actor, lead: Lead, consultant_id: Any, reason: str = "", version: int | None = None,
    now: dt.datetime | None = None,
) -> Lead:  # fmt: skip
    """Give ``lead`` to a consultant of its store (a manager's move). Taking a lead from one
    consultant to another needs a reason. Safe under concurrency: the update is conditional on
    the version the caller saw (``version``, else the one loaded), so of two managers assigning
    one lead at once one wins and the other gets a 409. Audited with before/after and reason."""
    require(actor, "assign", lead)
    errors: dict[str, list[Any]] = {}
    reason = _text("reason", reason, errors, 300)
    if errors:
        raise ValidationError(fields=errors)
    try:
        uid = int(consultant_id)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(fields={"consultant": [_("Choose a sales consultant of this store.")]}) from None
    if not (0 < uid < 2**63) or not _consultant_ok(lead.store_id, uid):
        raise ValidationError(fields={"consultant": [_("Choose a sales consultant of this store.")]})
    if lead.status not in OPEN_STATUSES:
        raise Conflict(_("This lead is closed."), fields={"status": [_("This lead is closed.")]})
    if lead.consultant_id is not None and lead.consultant_id != uid and not reason:
        raise ValidationError(fields={"reason": [_("Say why the lead changes hands.")]})
    seen = lead.version if version is None else version
    if not isinstance(seen, int) or not (0 <= seen < 2**31):
        raise ValidationError(fields={"version": [_("Enter a whole number.")]})
    now = now or timezone.now()
    before = lead.consultant_id
    _set_consultant(lead, uid, now=now, settings=lead_settings_for(lead.store_id))
    done = Lead.objects.filter(pk=lead.pk, version=seen).update(  # scoped: the lead in hand
        consultant_id=uid, assigned_at=now, version=F("version") + 1,
        first_contact_due=lead.first_contact_due, first_contact_reminded_at=lead.first_contact_reminded_at,
        first_contact_escalated_at=lead.first_contact_escalated_at, updated_at=now,
    )  # fmt: skip
    if not done:
        raise Conflict(
            _("Someone else changed this lead's consultant a moment ago. Reload it and try again."),
            fields={"version": [_("This lead was changed by someone else.")]},
        )
    lead.refresh_from_db()
    _activity(lead, ActivityKind.ASSIGNMENT, actor=actor, at=now, note=reason)
    audit.record(
        "lead.assigned", obj=lead, actor=actor, changes={"consultant": [before, uid]}, extra={"reason": reason}
    )
    _tell_assigned(lead)
    emit(events.LEAD_ASSIGNED, store_id=lead.store_id, actor_id=actor.user_id,
         payload=events.LeadAssigned(lead_id=lead.pk, consultant_id=uid, previous_id=before))  # fmt: skip
    return lead


@transaction.atomic
def duty_set(
    *,
    actor: Actor,
    user_id: Any,
    status: str | None = None,
    daily_capacity: Any = None,
    specialities: str | None = None,
) -> ConsultantDuty:
    """Set a consultant's availability for automatic assignment in the actor's store (a
    consultant their own; a manager anyone's)."""
    store_id = actor.require_store_id()
    try:
        uid = int(user_id)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(fields={"user": [_("Choose a sales consultant of this store.")]}) from None
    if not (0 < uid < 2**63) or not _consultant_ok(store_id, uid):
        raise ValidationError(fields={"user": [_("Choose a sales consultant of this store.")]})
    duty = ConsultantDuty.objects.filter(store_id=store_id, user_id=uid).first()  # scoped: checked below
    if duty is None:
        require_model(actor, "add" if uid != actor.user_id else "change", ConsultantDuty)
        duty = ConsultantDuty(store_id=store_id, user_id=uid,
                              daily_capacity=lead_settings_for(store_id).daily_capacity_default)  # fmt: skip
    require(actor, "change", duty) if duty.pk else None
    if duty.pk is None and uid != actor.user_id and not can(actor, "add", ConsultantDuty):
        raise PermissionDenied()
    if actor.role == Role.SALES and uid != actor.user_id:
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    if status is not None:
        if status not in DutyStatus.values:
            errors["status"] = [_("Choose one of the listed values.")]
        else:
            duty.status = status
    if daily_capacity is not None:
        try:
            cap = int(daily_capacity)
            if not 0 <= cap <= 1000:
                raise ValueError
            duty.daily_capacity = cap
        except (TypeError, ValueError, OverflowError):
            errors["daily_capacity"] = [_("Enter a whole number from 0 to 1000.")]
    if specialities is not None:
        duty.specialities = _text("specialities", specialities, errors, 200)
    if errors:
        raise ValidationError(fields=errors)
    if duty.pk is None:
        top = ConsultantDuty.objects.filter(store_id=store_id).order_by("-turn").values_list("turn", flat=True).first()
        duty.turn = top or 0  # a newcomer joins at the back of the round, not ahead of everyone
    duty.save()
    return duty


# --- activities ---------------------------------------------------------------------------------

_USER_KINDS = {ActivityKind.CALL, ActivityKind.WECHAT, ActivityKind.SMS, ActivityKind.VISIT, ActivityKind.TEST_DRIVE,
               ActivityKind.NOTE}  # fmt: skip


def _when(name: str, value: Any, errors: dict[str, list[Any]]) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            text = str(value).strip()
            if len(text) > 40:
                raise ValueError
            moment = dt.datetime.fromisoformat(text)
        except (TypeError, ValueError):
            errors.setdefault(name, []).append(_("Enter a date and time such as 2026-11-24T09:30+08:00."))
            return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if not (2000 <= moment.year <= 2100):
        errors.setdefault(name, []).append(_("Enter a date between 2000 and 2100."))
        return None
    return moment


@transaction.atomic
def lead_activity_log(
    *,
    actor: Actor,
    lead: Lead,
    kind: str,
    outcome: str = "",
    note: str = "",
    next_action_at: Any = None,
    grade: str | None = None,
    now: dt.datetime | None = None,
) -> LeadActivity:
    """Log a touch of the lead. A call, WeChat, SMS or visit is a contact: the first one sets
    ``first_contact_at`` (the first-contact target is met), each sets ``last_touch_at`` and moves a
    new lead to contacted (a visit to visited). The next action is the one given, else the grade's
    follow-up cadence from now; the sweep's marks for the old deadline are cleared."""
    require(actor, "change", lead)
    errors: dict[str, list[Any]] = {}
    if not isinstance(kind, str) or kind not in _USER_KINDS:
        errors["kind"] = [_("Choose one of the listed values.")]
    if outcome not in ActivityOutcome.values:
        errors["outcome"] = [_("Choose one of the listed values.")]
    note = _text("note", note, errors, _MESSAGE_MAX)
    when = _when("next_action_at", next_action_at, errors)
    if grade is not None and grade not in Grade.values:
        errors["grade"] = [_("Choose one of the listed values.")]
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    if lead.status not in OPEN_STATUSES or lead.status == LeadStatus.LOST_REQUESTED:
        raise Conflict(_("This lead is closed or awaiting a lost decision."), fields={"status": [""]})
    now = now or timezone.now()
    activity = _activity(lead, kind, actor=actor, at=now, note=note, outcome=outcome, next_action_at=when)
    if grade is not None:
        lead.grade = grade
    if kind in CONTACT_KINDS:
        if lead.first_contact_at is None:
            lead.first_contact_at = now
        lead.last_touch_at = now
        if kind in (ActivityKind.VISIT, ActivityKind.TEST_DRIVE) and lead.status in (
            LeadStatus.NEW,
            LeadStatus.CONTACTED,
        ):
            lead.status = LeadStatus.VISITED
        elif lead.status == LeadStatus.NEW:
            lead.status = LeadStatus.CONTACTED
    if when is None and kind in CONTACT_KINDS:
        when = now + dt.timedelta(days=lead_settings_for(lead.store_id).follow_up_days(lead.grade))
    if when is not None:
        lead.next_action_at = when
        lead.follow_up_reminded_at = lead.follow_up_escalated_at = None
    scoring.on_activity(lead, kind=kind, note=note, now=now)
    lead.save()
    _timeline(
        lead, f"lead.{kind}", f"{ActivityKind(kind).label}: {note}"[:300] if note else str(ActivityKind(kind).label)
    )
    return activity


@transaction.atomic
def lead_mark_won(*, lead: Lead, customer: Any, at: dt.datetime) -> None:
    """Close a lead as won and link its customer: called by ``sales`` inside the delivery's
    transaction (the deal's permission was checked there), so the lead's row is written only
    here, with ``updated_at`` kept true."""
    new_customer = lead.customer_id is None
    lead.status, lead.customer, lead.closed_at = LeadStatus.WON, customer, at
    lead.save(update_fields=["status", "customer", "closed_at", "updated_at"])
    if new_customer:  # a new buyer: the lead's story goes onto their timeline, each at its time
        from autocrm.customers.services import timeline_record

        link = _lead_link(lead)
        timeline_record(customer=customer, kind="lead.created", at=lead.arrived_at, obj=lead, store_id=lead.store_id,
                        summary=str(_("New lead via %(channel)s") % {"channel": _channel_label(lead.source_channel)}),
                        link=link)  # fmt: skip
        for act in LeadActivity.objects.filter(lead=lead, kind__in=list(_USER_KINDS)).order_by("at", "id"):
            label = str(ActivityKind(act.kind).label)
            timeline_record(customer=customer, kind=f"lead.{act.kind}", at=act.at, obj=lead, store_id=lead.store_id,
                            summary=f"{label}: {act.note}"[:300] if act.note else label, link=link)  # fmt: skip


# --- conversation records -----------------------------------------------------------------------

_CHAT_MAX = 20000


@transaction.atomic
def conversation_record_add(
    *,
    actor: Actor,
    lead: Lead,
    kind: str,
    file: Any = None,
    name: Any = "",
    text: Any = "",
    duration_seconds: Any = None,
    activity: LeadActivity | None = None,
    outcome: str = "",
    note: str = "",
    at: Any = None,
    external_id: Any = "",
) -> ConversationRecord:
    """Attach a call recording (audio through ``core.uploads``: checked by content and size,
    stored encrypted) or a chat excerpt (text) to an activity of the lead. Without ``activity``
    one is logged with it (a call for a recording, a WeChat for a chat, through
    :func:`lead_activity_log`, so it counts as a contact). ``external_id`` (the call centre's call
    id) makes a repeated post the same record. Bad input → 400 naming the field."""
    require(actor, "change", lead)
    errors: dict[str, list[Any]] = {}
    if kind not in RecordKind.values:
        errors["kind"] = [_("Choose one of the listed values.")]
    ext = _text("external_id", external_id, errors, 64)
    chat = _text("text", text, errors, _CHAT_MAX)
    duration = None
    if duration_seconds not in (None, ""):
        try:
            if isinstance(duration_seconds, bool):
                raise ValueError
            duration = int(str(duration_seconds).strip())
            if not 0 <= duration <= 24 * 3600:
                raise ValueError
        except (TypeError, ValueError):
            errors["duration_seconds"] = [_("Enter the length in whole seconds, at most a day.")]
    if kind == RecordKind.RECORDING and file is None:
        errors["file"] = [_("Choose the recording (MP3, WAV, M4A, AMR or Ogg).")]
    if kind == RecordKind.CHAT and not chat:
        errors["text"] = [_("Paste the chat excerpt.")]
    if activity is not None and activity.lead_id != lead.pk:
        errors["activity"] = [_("Choose an activity of this lead.")]
    when = _when("at", at, errors)
    if when is not None and when > timezone.now() + dt.timedelta(minutes=5):
        errors["at"] = [_("The conversation cannot be in the future.")]
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    if ext:
        earlier = ConversationRecord.objects.filter(store_id=lead.store_id, external_id=ext).first()
        if earlier is not None:  # scoped: the lead's store; the same call posted again
            if earlier.lead_id != lead.pk:
                message = _("This external ID belongs to a record of another lead.")
                raise Conflict(message, fields={"external_id": [message]})
            return earlier
    stored = None
    if kind == RecordKind.RECORDING:
        stored = uploads.store(file, store_id=lead.store_id, kind="audio", name=name or getattr(file, "name", ""))
    try:
        if activity is None:
            activity = lead_activity_log(
                actor=actor, lead=lead, kind=ActivityKind.CALL if kind == RecordKind.RECORDING else ActivityKind.WECHAT,
                outcome=outcome, note=note, now=when,
            )  # fmt: skip
        with transaction.atomic():
            record = ConversationRecord.objects.create(
                store_id=lead.store_id, lead=lead, activity=activity, kind=kind, text=chat, duration_seconds=duration,
                external_id=ext, uploaded_by_id=actor.user_id,
                **({"path": stored.path, "content_type": stored.content_type, "size": stored.size,
                    "sha256": stored.sha256, "name": stored.name} if stored else {}),
            )  # fmt: skip
    except BaseException:
        if stored is not None:
            uploads.remove([stored.path])
        raise
    audit.record("lead.conversation_record", obj=lead, actor=actor, extra={"kind": kind, "record": record.pk})
    return record


# --- lost requests ------------------------------------------------------------------------------


@transaction.atomic
def lost_request_create(*, actor: Actor, lead: Lead, reason: Any, note: Any = "") -> LostRequest:
    """The consultant asks to close the lead as lost, with a reason from the store's list; the
    lead waits for the sales manager (status "lost, awaiting approval") and the manager is told."""
    require(actor, "lost", lead)
    errors: dict[str, list[Any]] = {}
    reason = _text("reason", reason, errors, 60)
    note = _text("note", note, errors, _MESSAGE_MAX)
    if not errors and reason not in lead_settings_for(lead.store_id).reasons():
        errors["reason"] = [_("Choose one of the store's lost reasons.")]
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    if lead.status == LeadStatus.LOST_REQUESTED:
        raise Conflict(_("A lost request for this lead already awaits a decision."), fields={"status": [""]})
    if lead.status not in OPEN_STATUSES:
        raise Conflict(_("This lead is closed."), fields={"status": [""]})
    prior = lead.status
    if not Lead.objects.filter(pk=lead.pk, status=prior).update(status=LeadStatus.LOST_REQUESTED):  # scoped: in hand
        raise Conflict(_("This lead changed a moment ago. Reload it and try again."), fields={"status": [""]})
    lead.status = LeadStatus.LOST_REQUESTED
    request = LostRequest.objects.create(
        store_id=lead.store_id, lead=lead, reason=reason, note=note, requested_by_id=actor.user_id, prior_status=prior
    )
    audit.record("lead.lost_requested", obj=lead, actor=actor, extra={"reason": reason})
    for uid in _managers(lead.store_id):
        tell(user_id=uid, kind=notify.ESCALATED, store_id=lead.store_id, link=_lead_link(lead),
             title=_("Lost request to decide: %(name)s") % {"name": lead.name or lead.pk},
             dedup_key=f"lost-request:{request.pk}")  # fmt: skip
    return request


def _decide(actor: Actor, request: LostRequest, *, approve: bool, note: Any, now: dt.datetime | None) -> LostRequest:
    require(actor, "approve", request)
    errors: dict[str, list[Any]] = {}
    note = _text("note", note, errors, _MESSAGE_MAX)
    if not approve and not note and not errors:
        errors["note"] = [_("Say what the consultant should do next.")]
    if errors:
        raise ValidationError(fields=errors)
    now = now or timezone.now()
    status = LostRequestStatus.APPROVED if approve else LostRequestStatus.RETURNED
    done = LostRequest.objects.filter(pk=request.pk, status=LostRequestStatus.PENDING).update(  # scoped: in hand
        status=status, decided_by_id=actor.user_id, decided_at=now, decision_note=note, updated_at=now
    )
    if not done:
        raise Conflict(_("This lost request was already decided."), fields={"status": [""]})
    request.refresh_from_db()
    lead = request.lead
    if approve:
        lead.status, lead.closed_at = LeadStatus.LOST, now
    else:
        lead.status = request.prior_status or (LeadStatus.CONTACTED if lead.first_contact_at else LeadStatus.NEW)
        lead.next_action_at = now + dt.timedelta(days=1)
        lead.follow_up_reminded_at = lead.follow_up_escalated_at = None
    lead.save()
    _activity(lead, ActivityKind.NOTE, actor=actor, at=now,
              note=f"{LostRequestStatus(status).label}: {note}" if note else str(LostRequestStatus(status).label))  # fmt: skip
    audit.record("lead.lost_approved" if approve else "lead.lost_returned", obj=lead, actor=actor,
                 extra={"reason": request.reason, "note": note})  # fmt: skip
    if request.requested_by_id:
        tell(user_id=request.requested_by_id, kind=notify.ASSIGNED, store_id=lead.store_id, link=_lead_link(lead),
             title=(_("Lost request approved: %(name)s") if approve else _("Lost request returned: %(name)s"))
             % {"name": lead.name or lead.pk}, body=note[:500], dedup_key=f"lost-decided:{request.pk}")  # fmt: skip
    if approve:
        emit(events.LEAD_CLOSED, store_id=lead.store_id, actor_id=actor.user_id,
             payload=events.LeadClosed(lead_id=lead.pk, status=lead.status))  # fmt: skip
    return request


@transaction.atomic
def lost_request_approve(
    *, actor: Actor, request: LostRequest, note: Any = "", now: dt.datetime | None = None
) -> LostRequest:
    """The sales manager agrees: the lead is lost (closed). A request decided already → 409."""
    return _decide(actor, request, approve=True, note=note, now=now)


@transaction.atomic
def lost_request_return(
    *, actor: Actor, request: LostRequest, note: Any = "", now: dt.datetime | None = None
) -> LostRequest:
    """The sales manager sends it back with a note: the lead is open again, its next action tomorrow."""
    return _decide(actor, request, approve=False, note=note, now=now)


# --- the follow-up sweep ------------------------------------------------------------------------


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0
    follow_up_reminded: int = 0
    follow_up_escalated: int = 0


_MAX_REMIND = dt.timedelta(hours=2)  # no store reminds earlier than this before a deadline


def lead_sla_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Remind consultants before a lead's deadline and escalate to the sales manager when it
    passes, each once per deadline (marks on the lead; re-running the sweep sends nothing new).
    Deadlines: the first contact (``first_contact_due``, while not contacted) and the next
    follow-up (``next_action_at``). Notifications are grouped per person and sweep, so a morning
    with forty breaches is one message to the manager, not forty. Safe to run every minute."""
    now = now or timezone.now()
    result = SweepResult()
    windows = {
        s.store_id: dt.timedelta(minutes=s.remind_minutes_before)
        for s in LeadSettings.objects.only(
            "store_id", "remind_minutes_before"
        )  # scoped: every store's settings (system task)
    }
    default_window = dt.timedelta(minutes=LeadSettings._meta.get_field("remind_minutes_before").default)
    first = Lead.objects.filter(
        status=LeadStatus.NEW, first_contact_at__isnull=True
    )  # scoped: system sweep of every store
    follow = Lead.objects.filter(  # scoped: system sweep of every store
        status__in=[LeadStatus.CONTACTED, LeadStatus.VISITED, LeadStatus.NEGOTIATING]
    )
    plans = (
        ("first", first, "first_contact_due", "first_contact_reminded_at", "first_contact_escalated_at"),
        ("follow", follow, "next_action_at", "follow_up_reminded_at", "follow_up_escalated_at"),
    )
    for which, base, due, reminded, escalated in plans:
        with transaction.atomic():
            # Reminders: due within the store's window and not yet reminded (assigned leads only).
            rows = list(
                base.filter(**{f"{due}__gt": now, f"{due}__lte": now + _MAX_REMIND, f"{reminded}__isnull": True})
                .exclude(consultant_id=None)
                .values_list("pk", "store_id", "consultant_id", due)
            )
            rows = [r for r in rows if r[3] <= now + windows.get(r[1], default_window)]
            _mark(rows, reminded, now)
            per_user: dict[tuple[int, int], list[int]] = defaultdict(list)
            for pk, store_id, consultant_id, _due in rows:
                per_user[(store_id, consultant_id)].append(pk)
            for (store_id, uid), pks in per_user.items():
                title = (
                    _("%(n)s new lead(s) to contact within %(m)s minutes")
                    if which == "first"
                    else _("%(n)s follow-up(s) due within %(m)s minutes")
                ) % {"n": len(pks), "m": int(windows.get(store_id, default_window).total_seconds() // 60)}
                tell(user_id=uid, kind=notify.REMINDER, store_id=store_id, title=title,
                     link=_todo_link(), dedup_key=f"sla-remind:{which}:{now.isoformat()}:{store_id}")  # fmt: skip
            # Breaches: past due and not yet escalated.
            breached = list(
                base.filter(**{f"{due}__lte": now, f"{escalated}__isnull": True}).values_list(
                    "pk", "store_id", "consultant_id", due
                )
            )
            _mark(breached, escalated, now)
            per_store: dict[int, list[int]] = defaultdict(list)
            for pk, store_id, _c, _d in breached:
                per_store[store_id].append(pk)
            for store_id, pks in per_store.items():
                title = (
                    _("%(n)s lead(s) missed the first-contact target")
                    if which == "first"
                    else _("%(n)s lead(s) missed their follow-up date")
                ) % {"n": len(pks)}
                for uid in _managers(store_id):
                    tell(user_id=uid, kind=notify.ESCALATED, store_id=store_id, title=title, link=_todo_link(),
                         dedup_key=f"sla-breach:{which}:{now.isoformat()}:{store_id}")  # fmt: skip
            if which == "first":
                result.reminded, result.escalated = len(rows), len(breached)
            else:
                result.follow_up_reminded, result.follow_up_escalated = len(rows), len(breached)
    return result


def _mark(rows: list[Any], field: str, now: dt.datetime) -> None:
    pks = [r[0] for r in rows]
    for i in range(0, len(pks), 5000):
        Lead.objects.filter(pk__in=pks[i : i + 5000]).update(**{field: now})  # scoped: rows chosen by the sweep


def _todo_link() -> str:
    try:
        return reverse("home")
    except Exception:
        return ""


__all__ = [
    "Intake",
    "SweepResult",
    "duty_set",
    "first_contact_due",
    "lead_activity_log",
    "lead_assign",
    "lead_clean",
    "lead_create",
    "lead_settings_for",
    "lead_sla_sweep",
    "lost_request_approve",
    "lost_request_create",
    "lost_request_return",
    "mobile_check",
]
