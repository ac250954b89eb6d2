"""A store's lead rules, set by its sales manager or store manager (issue 13 items 3, 4, 6c, 7),
and the batch rescoring of its open leads when the hot-lead threshold (or the weights, after a
release: "rescore now") change.

``lead_settings_update`` parses and saves every rule in one transaction with one audit entry
naming what changed; a new threshold queues a :class:`~autocrm.leads.models.LeadRescore` run
after the commit. ``rescore_chunk`` is one step of a run: the next ``CHUNK`` open leads by id
after the run's cursor (keyset; no count of the table), their scores computed again from their
own row (``scoring.compute``: no further query), the changed ones written with one
``bulk_update``, the newly hot ones routed as at intake (``routing``: an unassigned or not yet
contacted lead goes to the best converter on duty; a contacted one stays and its consultant is
told), then the cursor and counters — all in one transaction, so a retried or restarted run
resumes where it stopped and routes no lead twice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import require

from . import notify, routing, scoring
from .choices import OPEN_STATUSES, ActivityKind
from .models import Lead, LeadRescore, LeadSettings, RescoreStatus

CHUNK = 1000
MAX_REASONS = 30
REASON_LENGTH = 60
ACTIVE = (RescoreStatus.QUEUED, RescoreStatus.RUNNING)

# field → (low, high): the whole-number rules of the settings page and the API
NUMBERS: dict[str, tuple[int, int]] = {
    "first_contact_minutes": (1, 7 * 24 * 60),
    "follow_up_days_h": (1, 365),
    "follow_up_days_a": (1, 365),
    "follow_up_days_b": (1, 365),
    "follow_up_days_c": (1, 365),
    "sleeping_days": (1, 365),
    "remind_minutes_before": (0, 24 * 60),
    "hot_score_threshold": (0, 100),
    "daily_capacity_default": (0, 1000),
}
FIELDS = (*NUMBERS, "lost_reasons")


def _settings(store_id: int) -> LeadSettings:
    from .services import lead_settings_for

    return lead_settings_for(store_id)


def settings_get(*, actor: Actor) -> LeadSettings:
    """The current store's lead rules (the defaults when never saved); 403 for roles without them."""
    settings = _settings(actor.require_store_id())
    require(actor, "view", settings)
    return settings


def _reasons(errors: inputs.Errors, value: Any) -> list[str] | None:
    """Lost reasons from a list of texts or one text, a reason a line; duplicates dropped."""
    if value is None:
        return None
    if isinstance(value, str):
        items: list[Any] = value.splitlines()
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        errors.add("lost_reasons", _("Enter the reasons as a list of texts."))
        return None
    if len(items) > 10 * MAX_REASONS:
        errors.add("lost_reasons", _("Give at most %(n)s reasons.") % {"n": MAX_REASONS})
        return None
    found: list[str] = []
    for item in items:
        reason = inputs.text(errors, {"lost_reasons": item}, "lost_reasons", REASON_LENGTH)
        if errors:
            return None
        if reason and reason not in found:
            found.append(reason)
    if len(found) > MAX_REASONS:
        errors.add("lost_reasons", _("Give at most %(n)s reasons.") % {"n": MAX_REASONS})
        return None
    return found


@transaction.atomic
def lead_settings_update(*, actor: Actor, data: Any) -> LeadSettings:
    """Change any of the store's lead rules (the keys of :data:`FIELDS` present in ``data``).
    Every field is checked first (400 naming each bad one, nothing saved); one audit entry lists
    the changes. A new hot-lead threshold queues a rescoring of the store's open leads."""
    if not isinstance(data, dict):
        raise ValidationError(fields={"__all__": [_("Send the settings as an object.")]})
    store_id = actor.require_store_id()
    settings = LeadSettings.objects.select_for_update().filter(pk=_settings(store_id).pk).first()  # scoped: own store
    assert settings is not None
    require(actor, "change", settings)
    errors = inputs.Errors()
    new: dict[str, Any] = {}
    for name, (low, high) in NUMBERS.items():
        if name in data:
            if data[name] in (None, ""):
                errors.add(name, _("This field is required."))
                continue
            value = inputs.integer(errors, data[name], name, low, high)
            if value is not None:
                new[name] = value
    if "lost_reasons" in data:
        reasons = _reasons(errors, data["lost_reasons"])
        if reasons is not None:
            new["lost_reasons"] = reasons
    errors.raise_if_any()
    changes = {k: [getattr(settings, k), v] for k, v in new.items() if getattr(settings, k) != v}
    if not changes:
        return settings
    for name, (_before, after) in changes.items():
        setattr(settings, name, after)
    settings.save(update_fields=[*changes, "updated_at"])
    audit.record("lead.settings_changed", obj=settings, actor=actor, changes=changes)
    if "hot_score_threshold" in changes:
        rescore_request(actor=actor, previous_threshold=changes["hot_score_threshold"][0], settings=settings)
    from .services import rules_changed

    transaction.on_commit(lambda: rules_changed(store_id))
    return settings


