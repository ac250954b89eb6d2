"""Merging two customer records into one, undoing a merge, dismissing a suggested pair.

A merge is generic on purpose: every row of every app that points at the merged customer —
vehicles, ownerships, consents, timeline, household links, tags, and whatever later modules
add (leads, deals, repair orders…) — is found through ``Customer._meta`` and re-pointed at
the survivor, so a new module needs no merge code. What moved, what had to be dropped (a row
that would break a unique constraint, e.g. both in the same household) and the survivor's
fields before are recorded on :class:`CustomerMerge`, which is what makes undo exact.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, identifiers
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, ValidationError
from autocrm.core.events import emit
from autocrm.core.models import model_field
from autocrm.core.permissions import require

from . import events
from .choices import DuplicateStatus
from .dedup import duplicates_find, pair_for
from .models import Customer, CustomerExternalId, CustomerMerge, DuplicatePair
from .search import refresh_search_keys
from .services import EDITABLE_FIELDS, external_id_conflict, timeline_record

__all__ = [
    "MERGE_FIELDS",
    "customer_merge",
    "customer_merge_undo",
    "duplicate_dismiss",
    "duplicates_find",
    "merge_defaults",
]

# Fields whose surviving value is chosen per merge (the rest: keys, store, search keys, audit).
MERGE_FIELDS: tuple[str, ...] = (*EDITABLE_FIELDS, "consultant", "advisor", "lifecycle_stage")
# Values computed from another field travel with it.
_FOLLOWERS = {"id_number": ("is_minor",)}
SURVIVOR, MERGED = "survivor", "merged"
# Relations a merge must not re-point: its own bookkeeping, and the merge chain itself.
_SKIP = {("customers.customermerge", None), ("customers.duplicatepair", None), ("customers.customer", "merged_into")}


class _Encoder(DjangoJSONEncoder):
    """Like Django's, but keeps microseconds (restored rows must be exactly the same)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def _empty(value: Any) -> bool:
    return value is None or value == ""


# External ids a system wrote (the demo generator's ``demo:…``, test and sample loads), not a DMS.
SYSTEM_EXTERNAL_ID = re.compile(r"^(demo|test|sample|seed|system|tmp)[:/]", re.IGNORECASE)
_CJK = r"[\u3400-\u9fff]"
_STRAY_SPACE = re.compile(rf"^\s|\s$|\s\s|(?<={_CJK})\s|\s(?={_CJK})")


def _normalised(normalise: Any, value: str) -> int:
    """2: valid and stored as the services store it; 1: valid, written another way; 0: invalid."""
    try:
        return 2 if normalise(value) == value else 1
    except (ValidationError, ValueError, TypeError):
        return 0


def _valid_email(value: str) -> str:
    from django.core.validators import validate_email

    try:
        validate_email(value)
    except Exception:
        raise ValueError(value) from None
    return value.strip()


_FORMS: dict[str, Any] = {
    "mobile": identifiers.normalize_mobile,
    "other_phones": lambda v: ",".join(identifiers.normalize_phone(p.strip()) for p in v.split(",") if p.strip()),
    "id_number": identifiers.normalize_id_number,
    "uscc": identifiers.normalize_uscc,
    "email": _valid_email,
}


def form_rank(name: str, value: Any) -> int:
    """How well-formed a field's value is (higher is better): identifiers that pass their check
    and are stored normalised beat those written another way, which beat invalid ones; text
    without stray spaces (``李 娜``, a trailing blank) beats text with them; an external id a DMS
    gave beats one the demo or a test load wrote."""
    if not isinstance(value, str):
        return 2
    if name in _FORMS:
        return _normalised(_FORMS[name], value)
    if name == "external_id" and SYSTEM_EXTERNAL_ID.match(value):
        return 0
    return 1 if _STRAY_SPACE.search(value) else 2


def _contains(longer: Any, shorter: Any) -> bool:
    """``longer`` says everything ``shorter`` says and more (``浦东新区张杨路1200号`` ⊃ ``张杨路1200号``)."""
    if not (isinstance(longer, str) and isinstance(shorter, str)):
        return False
    a, b = "".join(longer.split()).lower(), "".join(shorter.split()).lower()
    return len(a) > len(b) and b in a


