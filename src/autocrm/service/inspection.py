"""Digital inspection at reception (数字化环车检查): the store's checklist grouped by area, filled
on the repair order while the advisor walks round the car with a phone — each item green,
amber or red with a note and photos; amber and red findings become recommended work (a job on
the estimate in one click, or a canned job), and the owner sees the findings with their photos
through the signed estimate link.

Services keyword-only with the actor first, atomic, checked like the repair order's other
lines (``change`` on the repair order; the technician's ``progress`` may add photos and
colours too). Bad input → ``ValidationError`` naming the field; a repair order past the
point where lines change → ``Conflict``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs, uploads
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, ValidationError
from autocrm.core.permissions import can, get_in_scope, require, require_model, scope_for

from .models import (
    CannedJob,
    Inspection,
    InspectionItem,
    InspectionPhoto,
    InspectionRating,
    InspectionTemplate,
    Job,
    PartLine,
    RepairOrder,
)

NOT_VALID = _("Some fields are not valid.")
MAX_ITEMS = 80
MAX_PHOTOS_PER_ITEM = 8
FINDINGS = (InspectionRating.AMBER, InspectionRating.RED)

# The default checklist: (area, item). Written in the store's language (Chinese) on first use.
DEFAULT_ITEMS: tuple[tuple[Any, Any], ...] = (
    (_("Tyres"), _("Front left tyre tread")),
    (_("Tyres"), _("Front right tyre tread")),
    (_("Tyres"), _("Rear left tyre tread")),
    (_("Tyres"), _("Rear right tyre tread")),
    (_("Tyres"), _("Tyre pressure and spare")),
    (_("Brakes"), _("Front brake pads and discs")),
    (_("Brakes"), _("Rear brake pads and discs")),
    (_("Brakes"), _("Brake fluid")),
    (_("Lights"), _("Headlights and indicators")),
    (_("Lights"), _("Brake and rear lights")),
    (_("Fluids"), _("Engine oil level and condition")),
    (_("Fluids"), _("Coolant")),
    (_("Fluids"), _("Washer fluid")),
    (_("Battery"), _("Battery health and terminals")),
    (_("Wipers"), _("Wiper blades")),
    (_("Body"), _("Paint and dents")),
    (_("Body"), _("Windscreen and glass")),
    (_("Underbody"), _("Suspension and steering")),
    (_("Underbody"), _("Exhaust and leaks")),
    (_("Interior"), _("Cabin air filter and air conditioning")),
)


def _conflict(field: str, message: Any) -> Conflict:
    return Conflict(message, fields={field: [message]})


def default_items() -> list[dict[str, str]]:
    from django.conf import settings

    with translation.override(settings.LANGUAGE_CODE):
        return [{"area": str(area), "label": str(label)} for area, label in DEFAULT_ITEMS]


def template_for(store_id: int) -> InspectionTemplate:
    """The store's checklist, the default written on first use."""
    row = InspectionTemplate.objects.filter(store_id=store_id).first()  # scoped: the caller's store
    if row is None:
        row, _created = InspectionTemplate.objects.get_or_create(store_id=store_id,
                                                                 defaults={"items": default_items()})  # fmt: skip
    return row


def clean_items(errors: inputs.Errors, value: Any, *, store_id: int | None = None) -> list[dict[str, Any]]:
    """A checklist from the client, in order: a list of ``{"area", "label", "photo",
    "canned_job"}`` (or lines ``area: label``). ``photo`` (true/false) makes a colour need a
    photo; ``canned_job`` is one of the store's active canned jobs, the work a finding becomes
    by default. An error names ``items`` and the line (1-based)."""
    if isinstance(value, str):
        rows: list[Any] = []
        for line in value.splitlines():
            if line.strip():
                area, sep, label = line.partition(":") if ":" in line else line.partition("：")
                rows.append({"area": area, "label": label} if sep else {"area": "", "label": area})
        value = rows
    if not isinstance(value, list | tuple) or not value or len(value) > MAX_ITEMS:
        errors.add("items", _("Give between 1 and %(n)s checklist items.") % {"n": MAX_ITEMS})
        return []
    canned_ids: set[int] = set()
    if store_id is not None:
        canned_ids = set(CannedJob.objects.filter(store_id=store_id, is_active=True)  # scoped: the store's own
                         .values_list("pk", flat=True))  # fmt: skip
    items: list[dict[str, Any]] = []
    for n, row in enumerate(value, start=1):
        if not isinstance(row, Mapping):
            errors.add("items", _("Each item needs an area and a label."))
            return []
        area = inputs.text(errors, row, "area", 40)
        label = inputs.text(errors, row, "label", 100, required=True)
        photo = row.get("photo", False)
        if photo in ("", None):
            photo = False
        if not isinstance(photo, bool) and photo not in ("true", "false", "on", "1", "0", 0, 1):
            errors.add("photo", _("Enter true or false."))
        canned: int | None = None
        if row.get("canned_job") not in (None, ""):
            canned = inputs.integer(errors, row.get("canned_job"), "canned_job", 1, inputs.ID_MAX)
            if canned is not None and canned not in canned_ids:
                errors.add("canned_job", _("Choose one of this store's canned jobs."))
        bad = [m for key in ("area", "label", "photo", "canned_job") for m in errors.fields.pop(key, [])]
        if bad:
            where = _("Line %(n)s") % {"n": n}
            errors.fields.setdefault("items", []).extend(f"{where}: {message}" for message in bad)
            return []
        items.append({"area": area or str(_("Other")), "label": label,
                      "photo": photo is True or photo in ("true", "on", "1", 1), "canned_job": canned})  # fmt: skip
    return items