def rescore_request(
    *, actor: Actor, previous_threshold: int | None = None, settings: LeadSettings | None = None
) -> LeadRescore:
    """Queue a rescoring of the actor's store's open leads (after the commit). A run still going
    is superseded: the new one starts from the first lead (those the old one routed keep their
    mark, so nobody is routed twice)."""
    with transaction.atomic():
        store_id = actor.require_store_id()
        settings = settings or _settings(store_id)
        require(actor, "change", settings)
        LeadRescore.objects.filter(store_id=store_id, status__in=ACTIVE).update(  # scoped: own store
            status=RescoreStatus.SUPERSEDED, finished_at=timezone.now()
        )
        threshold = settings.hot_score_threshold
        run = LeadRescore.objects.create(
            store_id=store_id, threshold=threshold,
            previous_threshold=threshold if previous_threshold is None else previous_threshold,
            requested_by_id=actor.user_id,
        )  # fmt: skip
        audit.record("lead.rescore_requested", obj=run, actor=actor, extra={"threshold": threshold})
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from .tasks import lead_rescore

    lead_rescore(run_id)


def latest_run(*, actor: Actor) -> LeadRescore | None:
    """The store's last rescoring run (None before the first)."""
    settings = settings_get(actor=actor)
    return (
        LeadRescore.objects.filter(store_id=settings.store_id)  # scoped: own store, checked above
        .order_by("-created_at", "-id")
        .first()
    )


def run_get(*, actor: Actor, pk: Any) -> LeadRescore:
    from autocrm.core.errors import NotFound

    settings = settings_get(actor=actor)
    try:
        pk = int(pk)
    except (TypeError, ValueError, OverflowError):
        raise NotFound() from None
    run = LeadRescore.objects.filter(store_id=settings.store_id, pk=pk).first()  # scoped: own store
    if run is None:
        raise NotFound()
    return run


# --- the run ------------------------------------------------------------------------------------

_READ = ("id", "store_id", "customer_id", "consultant_id", "status", "grade", "source_channel", "enquiries",
         "mobile_flag", "score", "score_signals", "first_contact_at", "name", "brand_interest", "model_interest",
         "version")  # fmt: skip


def rescore_chunk(run_id: int, *, now: dt.datetime | None = None, size: int = CHUNK) -> bool:
    """Do the next chunk of run ``run_id``; False when the run is over (done or superseded)."""
    now = now or timezone.now()
    with transaction.atomic():
        run = LeadRescore.objects.select_for_update().filter(pk=run_id).first()  # scoped: the task's own run
        if run is None or run.status not in ACTIVE:
            return False
        if run.status == RescoreStatus.QUEUED:
            run.status, run.started_at = RescoreStatus.RUNNING, now
        leads = list(
            Lead.objects.filter(
                store_id=run.store_id, status__in=OPEN_STATUSES, pk__gt=run.cursor
            )  # scoped: run's store
            .order_by("pk")
            .only(*_READ)
            .select_for_update()[:size]  # a write to one of them meanwhile would be overwritten
        )
        changed: list[Lead] = []
        hot: list[Lead] = []
        for lead in leads:
            before = int(lead.score or 0)
            score, reasons = scoring.compute(lead)
            if score != before or reasons != lead.score_reasons:
                lead.score, lead.score_reasons, lead.scored_at = score, reasons, now
                changed.append(lead)
            signals = lead.score_signals if isinstance(lead.score_signals, dict) else {}
            if score > run.threshold and before <= run.previous_threshold and not signals.get("hot_routed"):
                hot.append(lead)
        if changed:
            _write_scores(changed, now=now)
        routed = sum(_route_hot(lead, now=now) for lead in hot)
        run.scanned += len(leads)
        run.changed += len(changed)
        run.newly_hot += len(hot)
        run.routed += routed
        if leads:
            run.cursor = leads[-1].pk
        if len(leads) < size:
            run.status, run.finished_at = RescoreStatus.DONE, now
        run.save()
        return run.status != RescoreStatus.DONE


def _write_scores(leads: list[Lead], *, now: dt.datetime) -> None:
    """The chunk's new scores in one statement: on PostgreSQL an ``UPDATE … FROM (VALUES …)``
    (Django's ``bulk_update`` builds a CASE of 1,000 branches that PostgreSQL evaluates for every
    row: ≈ 10× slower at this size); elsewhere ``bulk_update``."""
    if connection.vendor != "postgresql":
        Lead.objects.bulk_update(leads, ["score", "score_reasons", "scored_at"], batch_size=len(leads))  # scoped
        return
    rows = ", ".join(["(%s, %s, %s::jsonb)"] * len(leads))
    params: list[Any] = []
    for lead in leads:
        params += [lead.pk, lead.score, json.dumps(lead.score_reasons, ensure_ascii=False)]
    table = Lead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS l SET score = v.score, score_reasons = v.reasons, scored_at = %s '
            f"FROM (VALUES {rows}) AS v(id, score, reasons) WHERE l.id = v.id",  # scoped: ids of the run's store
            [now, *params],
        )