def merge_defaults(survivor: Customer, merged: Customer) -> dict[str, str]:
    """The suggested source of each field: the only non-empty value; when both records have one
    and they differ, the better-formed one (:func:`form_rank`: a valid mobile, a name without a
    stray space, a DMS external id rather than a demo one), then the more complete one (one value
    contains the other), then the older record's — the one that has been kept longer (by creation,
    then id), since a duplicate is usually the later, hastier entry."""
    older = SURVIVOR if (survivor.created_at, survivor.pk) <= (merged.created_at, merged.pk) else MERGED
    out = {}
    for name in MERGE_FIELDS:
        attname = model_field(survivor, name).attname
        mine, theirs = getattr(survivor, attname), getattr(merged, attname)
        if _empty(mine) and not _empty(theirs):
            out[name] = MERGED
        elif _empty(mine) or _empty(theirs) or mine == theirs:
            out[name] = SURVIVOR
        elif form_rank(name, mine) != form_rank(name, theirs):
            out[name] = SURVIVOR if form_rank(name, mine) > form_rank(name, theirs) else MERGED
        elif _contains(mine, theirs) or _contains(theirs, mine):
            out[name] = SURVIVOR if _contains(mine, theirs) else MERGED
        else:
            out[name] = older
    return out


def _dump(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    """Field values by attname as JSON-safe values (dates as ISO strings)."""
    data = {}
    for name in names:
        f = model_field(obj, name)
        data[f.attname] = f.value_from_object(obj)
    loaded: dict[str, Any] = json.loads(json.dumps(data, cls=_Encoder))
    return loaded


def _load(model: type[models.Model], data: Mapping[str, Any]) -> dict[str, Any]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    out = {}
    for attname, value in data.items():
        f = fields[attname]
        out[attname] = value if value is None or isinstance(f, models.JSONField) else f.to_python(value)
    return out


def _row_dump(obj: models.Model) -> dict[str, Any]:
    return _dump(obj, tuple(f.name for f in obj._meta.concrete_fields))


def _relations() -> list[models.ForeignKey[Any, Any]]:
    """Every foreign key (and one-to-one) of any app pointing at Customer, including the hidden
    ones (``related_name="+"``) and the through tables of many-to-many fields such as tags."""
    out = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel.many_to_many:
            continue
        if not isinstance(rel, ForeignObjectRel) or not isinstance(rel.field, models.ForeignKey):
            continue  # only reverse foreign keys (one-to-ones included) point rows at a customer
        fk = rel.field
        model = fk.model  # the model holding the foreign key (rel.related_model, typed)
        label = model._meta.label_lower
        if (label, None) in _SKIP or (label, fk.name) in _SKIP:
            continue
        if model._meta.proxy or (not model._meta.managed and not model._meta.auto_created):
            continue
        out.append(fk)
    return out


def _unique_groups(model: type[models.Model], fk: models.ForeignKey[Any, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """Unique field sets of ``model`` that include ``fk``, with their condition (or None)."""
    groups: list[tuple[tuple[str, ...], Any]] = []
    if fk.unique:
        groups.append(((fk.attname,), None))
    for together in model._meta.unique_together:
        if fk.name in together:
            groups.append((tuple(model_field(model, n).attname for n in together), None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and fk.name in constraint.fields:
            names = tuple(model_field(model, n).attname for n in constraint.fields)
            groups.append((names, constraint.condition))
    return groups


def _move(
    fk: models.ForeignKey[Any, Any], source: Customer, target: Customer
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Re-point ``fk`` rows from ``source`` to ``target``. Rows that would collide with a unique
    row of ``target`` (the same household, the same tag…) are deleted instead and returned in
    full so undo can put them back."""
    model = fk.model
    manager = model._base_manager
    rows = manager.filter(**{fk.attname: source.pk})
    drop_ids: set[Any] = set()
    for names, condition in _unique_groups(model, fk):
        others = [n for n in names if n != fk.attname]
        taken_qs = manager.filter(**{fk.attname: target.pk})
        mine_qs = rows
        if condition is not None:
            taken_qs, mine_qs = taken_qs.filter(condition), mine_qs.filter(condition)
        taken = set(taken_qs.values_list(*others)) if others else ({()} if taken_qs.exists() else set())
        if not taken:
            continue
        for pk, *key in mine_qs.values_list("pk", *others):
            if tuple(key) in taken:
                drop_ids.add(pk)
    dropped = []
    if drop_ids:
        doomed = list(manager.filter(pk__in=drop_ids).order_by("pk"))
        dropped = [_row_dump(obj) for obj in doomed]
        for obj in doomed:
            obj.delete()
    moved = list(rows.exclude(pk__in=drop_ids).order_by("pk").values_list("pk", flat=True))
    if moved:
        manager.filter(pk__in=moved).update(**{fk.attname: target.pk})
    return moved, dropped


def _key(fk: models.ForeignKey[Any, Any]) -> str:
    return f"{fk.model._meta.label_lower}.{fk.name}"


def _check_pair(actor: Actor, survivor: Customer, merged: Customer) -> None:
    if survivor.pk == merged.pk:
        raise ValidationError(fields={"other": [_("Choose two different customers.")]})
    require(actor, "merge", survivor)
    require(actor, "merge", merged)
    if survivor.store_id != merged.store_id:
        raise ValidationError(fields={"other": [_("Both customers must belong to the same store.")]})
    if survivor.merged_into_id or merged.merged_into_id:
        raise Conflict(_("One of these customers has already been merged into another record."))


def _resolve_choices(survivor: Customer, merged: Customer, choices: Mapping[str, str] | None) -> dict[str, str]:
    resolved = merge_defaults(survivor, merged)
    errors: dict[str, list[Any]] = {}
    for name, source in (choices or {}).items():
        if name not in MERGE_FIELDS:
            errors.setdefault("choices", []).append(_("%(field)s cannot be chosen in a merge.") % {"field": name})
        elif source not in (SURVIVOR, MERGED):
            errors.setdefault("choices", []).append(_("Choose survivor or merged for %(field)s.") % {"field": name})
        else:
            resolved[name] = source
    if errors:
        raise ValidationError(fields=errors)
    return resolved


@transaction.atomic
def customer_merge(
    *, actor: Actor, survivor: Customer, merged: Customer, choices: Mapping[str, str] | None = None
) -> CustomerMerge:
    """Merge ``merged`` into ``survivor``: each field takes the value from the chosen record
    (``choices[field]`` is ``"survivor"`` or ``"merged"``; unnamed fields follow
    :func:`merge_defaults`), every related row of every app moves to the survivor, and the
    merged record is kept, hidden from lists, with ``merged_into`` set. The suggested pair (if
    any) is marked merged; the merge is on both timelines and in the audit trail, and can be
    undone with :func:`customer_merge_undo`."""
    # Lock both rows so two reviewers cannot merge the same records at once.
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    if len(locked) != 2 and survivor.pk != merged.pk:
        raise Conflict(_("One of these customers no longer exists."))
    survivor, merged = locked.get(survivor.pk, survivor), locked.get(merged.pk, merged)
    _check_pair(actor, survivor, merged)
    resolved = _resolve_choices(survivor, merged, choices)

    names = tuple(dict.fromkeys(n for f in MERGE_FIELDS for n in (f, *_FOLLOWERS.get(f, ()))))
    before = _dump(survivor, names)
    external_ids = (survivor.external_id, merged.external_id)
    merged_before: dict[str, Any] = {}
    for name, source in resolved.items():
        if source != MERGED:
            continue
        for field_name in (name, *_FOLLOWERS.get(name, ())):
            attname = model_field(Customer, field_name).attname
            setattr(survivor, attname, getattr(merged, attname))
    if resolved.get("external_id") == MERGED and merged.external_id:
        # The external id is unique in the store: it moves rather than being copied.
        merged_before["external_id"] = merged.external_id
        merged.external_id = ""
    after = _dump(survivor, names)

    merged.merged_into = survivor
    merged.save()
    refresh_search_keys(survivor)
    survivor.save()

    moved: dict[str, list[Any]] = {}
    dropped: dict[str, list[dict[str, Any]]] = {}
    for fk in _relations():
        ids, gone = _move(fk, merged, survivor)
        if ids:
            moved[_key(fk)] = ids
        if gone:
            dropped[_key(fk)] = gone

    aliases = _keep_external_ids(survivor, external_ids)

    pair = pair_for(survivor.pk, merged.pk)
    if pair is not None:
        pair.status = DuplicateStatus.MERGED
        pair.reviewed_by = actor.user
        pair.reviewed_at = timezone.now()
        pair.save()

    blob = {"survivor": before, "after": after, "merged": merged_before, "dropped": dropped, "aliases": aliases}
    merge = CustomerMerge.objects.create(
        store_id=survivor.store_id,
        survivor=survivor,
        merged=merged,
        actor=actor.user,
        choices=resolved,
        survivor_before=json.dumps(blob, cls=_Encoder, ensure_ascii=False),
        moved=moved,
    )
    summary = gettext("Merged customer record #%(id)s (%(name)s) into this one") % {
        "id": merged.pk,
        "name": merged.name,
    }
    timeline_record(customer=survivor, kind="customer.merged", summary=summary, obj=merge)
    audit.record(
        "customer.merge",
        obj=survivor,
        actor=actor,
        extra={
            "merge": merge.pk,
            "merged": merged.pk,
            "choices": {k: v for k, v in resolved.items() if v == MERGED},
            "moved": {k: len(v) for k, v in moved.items()},
            "dropped": {k: len(v) for k, v in dropped.items()},
        },
    )
    emit(events.CUSTOMER_MERGED, store_id=survivor.store_id,
         payload=events.CustomerMerged(merge_id=merge.pk, survivor_id=survivor.pk, merged_id=merged.pk))  # fmt: skip
    return merge


def _keep_external_ids(survivor: Customer, external_ids: tuple[str, ...]) -> list[int]:
    """Every external id the two records had and the survivor does not carry becomes an alias of
    the survivor (the merged record's aliases have moved with its other rows), so the next import
    of the same DMS export finds the survivor. Returns the ids of the aliases made (undo deletes
    them)."""
    wanted = [e for e in dict.fromkeys(external_ids) if e and e != survivor.external_id]
    if not wanted:
        return []
    taken = set(
        CustomerExternalId.objects.filter(store_id=survivor.store_id, external_id__in=wanted).values_list(
            "external_id", flat=True
        )
    )
    made = [
        CustomerExternalId.objects.create(store_id=survivor.store_id, customer=survivor, external_id=e)
        for e in wanted
        if e not in taken
    ]
    return [a.pk for a in made]


@transaction.atomic
def customer_merge_undo(*, actor: Actor, merge: CustomerMerge) -> CustomerMerge:
    """Undo a merge: the survivor's fields the merge changed get their old values back (unless
    edited since), every recorded row moves back to the merged record (rows that have since left
    the survivor stay where they are), dropped rows are re-created, tags added by the merge are
    removed, the merged record is visible again and its pair is open for review again.

    Refused (409) when undone already, or when a later merge involved either customer: undoing
    this one first would corrupt that one — undo the later merge first."""
    merge = CustomerMerge.objects.select_for_update().select_related("survivor", "merged").get(pk=merge.pk)
    require(actor, "undo", merge)
    if merge.undone_at is not None:
        raise Conflict(_("This merge has already been undone."))
    survivor, merged = merge.survivor, merge.merged
    people = [survivor.pk, merged.pk]
    later = (
        CustomerMerge.objects.filter(pk__gt=merge.pk, undone_at__isnull=True)
        .filter(models.Q(survivor_id__in=people) | models.Q(merged_id__in=people))
        .order_by("pk")
        .first()
    )
    if later is not None or merged.merged_into_id != survivor.pk:
        raise Conflict(
            _("A later merge involves these customers. Undo that merge first."),
            extra={"later_merge": later.pk if later is not None else None},
        )
    blob = json.loads(merge.survivor_before or "{}")
    before, after = blob.get("survivor", {}), blob.get("after", {})
    current = _dump(survivor, tuple(Customer._meta.get_field(a).name for a in before))
    restore = {a: v for a, v in before.items() if after.get(a) != v and current.get(a) == after.get(a)}
    for attname, value in _load(Customer, restore).items():
        setattr(survivor, attname, value)
    refresh_search_keys(survivor)
    survivor.save()

    # The aliases the merge made go; those that moved with the merged record go back below.
    CustomerExternalId.objects.filter(pk__in=blob.get("aliases", []), customer=survivor).delete()
    # Rows go back before the dropped ones are re-created (their unique partners are then gone).
    relations = {_key(fk): fk for fk in _relations()}
    for key, ids in merge.moved.items():
        fk = relations.get(key)
        if fk is None:
            continue  # the app was removed since; nothing to move back
        fk.model._base_manager.filter(pk__in=ids, **{fk.attname: survivor.pk}).update(**{fk.attname: merged.pk})
    for key, rows in blob.get("dropped", {}).items():
        fk = relations.get(key)
        if fk is None:
            continue
        model = fk.model
        existing = set(
            model._base_manager.filter(pk__in=[r["id"] for r in rows if "id" in r]).values_list("pk", flat=True)
        )
        back = [r for r in rows if r.get("id") not in existing]
        model._base_manager.bulk_create([model(**_load(model, r)) for r in back])
        # bulk_create stamps auto_now(_add) fields with the current time: put the old ones back.
        stamps = [
            f.attname
            for f in model._meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        for r in back if stamps else ():
            model._base_manager.filter(pk=r["id"]).update(**_load(model, {a: r[a] for a in stamps if a in r}))

    merged_back = blob.get("merged", {})
    if taken := external_id_conflict(
        store_id=merged.store_id, external_id=merged_back.get("external_id", ""), exclude_id=merged.pk
    ):
        message = _(
            "The merged record's external ID %(id)s now belongs to another customer of this store. "
            "Change that customer's external ID, then undo the merge."
        ) % {"id": merged_back["external_id"]}
        raise Conflict(message, fields={"external_id": [message]}) from taken
    for attname, value in merged_back.items():
        setattr(merged, attname, value)
    merged.merged_into = None
    merged.save()

    pair = pair_for(survivor.pk, merged.pk)
    if pair is not None and pair.status == DuplicateStatus.MERGED:
        pair.status = DuplicateStatus.OPEN
        pair.reviewed_by = None
        pair.reviewed_at = None
        pair.save()
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at", "updated_at"])
    summary = gettext("Undid the merge of customer record #%(id)s (%(name)s)") % {"id": merged.pk, "name": merged.name}
    timeline_record(customer=survivor, kind="customer.merge_undone", summary=summary, obj=merge)
    audit.record("customer.merge_undo", obj=survivor, actor=actor, extra={"merge": merge.pk, "merged": merged.pk})
    emit(events.CUSTOMER_MERGE_UNDONE, store_id=survivor.store_id,
         payload=events.CustomerMergeUndone(merge_id=merge.pk, survivor_id=survivor.pk, merged_id=merged.pk))  # fmt: skip
    return merge


@transaction.atomic
def duplicate_dismiss(*, actor: Actor, pair: DuplicatePair) -> DuplicatePair:
    """Mark a suggested pair as not a duplicate; later runs of the finder leave it dismissed."""
    require(actor, "change", pair)
    if pair.status == DuplicateStatus.MERGED:
        raise Conflict(_("This pair has been merged. Undo the merge instead."))
    pair.status = DuplicateStatus.DISMISSED
    pair.reviewed_by = actor.user
    pair.reviewed_at = timezone.now()
    pair.save()
    return pair
