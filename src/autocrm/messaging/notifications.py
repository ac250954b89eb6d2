"""Staff notifications: the in-app inbox (the bell), WeCom, preferences and digests (issue 12
item 5).

Every module tells a colleague something with one call, inside its own transaction::

    from autocrm.messaging.notifications import notify_staff

    notify_staff(user=lead.consultant, kind="leads.assigned", store=lead.store,
                 title=_("New lead: %(name)s") % {"name": lead.name},
                 link=reverse("leads:lead_detail", args=[lead.pk]), dedup_key=f"lead-assigned:{lead.pk}")

What happens:

* the notification is written to the person's inbox in the caller's transaction (a rolled-back
  cause leaves no notification) — unless their preference for the kind turns the inbox off;
* where the person linked WeCom (``NotificationPreference.wecom_userid``), wants the kind on
  WeCom, and the store has a WeCom account, a WeCom message is queued in the outbox
  (``messaging.services.message_queue(purpose=staff, channel=wecom, user=…)``), which h/msgcore
  delivers after the commit, exactly once (idempotency key ``staff-notification:<id>``);
* ``dedup_key``: the same key for the same person twice is one notification;
* **digest instead of floods**: more than :data:`DIGEST_AFTER` notifications of one kind within
  :data:`DIGEST_WINDOW` fold into one inbox entry with a count ("12 new leads assigned to you")
  and stop going to WeCom one by one; the periodic task ``notification_tasks.notification_digests_task``
  (every 10 minutes, :func:`digests_send`) sends one WeCom digest per folded entry. A person who chose "as a
  digest" for a kind gets every one of that kind folded from the first.

Modules name their kinds with :func:`register_kind` (label for the preferences page, and the
digest's title, plural-aware). Reads of the inbox are :func:`notification_page` and
:func:`unread_count` (one indexed query: the bell)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from autocrm.core.actor import Actor
from autocrm.core.bulk import insert_one
from autocrm.core.errors import ValidationError
from autocrm.core.extensions import Registry, registry
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import require

from .models import NotificationPreference, StaffNotification

log = logging.getLogger("autocrm.messaging.notifications")

DIGEST_AFTER = 5  # N: the sixth of one kind within the window starts a digest
DIGEST_WINDOW = dt.timedelta(minutes=10)  # M
DIGEST_PREFIX = "digest:"
BELL_CAP = 99  # the bell says 99+ beyond this; counting further costs and tells nobody more
ALL_KINDS = "*"


@dataclass(frozen=True)
class NotificationKind:
    kind: str
    label: Any
    digest_title: Callable[[int], str]


KINDS: Registry[NotificationKind] = registry("messaging.notification_kinds")


def register_kind(kind: str, label: Any, digest_title: Callable[[int], str] | None = None, *, order: int = 100) -> None:
    """Name a notification kind for people: ``label`` on the preferences page and
    ``digest_title(count)`` as the title of a folded entry (use ``ngettext``)."""
    KINDS.register(NotificationKind(kind, label, digest_title or _generic_digest(label)), key=kind, order=order)


def _generic_digest(label: Any) -> Callable[[int], str]:
    def title(count: int) -> str:
        return ngettext("%(count)d notification: %(kind)s", "%(count)d notifications: %(kind)s", count) % {
            "count": count,
            "kind": label,
        }

    return title


def kind_label(kind: str) -> Any:
    entry = KINDS.get(kind)
    return entry.label if entry is not None else kind


def digest_title(kind: str, count: int) -> str:
    entry = KINDS.get(kind)
    return (entry.digest_title if entry is not None else _generic_digest(kind))(count)


# --- preferences -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    inbox: bool = True
    wecom: bool = True
    digest: bool = False
    wecom_userid: str = ""


def preference_for(user_id: int, kind: str) -> Choice:
    """The person's choice for ``kind``: their row for the kind, else their ``*`` row, else the
    defaults (inbox and WeCom, no digest). The WeCom user id is the one on any of their rows
    (the ``*`` row first)."""
    rows = {p.kind: p for p in NotificationPreference.objects.raw(_sql("preference"), [user_id, kind, ALL_KINDS])}
    return _choice_of(rows, kind)


def _choice_of(rows: dict[str, Any], kind: str) -> Choice:
    """The choice from a person's preference rows for ``kind`` and ``*`` (by kind; each with
    ``inbox``, ``wecom``, ``digest``, ``wecom_userid``)."""
    row = rows.get(kind) or rows.get(ALL_KINDS)
    userid = next((r.wecom_userid for r in (rows.get(ALL_KINDS), rows.get(kind)) if r and r.wecom_userid), "")
    if row is None:
        return Choice(wecom_userid=userid)
    return Choice(inbox=bool(row.inbox), wecom=bool(row.wecom), digest=bool(row.digest), wecom_userid=userid)


def preferences_of(*, actor: Actor) -> dict[str, NotificationPreference]:
    """The actor's own preference rows by kind (the preferences page)."""
    return {p.kind: p for p in NotificationPreference.objects.filter(user_id=actor.user_id or 0)}