def checklist_items(row: InspectionTemplate) -> list[dict[str, Any]]:
    """The checklist's items with every key (rows saved before the editor have only area and label)."""
    return [{"area": i.get("area", ""), "label": i.get("label", ""), "photo": bool(i.get("photo")),
             "canned_job": i.get("canned_job")} for i in row.items]  # fmt: skip


def checklist_get(*, actor: Actor) -> InspectionTemplate:
    """The actor's store's checklist (the roles that may read it; 403 otherwise). A store that
    never had one reads the default in the reader's language, unsaved: reading writes nothing."""
    require_model(actor, "view", InspectionTemplate)
    store_id = actor.require_store_id()
    row = InspectionTemplate.objects.filter(store_id=store_id).first()  # scoped: the actor's own store
    if row is None:
        row = InspectionTemplate(store_id=store_id, items=[{"area": str(area), "label": str(label)}
                                                           for area, label in DEFAULT_ITEMS])  # fmt: skip
    require(actor, "view", row)
    return row


@transaction.atomic
def inspection_template_save(*, actor: Actor, data: Mapping[str, Any]) -> InspectionTemplate:
    """The service manager's checklist for the store (``items``, in order; see
    :func:`clean_items`). Repair orders already inspected keep the list they were inspected with."""
    store_id = actor.require_store_id()
    require_model(actor, "change", InspectionTemplate)
    row = template_for(store_id)
    row = InspectionTemplate.objects.select_for_update().get(pk=row.pk)  # scoped: the store's own row
    require(actor, "change", row)
    errors = inputs.Errors()
    items = clean_items(errors, data.get("items"), store_id=store_id)
    errors.raise_if_any()
    row.items = items
    row.save(update_fields=["items", "updated_at"])
    audit.record("inspection_checklist.save", obj=row, actor=actor, extra={"items": len(items)})
    return row


def _editable(ro: RepairOrder) -> None:
    from .services import EDITABLE

    if ro.status not in EDITABLE:
        raise _conflict("status", _("Lines can no longer be changed at this status."))


def _may_fill(actor: Actor, ro: RepairOrder) -> None:
    """The advisor (``change``) or a technician (``progress``) fills the checklist."""
    if scope_for(actor, RepairOrder, "change") is None:
        require(actor, "progress", ro)
    else:
        require(actor, "change", ro)


def may_fill(actor: Actor, ro: RepairOrder) -> bool:
    return can(actor, "change", ro) or can(actor, "progress", ro)


@transaction.atomic
def inspection_start(*, actor: Actor, repair_order: RepairOrder) -> Inspection:
    """The repair order's inspection, made from the store's checklist the first time."""
    ro = RepairOrder.objects.select_for_update(of=("self",)).get(pk=repair_order.pk)
    _may_fill(actor, ro)
    existing = Inspection.objects.filter(repair_order=ro).first()  # scoped: this repair order
    if existing is not None:
        return existing
    _editable(ro)
    inspection = Inspection.objects.create(store_id=ro.store_id, repair_order=ro, inspector_id=actor.user_id)
    active = set(
        CannedJob.objects.filter(store_id=ro.store_id, is_active=True).values_list("pk", flat=True)
    )  # scoped: the RO's store
    InspectionItem.objects.bulk_create([
        InspectionItem(store_id=ro.store_id, inspection=inspection, position=i, area=row.get("area", ""),
                       label=row.get("label", ""), photo_required=bool(row.get("photo")),
                       canned_job_id=row.get("canned_job") if row.get("canned_job") in active else None)
        for i, row in enumerate(template_for(ro.store_id).items[:MAX_ITEMS])
    ])  # fmt: skip
    audit.record("repair_order.inspection_started", obj=ro, actor=actor)
    return inspection