def rescore_run(run_id: int, *, now: dt.datetime | None = None, size: int = CHUNK) -> LeadRescore:
    """Every chunk of the run, one transaction each (what the worker does)."""
    while rescore_chunk(run_id, now=now, size=size):
        pass
    return LeadRescore.objects.get(pk=run_id)  # scoped: the task's own run


def _route_hot(lead: Lead, *, now: dt.datetime) -> bool:
    """A lead that has just become hot, routed as a new hot lead is (``routing``): unassigned or
    not yet contacted, to the best converter on duty who can take it (unassigned: the round robin
    when nobody is ranked); contacted, it stays with its consultant, who is told. Marked so it is
    routed once. True when it changed hands."""
    from .services import _activity, _pick_consultant, _set_consultant, _tell_assigned, lead_settings_for

    signals = dict(lead.score_signals) if isinstance(lead.score_signals, dict) else {}
    signals["hot_routed"] = now.isoformat()
    lead.score_signals = signals
    Lead.objects.filter(pk=lead.pk).update(score_signals=signals)  # scoped: a lead of the run's store
    if lead.consultant_id is not None and lead.first_contact_at is not None:
        notify.tell(
            user_id=lead.consultant_id, kind=notify.ASSIGNED, store_id=lead.store_id, link=_link(lead),
            title=_("Lead %(name)s is now hot (score %(score)s): follow it up first") % {
                "name": lead.name or lead.pk, "score": lead.score},
            dedup_key=f"lead-hot:{lead.pk}",
        )  # fmt: skip
        return False
    ranking = routing.ranking(store_id=lead.store_id, now=now)
    if lead.consultant_id is None:
        consultant_id = _pick_consultant(
            store_id=lead.store_id, lead=lead, now=now, preferred_id=None, ranking=ranking or None
        )
    elif ranking and ranking[0] != lead.consultant_id:
        better = ranking[: ranking.index(lead.consultant_id)] if lead.consultant_id in ranking else ranking
        consultant_id = _book_best(lead, better, now=now)
    else:
        consultant_id = None
    if consultant_id is None or consultant_id == lead.consultant_id:
        return False
    before = lead.consultant_id
    _set_consultant(lead, consultant_id, now=now, settings=lead_settings_for(lead.store_id))
    Lead.objects.filter(pk=lead.pk).update(  # scoped: a lead of the run's store
        consultant_id=consultant_id, assigned_at=now, version=F("version") + 1,
        first_contact_due=lead.first_contact_due, first_contact_reminded_at=None, first_contact_escalated_at=None,
        updated_at=now,
    )  # fmt: skip
    lead.version += 1
    _activity(lead, ActivityKind.ASSIGNMENT, actor=None, at=now, note=str(_("Hot lead: to the best converter")))
    audit.record("lead.assigned", obj=lead, changes={"consultant": [before, consultant_id]},
                 extra={"reason": "hot_rescore"}, store_id=lead.store_id)  # fmt: skip
    _tell_assigned(lead)
    return True


def _book_best(lead: Lead, ranked: list[int], *, now: dt.datetime) -> int | None:
    """Book the best-ranked of ``ranked`` who is on duty and under capacity (None: nobody; a
    not-yet-contacted lead then stays with its consultant rather than go to the round robin)."""
    from autocrm.accounts.models import Membership
    from autocrm.core.roles import CONSULTANT_ROLES

    from .choices import DutyStatus
    from .models import ConsultantDuty
    from .services import _book

    if not ranked:
        return None
    today = timezone.localdate(now)
    on_duty = ConsultantDuty.objects.filter(  # scoped: the lead's own store
        store_id=lead.store_id, status=DutyStatus.ON_DUTY,
        user_id__in=Membership.objects.filter(
            store_id=lead.store_id, role__in=list(CONSULTANT_ROLES), is_active=True
        ).values("user_id"),
    ).order_by("turn", "id")  # fmt: skip
    duties = list(on_duty)
    if not duties:
        return None
    top = max(d.turn for d in duties)
    free = [d for d in duties if (d.assigned_today if d.assigned_on == today else 0) < d.daily_capacity]
    best = routing.first_ranked(free, ranked)
    if best is None or not _book(best.pk, today=today, now=now, top=top, capped=True, wait=True):
        return None
    return int(best.user_id)


def _link(lead: Lead) -> str:
    from .services import _lead_link

    return _lead_link(lead)