@transaction.atomic
def preference_save(
    *, actor: Actor, kind: str, inbox: bool, wecom: bool, digest: bool, wecom_userid: str | None = None
) -> NotificationPreference:
    """Set the actor's own choice for one kind (``*``: every kind without a choice of its own).
    ``wecom_userid`` (on the ``*`` row) links the person to the store's WeCom."""
    if actor.user_id is None:
        raise ValidationError(fields={"kind": [_("Sign in first.")]})
    if kind != ALL_KINDS and KINDS.get(kind) is None:
        raise ValidationError(fields={"kind": [_("Choose one of the listed values.")]})
    if not (inbox or wecom or digest):
        raise ValidationError(fields={"inbox": [_("Keep at least one way of being told.")]})
    pref, _created = NotificationPreference.objects.get_or_create(user_id=actor.user_id, kind=kind)
    pref.inbox, pref.wecom, pref.digest = bool(inbox), bool(wecom), bool(digest)
    if wecom_userid is not None:
        userid = str(wecom_userid).strip()
        if len(userid) > 64 or any(c.isspace() or ord(c) < 32 for c in userid):
            raise ValidationError(fields={"wecom_userid": [_("A WeCom user id: at most 64 characters, no spaces.")]})
        pref.wecom_userid = userid
    pref.save()
    return pref


# --- writing -----------------------------------------------------------------------------------


_SQL: dict[tuple[str, str], str] = {}
_PREF_COLUMNS = ("kind", "inbox", "wecom", "digest", "wecom_userid")


def _sql(name: str) -> str:
    """The text of the notification path's reads, made once per process and database (no input
    in it; every value is a parameter): ``preference`` (a person's rows for a kind and ``*``),
    ``inbox`` (unread of the kind since, or the open digest updated since — ordered by id),
    ``inbox_dedup`` (the same or the same dedup key) and ``digest`` (the open digest, locked
    where the database has row locks)."""
    from django.db import connection

    key = (connection.vendor, name)
    sql = _SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        notes = q(StaffNotification._meta.db_table)
        columns = ", ".join(q(f.column) for f in StaffNotification._meta.concrete_fields)
        unread = "(kind = %s AND read_at IS NULL AND created_at >= %s) OR (dedup_key = %s AND read_at IS NULL AND updated_at >= %s)"
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        prefs = NotificationPreference._meta
        # The inbox reads carry the person's preference rows for the kind and ``*`` too, as rows
        # whose notification columns are empty and whose ``pref_*`` columns hold the choice: one
        # statement where there were two (the preference was read on every notification).
        no_pref = ", ".join(f"NULL AS pref_{c}" for c in _PREF_COLUMNS)
        with_prefs = (
            f"UNION ALL SELECT {', '.join('NULL' for _f in StaffNotification._meta.concrete_fields)}, "
            f"{', '.join(q(c) for c in _PREF_COLUMNS)} FROM {q(prefs.db_table)} WHERE user_id = %s AND kind IN (%s, %s) "
            "ORDER BY 1"
        )
        texts = {
            "preference": f"SELECT {', '.join(q(f.column) for f in prefs.concrete_fields)} FROM {q(prefs.db_table)} "
            "WHERE user_id = %s AND kind IN (%s, %s)",
            "inbox": f"SELECT {columns}, {no_pref} FROM {notes} WHERE user_id = %s AND ({unread}) {with_prefs}",
            "inbox_dedup": f"SELECT {columns}, {no_pref} FROM {notes} WHERE user_id = %s AND ({unread} OR dedup_key = %s) "
            f"{with_prefs}",
            "digest": f"SELECT {columns} FROM {notes} WHERE user_id = %s AND dedup_key = %s AND read_at IS NULL "
            f"ORDER BY id LIMIT 1{lock}",
        }
        sql = _SQL[key] = texts[name]
    return sql


@dataclass(frozen=True)
class _Pref:
    """A preference row as the inbox read carries it (its ``pref_*`` columns)."""

    inbox: bool
    wecom: bool
    digest: bool
    wecom_userid: str


def _pref_of(row: Any) -> _Pref:
    return _Pref(bool(row.pref_inbox), bool(row.pref_wecom), bool(row.pref_digest), row.pref_wecom_userid or "")


def _store_id(store: Any) -> int:
    return int(getattr(store, "pk", store))