def item_for(*, actor: Actor, repair_order: RepairOrder, item_id: Any) -> InspectionItem:
    return get_in_scope(InspectionItem.objects.filter(inspection__repair_order=repair_order), actor, item_id)


@transaction.atomic
def inspection_item_set(*, actor: Actor, item: InspectionItem, data: Mapping[str, Any],
                        new_photos: int = 0) -> InspectionItem:  # fmt: skip
    """Record an item's colour (``rating``: green, amber, red or empty) and ``note``. An item
    the checklist marks ``photo_required`` takes a colour only with a photo: one it has, or one
    of the ``new_photos`` the caller is adding with it."""
    ro = RepairOrder.objects.select_for_update(of=("self",)).get(pk=item.inspection.repair_order_id)
    _may_fill(actor, ro)
    _editable(ro)
    errors = inputs.Errors()
    rating = data.get("rating", item.rating)
    if rating is None:
        rating = ""
    if not isinstance(rating, str) or rating not in InspectionRating.values:
        errors.add("rating", _("Choose one of the listed values."))
    note = inputs.text(errors, data, "note", 500) if "note" in data else item.note
    if (
        rating and item.photo_required and new_photos <= 0 and not InspectionPhoto.objects.filter(item=item).exists()
    ):  # scoped: this item
        errors.add("photo", _("This item needs a photo."))
    errors.raise_if_any()
    item = InspectionItem.objects.select_for_update().get(pk=item.pk)
    item.rating = rating
    item.note = note
    item.save(update_fields=["rating", "note", "updated_at"])
    return item


@transaction.atomic
def inspection_results_record(*, actor: Actor, repair_order: RepairOrder, results: Any) -> Inspection:
    """Several items' results at once (a tablet or another system): ``results`` is a list of
    ``{"item", "rating", "note"}`` with this repair order's item ids; the inspection starts
    if it has not. All or nothing: a bad entry is a 400 naming ``results[i].<field>``."""
    row = inspection_start(actor=actor, repair_order=repair_order)
    if not isinstance(results, list | tuple) or not results or len(results) > MAX_ITEMS:
        raise ValidationError(
            NOT_VALID, fields={"results": [_("Give between 1 and %(n)s results.") % {"n": MAX_ITEMS}]}
        )
    ids = {item.pk: item for item in InspectionItem.objects.filter(inspection=row)}  # scoped: this inspection
    for i, entry in enumerate(results):
        where = f"results[{i}]"
        if not isinstance(entry, Mapping):
            raise ValidationError(NOT_VALID, fields={where: [_("Each result needs an item and a rating.")]})
        errors = inputs.Errors()
        item_id = inputs.integer(errors, entry.get("item"), "item", 1, inputs.ID_MAX)
        if item_id is None and not errors.fields:
            errors.add("item", _("This field is required."))
        elif item_id is not None and item_id not in ids:
            errors.add("item", _("Choose one of this inspection's items."))
        if errors.fields:
            raise ValidationError(NOT_VALID, fields={f"{where}.{k}": v for k, v in errors.fields.items()})
        assert item_id is not None
        try:
            inspection_item_set(actor=actor, item=ids[item_id],
                                data={k: entry[k] for k in ("rating", "note") if k in entry})  # fmt: skip
        except ValidationError as exc:
            raise ValidationError(NOT_VALID, fields={f"{where}.{k}": v for k, v in exc.fields.items()}) from exc
    return row


def inspection_photo_add(*, actor: Actor, item: InspectionItem, file: Any, name: Any = "") -> InspectionPhoto:
    """A photo of an item, checked by ``core.uploads`` (an image, 12 MB at most, by content)."""
    ro = item.inspection.repair_order
    _may_fill(actor, ro)
    _editable(ro)
    if InspectionPhoto.objects.filter(item=item).count() >= MAX_PHOTOS_PER_ITEM:  # scoped: this item
        raise _conflict("photo", _("This item has as many photos as it may have."))
    stored = uploads.store(file, store_id=ro.store_id, kind="photo", name=name or getattr(file, "name", ""),
                           field="photo")  # fmt: skip
    photo: InspectionPhoto = uploads.record(InspectionPhoto, stored, uploaded_by_id=actor.user_id,
                                            store_id=ro.store_id, item=item)  # fmt: skip
    return photo