def notify_staff(
    *,
    user: Any,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    store: Any,
    dedup_key: str = "",
) -> StaffNotification | None:
    """Tell one staff member something (see the module's docstring for what happens). Returns
    the inbox entry (the digest it folded into, or the earlier one with the same ``dedup_key``),
    or None when the person turned the inbox off for this kind. Runs in the caller's
    transaction; WeCom goes through the outbox, so nothing leaves before the commit."""
    user_id = int(getattr(user, "pk", user))
    store_id = _store_id(store)
    kind = str(kind)[:60]
    title = " ".join(str(title).split())[:200]
    body = str(body)[:2000]
    link = str(link)[:300] if str(link).startswith("/") else ""
    # No savepoint of its own: inside the caller's transaction a failure here rolls the cause
    # back with it (two round trips less per notification); alone it is its own transaction.
    with transaction.atomic(savepoint=False):
        dedup_key = str(dedup_key)[:200] if dedup_key else ""
        now = timezone.now()
        digest_key = f"{DIGEST_PREFIX}{kind}"
        # One read of the person's inbox answers the three questions: the same dedup_key before,
        # the recent unread ones of this kind (a flood starting), an open digest (a flood going on).
        # Its text is written once per process (``_sql``): the ORM compiled this OR of three on
        # every notification, the costliest part of an intake's notification.
        from django.db import connection

        since = connection.ops.adapt_datetimefield_value(now - DIGEST_WINDOW)
        params = [
            user_id,
            kind,
            since,
            digest_key,
            since,
            *([dedup_key] if dedup_key else []),
            user_id,
            kind,
            ALL_KINDS,
        ]
        found = list(
            StaffNotification.objects.raw(_sql("inbox_dedup" if dedup_key else "inbox"), params)
        )  # scoped: own inbox and own preferences
        rows = [n for n in found if n.pk is not None]
        prefs = {getattr(n, "pref_kind"): _pref_of(n) for n in found if n.pk is None}  # noqa: B009  (a column of the read, not a field)
        if dedup_key:
            earlier = next((n for n in rows if n.dedup_key == dedup_key), None)
            if earlier is not None:
                return earlier
        choice = _choice_of(prefs, kind)
        recent = [
            n
            for n in rows
            if n.kind == kind
            and n.read_at is None
            and n.created_at >= now - DIGEST_WINDOW
            and not n.dedup_key.startswith(DIGEST_PREFIX)
        ]
        flooding = any(
            n.dedup_key == digest_key and n.read_at is None and n.updated_at >= now - DIGEST_WINDOW for n in rows
        )
        if choice.digest or flooding or len(recent) >= DIGEST_AFTER:
            return _fold(user_id=user_id, store_id=store_id, kind=kind, recent=recent, inbox=choice.inbox)
        if not choice.inbox and not (choice.wecom and choice.wecom_userid):
            return None
        # One INSERT whose text is made once per process (``core.bulk.insert_one``; nobody listens
        # to this model's signals): the ORM compiled it on every notification.
        note = insert_one(
            StaffNotification,
            {
                "store_id": store_id,
                "user_id": user_id,
                "kind": kind,
                "title": title,
                "body": body,
                "link": link,
                "dedup_key": dedup_key,
                # Not wanted in the inbox: written read, as the record of the WeCom message.
                "read_at": None if choice.inbox else now,
            },
        )
        if choice.wecom and choice.wecom_userid:
            if not hasattr(user, "pk"):
                from django.contrib.auth import get_user_model

                user = get_user_model().objects.get(pk=user_id)
            _queue_wecom(
                store_id=store_id,
                user=user,
                to=choice.wecom_userid,
                text=f"{title}\n{body}".strip(),
                link=link,
                key=f"staff-notification:{note.pk}",
            )
        return note if choice.inbox else None


def _fold(*, user_id: int, store_id: int, kind: str, recent: list[StaffNotification], inbox: bool) -> StaffNotification:
    """Fold this notification (and the recent unread ones of its kind) into the person's open
    digest of the kind: one entry whose count grows."""
    key = f"{DIGEST_PREFIX}{kind}"
    locked = list(StaffNotification.objects.raw(_sql("digest"), [user_id, key]))  # scoped: the person's own inbox
    digest = locked[0] if locked else None
    absorbed = len(recent)
    if digest is None:
        digest = StaffNotification.objects.create(
            store_id=store_id, user_id=user_id, kind=kind, dedup_key=key, digest_count=absorbed + 1,
            title=digest_title(kind, absorbed + 1)[:200],
            link=recent[-1].link if recent else "",
        )  # fmt: skip
    else:
        # The row is locked: its count as read is the current one, so count and title go in one write.
        digest.digest_count += absorbed + 1
        digest.title = digest_title(kind, digest.digest_count)[:200]
        digest.updated_at = timezone.now()
        StaffNotification.objects.filter(pk=digest.pk).update(  # scoped: the row locked above
            digest_count=digest.digest_count, title=digest.title, updated_at=digest.updated_at
        )
    if recent:
        StaffNotification.objects.filter(pk__in=[n.pk for n in recent]).delete()  # scoped: folded into the digest
    return digest