@transaction.atomic
def inspection_recommend(*, actor: Actor, item: InspectionItem, data: Mapping[str, Any]) -> list[Job | PartLine]:
    """Turn an amber or red finding into work on the estimate: a job named after the item
    (``hours``, default 1) or the canned job ``canned_job`` — when ``canned_job`` is not sent
    at all, the checklist's default for the item, if it has one. The owner then answers it on the
    estimate link like every other line; once added, the item points at its job."""
    from . import services

    ro = RepairOrder.objects.select_for_update(of=("self",)).get(pk=item.inspection.repair_order_id)
    require(actor, "change", ro)
    _editable(ro)
    item = InspectionItem.objects.select_for_update().get(pk=item.pk)
    if item.rating not in FINDINGS:
        raise _conflict("rating", _("Only amber and red findings become recommended work."))
    if item.job_id is not None:
        raise _conflict("job", _("This finding is already on the estimate."))
    errors = inputs.Errors()
    canned_id = inputs.integer(errors, data.get("canned_job"), "canned_job", 1, inputs.ID_MAX) \
        if data.get("canned_job") else None  # fmt: skip
    if "canned_job" not in data and item.canned_job_id is not None \
            and CannedJob.objects.filter(pk=item.canned_job_id, is_active=True).exists():  # scoped: the item's own  # fmt: skip
        canned_id = item.canned_job_id
    hours = inputs.decimal(errors, data, "hours", high=Decimal("999.99"), positive=True, required=False) \
        if data.get("hours") not in (None, "") else Decimal("1.00")  # fmt: skip
    errors.raise_if_any()
    made: list[Job | PartLine]
    if canned_id is not None:
        canned = CannedJob.objects.for_actor(actor, "view").filter(pk=canned_id, store_id=ro.store_id,
                                                                   is_active=True).first()  # fmt: skip
        if canned is None:
            raise ValidationError(NOT_VALID, fields={"canned_job": [_("Choose one of this store's canned jobs.")]})
        made = services.canned_job_apply(actor=actor, repair_order=ro, canned_job=canned)
        job = next((m for m in made if isinstance(m, Job)), None)
    else:
        name = f"{item.label}（{item.note}）" if item.note else item.label
        job = services.job_add(actor=actor, repair_order=ro, data={
            "code": f"INSP{item.pk}"[:30], "name": name[:100], "hours": hours,
        })  # fmt: skip
        made = [job]
    item.job = job
    item.save(update_fields=["job", "updated_at"])
    audit.record("repair_order.inspection_recommended", obj=ro, actor=actor, extra={"item": item.pk})
    return made


# --- reads ------------------------------------------------------------------------------------


def inspection_of(ro: RepairOrder) -> Inspection | None:
    return Inspection.objects.filter(repair_order=ro).first()  # scoped: the caller read the repair order


def items_of(inspection: Inspection | None) -> list[InspectionItem]:
    if inspection is None:
        return []
    return list(InspectionItem.objects.filter(inspection=inspection).order_by("position", "id")  # scoped: parent
                .prefetch_related("photos"))  # fmt: skip


def grouped(items: list[InspectionItem]) -> list[dict[str, Any]]:
    """Items by area, in checklist order."""
    groups: dict[str, list[InspectionItem]] = {}
    for item in items:
        groups.setdefault(item.area, []).append(item)
    return [{"area": area, "items": rows} for area, rows in groups.items()]


def grouped_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checklist rows by area, in the order the inspection shows them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item.get("area", ""), []).append(item)
    return [{"area": area, "items": rows} for area, rows in groups.items()]


def summary(items: list[InspectionItem]) -> dict[str, int]:
    counts = {"green": 0, "amber": 0, "red": 0, "unchecked": 0}
    for item in items:
        counts[item.rating or "unchecked"] += 1
    return counts


def findings(items: list[InspectionItem]) -> list[InspectionItem]:
    """Red first, then amber: what the owner should hear about."""
    order: dict[str, int] = {InspectionRating.RED.value: 0, InspectionRating.AMBER.value: 1}
    return sorted((i for i in items if i.rating in FINDINGS), key=lambda i: (order[i.rating], i.position))


def require_view(actor: Actor) -> None:
    require_model(actor, "view", RepairOrder)