def _queue_wecom(*, store_id: int, user: Any, to: str, text: str, link: str, key: str) -> Any:
    """A WeCom message through the outbox, when the store has a WeCom account."""
    from .services_accounts import default_account

    if default_account(store_id=store_id, channel="wecom") is None:
        return None
    try:
        from . import services
    except ImportError:  # the outbox (h/msgcore) is not merged yet
        return None
    queue = getattr(services, "message_queue", None)
    if queue is None:
        log.info("no outbox: WeCom notification %s not queued", key)
        return None
    from autocrm.core.audit import current_actor

    return queue(
        actor=current_actor(),
        store=store_id,
        purpose="staff",
        channel="wecom",
        user=user,
        to=to,
        text=text,
        values={"link": link} if link else {},
        idempotency_key=key,
    )


def digests_send(*, since: dt.timedelta = dt.timedelta(minutes=30)) -> int:
    """The periodic task's work: one WeCom digest per folded entry that grew since the last run
    and whose person wants WeCom. The idempotency key carries the count, so a rerun sends
    nothing twice and a grown digest is sent again. Returns how many were queued."""
    sent = 0
    cutoff = timezone.now() - since
    rows = (
        StaffNotification.objects.filter(  # scoped: a sweep over every store's open digests
            dedup_key__startswith=DIGEST_PREFIX, read_at__isnull=True, updated_at__gte=cutoff
        )
        .select_related("user")
        .order_by("id")
    )
    for note in rows.iterator(chunk_size=500):
        choice = preference_for(note.user_id, note.kind)
        if not (choice.wecom and choice.wecom_userid):
            continue
        with transaction.atomic():
            if _queue_wecom(
                store_id=note.store_id,
                user=note.user,
                to=choice.wecom_userid,
                text=note.title,
                link=note.link,
                key=f"staff-digest:{note.pk}:{note.digest_count}",
            ):
                sent += 1
    return sent


# --- the inbox ---------------------------------------------------------------------------------


def _inbox(actor: Actor) -> Any:
    # A person's inbox is theirs in every store they work in (the bell counts them all).
    return StaffNotification.objects.filter(user_id=actor.user_id or 0)  # scoped: the actor's own rows only


def unread_count(*, actor: Actor) -> int:
    """Unread notifications of the actor, counted up to :data:`BELL_CAP` + 1 (one indexed query)."""
    if actor is None or actor.user_id is None:
        return 0
    return int(_inbox(actor).filter(read_at__isnull=True).values("id")[: BELL_CAP + 1].count())


def notification_page(*, actor: Actor, unread: bool = False, limit: Any = 20, cursor: str | None = None) -> Page:
    """The actor's notifications, newest first, keyset pages."""
    qs = _inbox(actor)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def notification_get(*, actor: Actor, pk: Any) -> StaffNotification:
    """One of the actor's notifications; anyone else's is a 404 like a missing one."""
    from autocrm.core.errors import NotFound

    try:
        return _inbox(actor).get(pk=int(pk))
    except (StaffNotification.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@transaction.atomic
def notification_mark_read(*, actor: Actor, notification: StaffNotification) -> StaffNotification:
    if notification.user_id != actor.user_id:
        require(actor, "change", notification)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: Actor) -> int:
    return int(_inbox(actor).filter(read_at__isnull=True).update(read_at=timezone.now(), updated_at=timezone.now()))


def register_defaults() -> None:
    """The kinds the first modules send (each module may register its own the same way)."""
    register_kind(
        "leads.assigned",
        _("Lead assigned to you"),
        lambda n: (
            ngettext("%(count)d new lead assigned to you", "%(count)d new leads assigned to you", n) % {"count": n}
        ),
        order=10,
    )
    register_kind(
        "sla.breach",
        _("Follow-up overdue (SLA breach)"),
        lambda n: ngettext("%(count)d follow-up overdue", "%(count)d follow-ups overdue", n) % {"count": n},
        order=20,
    )
    register_kind(
        "escalated",
        _("Escalated to you"),
        lambda n: ngettext("%(count)d case escalated to you", "%(count)d cases escalated to you", n) % {"count": n},
        order=30,
    )
    register_kind(
        "messaging.failed",
        _("A message could not be delivered"),
        lambda n: ngettext("%(count)d message not delivered", "%(count)d messages not delivered", n) % {"count": n},
        order=40,
    )
    register_kind(
        "messaging.channel_error",
        _("A provider refused the store's credentials"),
        order=50,
    )
