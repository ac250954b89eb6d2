"""Writes of customer master data. Every function is atomic, checks the actor's rights and
leaves an audit trail (automatic for saved rows; explicit for domain events)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core import addresses, identifiers
from autocrm.core.actor import Actor
from autocrm.core.conflicts import store_key_conflict
from autocrm.core.errors import Conflict, DomainError, PermissionDenied, ValidationError
from autocrm.core.events import emit
from autocrm.core.models import model_field
from autocrm.core.permissions import can, require, scope_for
from autocrm.core.roles import ADVISOR_ROLES, CONSULTANT_ROLES, Role

from . import events
from .choices import Channel, ConsentPurpose, CustomerKind, Gender, IncomeBand, Relation, SourceChannel
from .models import Consent, Customer, Household, HouseholdMember, Tag, TimelineEvent
from .search import refresh_search_keys

# Fields a person may set through a form, the API or an import.
EDITABLE_FIELDS = (
    "kind", "name", "mobile", "other_phones", "wechat_id", "email", "gender", "birthday", "id_number", "uscc",
    "province", "city", "district", "address", "community", "occupation", "employer", "income_band",
    "preferred_channel", "quiet_hours_start", "quiet_hours_end", "source_channel", "external_id",
    "personalised_marketing_opt_out", "licence_expiry",
)  # fmt: skip
_CHOICES = {
    "kind": CustomerKind,
    "gender": Gender,
    "income_band": IncomeBand,
    "preferred_channel": Channel,
    "source_channel": SourceChannel,
}
_MAX_LENGTHS = {f.name: f.max_length for f in Customer._meta.concrete_fields if getattr(f, "max_length", None)}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def customer_clean(
    data: Mapping[str, Any], *, today: dt.date | None = None, default_city: str | None = None
) -> dict[str, Any]:
    """:func:`customer_clean_checked` without its warnings."""
    return customer_clean_checked(data, today=today, default_city=default_city)[0]


def customer_clean_checked(
    data: Mapping[str, Any], *, today: dt.date | None = None, default_city: str | None = None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate and normalise customer fields (all errors at once, each naming its field);
    returns ``(cleaned, warnings)`` with each warning as ``(field, message)``.

    Mobile → E.164, ID number → upper-case with checksum and birth date verified (gender and
    birthday filled from it when empty; under-14 flagged), USCC verified for companies, other
    phones each validated. An address typed as one string fills province, city, district and
    community when they are blank (``default_city``, the store's city, where it names none);
    an unknown district or one of another city is a warning, not an error
    (:mod:`autocrm.core.addresses`). Unknown fields are ignored; only fields present (or filled
    from the address) are returned."""
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        try:
            out[name] = _clean_field(name, value, today=today)
        except ValidationError as exc:
            for field, messages in (exc.fields or {name: [exc.message]}).items():
                errors.setdefault(field, []).extend(messages)
    if "name" in data and not out.get("name") and "name" not in errors:
        errors.setdefault("name", []).append(_("Enter the customer's name."))
    if out.get("quiet_hours_start") and not out.get("quiet_hours_end", data.get("quiet_hours_end")):
        errors.setdefault("quiet_hours_end", []).append(_("Give both ends of the quiet hours."))
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    if out.get("id_number"):
        number = out["id_number"]
        if not out.get("birthday"):
            out["birthday"] = identifiers.id_birth_date(number)
        if not out.get("gender"):
            out["gender"] = identifiers.id_gender(number)
        out["is_minor"] = identifiers.id_is_under_14(number, today)
    return out, _address_fill(out, default_city)


def _address_fill(out: dict[str, Any], default_city: str | None) -> list[tuple[str, str]]:
    """Province / city / district (and community) from the one-string address when all three
    are blank; otherwise the three are checked against the table of divisions. Only a parse
    without doubts fills anything, and then the address keeps what follows the divisions."""
    province, city, district = out.get("province", ""), out.get("city", ""), out.get("district", "")
    if province or city or district:
        return [("district", str(w)) for w in addresses.division_check(province, city, district)]
    if not out.get("address"):
        return []
    parsed = addresses.address_parse(out["address"], default_city=default_city)
    if parsed.warnings:
        return [("address", str(w)) for w in parsed.warnings]
    # A default city alone (nothing written before the street) says nothing about this address.
    if parsed.district or (parsed.city and parsed.rest != addresses.normalize_address_text(out["address"])):
        out.update(province=parsed.province, city=parsed.city, district=parsed.district)
        out["address"] = parsed.rest
    if parsed.community and not out.get("community"):
        out["community"] = parsed.community[: _MAX_LENGTHS["community"]]
    return []


_ADDRESS_FIELDS = ("province", "city", "district", "address")


def customer_address_warnings(
    *, actor: Actor, data: Mapping[str, Any], customer: Customer | None = None
) -> list[tuple[str, str]]:
    """The doubts about the address a create (or an update of ``customer``) would save — an
    unknown district (火星区), one of another city, a plate typed as the address — as ``(field,
    message)``: the entry page shows them before saving, and the user may save past them. An
    update that leaves the address as it was raises none; data the save would refuse gives none
    (its errors come from the save)."""
    if customer is not None:
        if all(_text(data.get(k, getattr(customer, k))) == _text(getattr(customer, k)) for k in _ADDRESS_FIELDS):
            return []
        data = {k: getattr(customer, k) for k in ("province", "city", "district")} | dict(data)
    try:
        return customer_clean_checked(data, default_city=_store_city(actor, data))[1]
    except ValidationError:
        return []


def _store_city(actor: Actor, data: Mapping[str, Any]) -> str | None:
    """The city of the actor's store, read only when an address without divisions needs it."""
    if not _text(data.get("address")) or any(_text(data.get(k)) for k in ("province", "city", "district")):
        return None
    from autocrm.tenancy.models import Store

    return Store.objects.filter(pk=actor.require_store_id()).values_list("city", flat=True).first()


def _iso_cleaner(kind: type[dt.date] | type[dt.time], message: Any) -> Any:
    """A cleaner for ``date``/``time`` fields: the value itself, or its ISO text."""

    def clean(name: str, value: Any, today: dt.date | None) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, kind):
            return value
        try:
            return kind.fromisoformat(_text(value))
        except ValueError:
            raise ValidationError(fields={name: [message]}) from None

    return clean


_clean_date = _iso_cleaner(dt.date, _("Enter a date as YYYY-MM-DD."))
_clean_time = _iso_cleaner(dt.time, _("Enter a time as HH:MM."))


def _clean_mobile(name: str, value: Any, today: dt.date | None) -> str:
    text = _text(value)
    return identifiers.normalize_mobile(text) if text else ""


def _clean_other_phones(name: str, value: Any, today: dt.date | None) -> str:
    items = value if isinstance(value, list | tuple) else _text(value).replace("，", ",").split(",")
    return ",".join(identifiers.normalize_phone(_text(p), field=name) for p in items if _text(p))


def _clean_id_number(name: str, value: Any, today: dt.date | None) -> str:
    text = _text(value)
    return identifiers.normalize_id_number(text, today=today) if text else ""


def _clean_uscc(name: str, value: Any, today: dt.date | None) -> str:
    text = _text(value)
    return identifiers.normalize_uscc(text) if text else ""


def _clean_text(name: str, value: Any, today: dt.date | None) -> str:
    text = value.strip() if type(value) is str else _text(value)
    if "\x00" in text:  # PostgreSQL cannot store it; an imported file may carry one in any cell
        raise ValidationError(fields={name: [_("Text may not contain NUL characters or unpaired surrogates.")]})
    limit = _MAX_LENGTHS.get(name)
    if limit is not None and len(text) > limit:
        raise ValidationError(fields={name: [_("At most %(n)s characters.") % {"n": limit}]})
    return text


def _clean_email(name: str, value: Any, today: dt.date | None) -> str:
    text = _text(value)
    if text:
        from django.core.validators import validate_email

        try:
            validate_email(text)
        except Exception:
            raise ValidationError(fields={name: [_("Enter a valid email address.")]}) from None
    return _clean_text(name, text, today)


def _choice_cleaner(name: str) -> Any:
    allowed = set(_CHOICES[name].values)
    if model_field(Customer, name).blank:
        allowed.add("")

    def clean(name: str, value: Any, today: dt.date | None) -> str:
        text = _text(value)
        if text not in allowed:
            raise ValidationError(fields={name: [_("Choose one of the listed values.")]})
        return _clean_text(name, text, today)

    return clean


# One cleaner per field (the rest are plain text with a length limit): a dictionary lookup instead
# of a chain of comparisons, as an import runs this for every cell.
def _clean_bool(name: str, value: Any, today: dt.date | None) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in ("1", "true", "yes", "on", "是"):
        return True
    if text in ("", "0", "false", "no", "off", "否"):
        return False
    raise ValidationError(fields={name: [_("Choose yes or no.")]})


_CLEANERS: dict[str, Any] = {
    "personalised_marketing_opt_out": _clean_bool,
    "birthday": _clean_date,
    "licence_expiry": _clean_date,
    "quiet_hours_start": _clean_time,
    "quiet_hours_end": _clean_time,
    "mobile": _clean_mobile,
    "other_phones": _clean_other_phones,
    "id_number": _clean_id_number,
    "uscc": _clean_uscc,
    "email": _clean_email,
    **{name: _choice_cleaner(name) for name in _CHOICES},
}


def _clean_field(name: str, value: Any, *, today: dt.date | None) -> Any:
    return _CLEANERS.get(name, _clean_text)(name, value, today)


def _check_staff(actor: Actor, user_id: Any, field: str, roles: Iterable[str]) -> int | None:
    if user_id in (None, ""):
        return None
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        raise ValidationError(fields={field: [_("Choose a member of this store.")]}) from None
    ok = Membership.objects.filter(user_id=uid, store_id=actor.require_store_id(), role__in=list(roles), is_active=True)
    if not ok.exists():
        raise ValidationError(fields={field: [_("Choose a member of this store with the right role.")]})
    return uid


def customer_duplicates(*, actor: Actor, cleaned: Mapping[str, Any], exclude_id: int | None = None) -> list[Customer]:
    """Customers of the actor's store that look like the same person, best first
    (:func:`autocrm.customers.dedup.entry_matches`: the batch finder's normalisation and evidence
    — any phone against mobiles and other phones, the ID number, the street and number of the
    address, the name in any spelling — scored as the finder scores a pair). Checked across the
    whole store, not only what the actor may see, so a consultant cannot create a second record
    of a colleague's customer; callers show out-of-scope matches without their details."""
    from .dedup import entry_matches

    matches = entry_matches(store_id=actor.require_store_id(), cleaned=cleaned, exclude_id=exclude_id)
    if not matches:
        return []
    found = Customer.objects.in_bulk([cid for cid, _score, _reasons in matches])
    return [found[cid] for cid, _score, _reasons in matches if cid in found]


class _DuplicateConflict(Conflict):
    """A 409 naming the likely duplicates (``extra["duplicates"]``); ``strong`` when the mobile or
    the ID number matched, which confirming a new record cannot override."""

    def __init__(
        self, message: Any, *, fields: dict[str, list[Any]], duplicates: list[dict[str, Any]], strong: bool
    ) -> None:
        super().__init__(message, fields=fields, extra={"duplicates": duplicates})
        self.duplicates = duplicates
        self.strong = strong


def _duplicate_conflict(actor: Actor, matches: list[Customer], cleaned: Mapping[str, Any]) -> _DuplicateConflict:
    strong = [
        m
        for m in matches
        if (cleaned.get("mobile") and m.mobile == cleaned["mobile"])
        or (cleaned.get("id_number") and m.id_number == cleaned["id_number"])
    ]
    field = "mobile" if any(m.mobile == cleaned.get("mobile") for m in strong) else "id_number"
    if strong:
        message = _("A customer with this mobile or ID number already exists in this store.")
    elif any(m.district and m.district == cleaned.get("district") and m.name == cleaned.get("name") for m in matches):
        message = _(
            "A customer with the same name already lives in this district. Link to them or confirm a new record."
        )
    else:
        message = _(
            "A customer who looks like the same person (name, address or phone) already exists. Link to them or "
            "confirm a new record."
        )
    duplicates = [
        {"id": m.pk if can(actor, "view", m) else None, "name": m.name if can(actor, "view", m) else m.name[:1] + "*"}
        for m in matches
    ]
    return _DuplicateConflict(
        message, fields={field if strong else "name": [message]}, duplicates=duplicates, strong=bool(strong)
    )


CREATE_TARGET = "customers.customer"  # the create page's extras (core.forms.register_create_extra)


def _merge_errors(errors: dict[str, list[Any]], exc: DomainError, *, prefix: str = "", default: str = "") -> None:
    for field, messages in (exc.fields or {default or "__all__": [exc.message]}).items():
        key = f"{prefix}-{field}" if prefix else field
        errors.setdefault(key, []).extend(messages)


def customer_create_check(
    *,
    actor: Actor,
    data: Mapping[str, Any],
    consultant_id: int | None = None,
    advisor_id: int | None = None,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a new customer and the extras of the create page together, writing nothing.

    Returns ``(cleaned customer fields, {extra key: what its save needs})``. Every error of
    every part is raised at once as one ``ValidationError``: the customer's under their field
    names, an extra's as ``<key>-<field>`` (the prefix of the extra's form). Empty extras are
    skipped. Not allowed to add customers (or a visible extra's records) → 403."""
    from autocrm.core.forms import create_extra

    if scope_for(actor, Customer, "add") is None:
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned = customer_clean(data, default_city=_store_city(actor, data))
    except ValidationError as exc:
        _merge_errors(errors, exc)
    if "name" not in errors and not _text(data.get("name")):
        errors.setdefault("name", []).append(_("Enter the customer's name."))
    if actor.role == Role.SALES:
        consultant_id = actor.user_id
    for field, user_id, roles in (
        ("consultant", consultant_id, CONSULTANT_ROLES),
        ("advisor", advisor_id, ADVISOR_ROLES),
    ):
        try:
            cleaned[field + "_id"] = _check_staff(actor, user_id, field, roles)
        except ValidationError as exc:
            _merge_errors(errors, exc)
    checked: dict[str, Any] = {}
    for key, extra_data in (extras or {}).items():
        extra = create_extra(CREATE_TARGET, key)
        if extra is None:
            errors.setdefault("__all__", []).append(_("Choose one of the listed values."))
            continue
        if extra.is_empty(extra_data):
            continue
        if not extra.visible(actor):
            raise PermissionDenied()
        try:
            checked[key] = extra.check(actor, extra_data)
        except (ValidationError, Conflict) as exc:
            _merge_errors(errors, exc, prefix=key)
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    return cleaned, checked


def external_id_conflict(*, store_id: int, external_id: str, exclude_id: int | None = None) -> Conflict | None:
    """The 409 for an ``external_id`` another customer of the store holds, else None
    (:func:`autocrm.core.conflicts.store_key_conflict`: the same words whether or not the holder
    is in the actor's scope)."""
    return store_key_conflict(
        Customer, store_id=store_id, field="external_id", value=external_id, exclude_id=exclude_id,
        message=_("Another customer of this store already has this external ID."),
    )  # fmt: skip


@transaction.atomic
def customer_create(
    *,
    actor: Actor,
    data: Mapping[str, Any],
    consultant_id: int | None = None,
    advisor_id: int | None = None,
    tags: Iterable[str] = (),
    consents: Iterable[Mapping[str, Any]] = (),
    confirm_new: bool = False,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
) -> Customer:
    """Create a customer in the actor's current store, with the create page's extras (the
    first vehicle, …) in the same transaction.

    The customer and every extra are validated together first (:func:`customer_create_check`:
    one ``ValidationError`` with every field's errors), so a bad part saves nothing. The same
    mobile or ID number in the store is a 409 (one customer, one record); the same name in the
    same district is a 409 too unless ``confirm_new``. A sales consultant's new customers are
    assigned to themselves."""
    cleaned, checked = customer_create_check(
        actor=actor, data=data, consultant_id=consultant_id, advisor_id=advisor_id, extras=extras
    )
    matches = customer_duplicates(actor=actor, cleaned=cleaned)
    if matches:
        exc = _duplicate_conflict(actor, matches, cleaned)
        if exc.strong or not confirm_new:
            raise exc
    if taken := external_id_conflict(store_id=actor.require_store_id(), external_id=cleaned.get("external_id", "")):
        raise taken
    customer = Customer(store_id=actor.require_store_id(), **cleaned)
    refresh_search_keys(customer)
    customer.save()
    _set_tags(actor, customer, tags)
    for consent in consents:
        consent_record(actor=actor, customer=customer, **consent)
    timeline_record(customer=customer, kind="customer.created", summary=str(_("Customer record created")))
    if checked:
        from autocrm.core.forms import create_extra

        for key, value in checked.items():
            extra = create_extra(CREATE_TARGET, key)
            assert extra is not None  # checked above
            extra.save(actor, customer, value)
    emit(events.CUSTOMER_CREATED, store_id=customer.store_id, payload=events.CustomerCreated(customer_id=customer.pk))
    return customer


_KEEP: Any = object()


@transaction.atomic
def customer_update(
    *, actor: Actor, customer: Customer, data: Mapping[str, Any], confirm: bool = False, consultant_id: Any = _KEEP
) -> Customer:
    """Change fields of a customer the actor may change. Changing mobile, ID number or external
    ID to one another customer of the store holds is a 409. With ``consultant_id`` (the edit page of a
    role that may assign) a changed consultant is assigned in the same transaction."""
    require(actor, "change", customer)
    if "address" in data:  # the record's divisions, unless changed too: an address alone fills no blank
        data = {k: getattr(customer, k) for k in ("province", "city", "district")} | dict(data)
    cleaned = customer_clean(data, default_city=_store_city(actor, data))
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError(fields={"name": [_("Enter the customer's name.")]})
    identity = {k: cleaned[k] for k in ("mobile", "id_number") if cleaned.get(k) and cleaned[k] != getattr(customer, k)}
    if identity:
        matches = customer_duplicates(actor=actor, cleaned=identity, exclude_id=customer.pk)
        if matches:
            raise _duplicate_conflict(actor, matches, identity)
    if cleaned.get("external_id") and cleaned["external_id"] != customer.external_id:
        taken = external_id_conflict(
            store_id=customer.store_id, external_id=cleaned["external_id"], exclude_id=customer.pk
        )
        if taken:
            raise taken
    changed = tuple(name for name, value in cleaned.items() if getattr(customer, name) != value)
    for name, value in cleaned.items():
        setattr(customer, name, value)
    refresh_search_keys(customer)
    customer.save()
    if consultant_id is not _KEEP and consultant_id != customer.consultant_id:
        customer_assign(actor=actor, customer=customer, consultant_id=consultant_id)
    if changed:
        emit(events.CUSTOMER_UPDATED, store_id=customer.store_id,
             payload=events.CustomerUpdated(customer_id=customer.pk, fields=changed))  # fmt: skip
    return customer


@transaction.atomic
def customer_assign(*, actor: Actor, customer: Customer, consultant_id: int | None, reason: str = "") -> Customer:
    require(actor, "assign", customer)
    before = customer.consultant_id
    customer.consultant_id = _check_staff(actor, consultant_id, "consultant", CONSULTANT_ROLES)
    customer.save(update_fields=["consultant", "updated_at"])
    timeline_record(customer=customer, kind="customer.assigned", summary=reason or str(_("Consultant changed")))
    if customer.consultant_id != before:
        emit(events.CUSTOMER_UPDATED, store_id=customer.store_id,
             payload=events.CustomerUpdated(customer_id=customer.pk, fields=("consultant",)))  # fmt: skip
    return customer


def _set_tags(actor: Actor, customer: Customer, names: Iterable[str]) -> None:
    names = sorted({n.strip() for n in names if n and n.strip()})
    if not names:
        return
    existing = {t.name: t for t in Tag.objects.filter(store_id=customer.store_id, name__in=names)}
    missing = [n for n in names if n not in existing]
    if missing and not can(actor, "add", Tag):
        raise PermissionDenied(_("You may not create new tags."))
    for name in missing:
        if len(name) > 40:
            raise ValidationError(fields={"tags": [_("A tag has at most 40 characters.")]})
        existing[name] = Tag.objects.create(store_id=customer.store_id, name=name)
    customer.tags.add(*existing.values())


@transaction.atomic
def customer_tag(*, actor: Actor, customer: Customer, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Customer:
    require(actor, "change", customer)
    _set_tags(actor, customer, add)
    drop = [n.strip() for n in remove if n and n.strip()]
    if drop:
        customer.tags.remove(*Tag.objects.filter(store_id=customer.store_id, name__in=drop))
    return customer


# --- consent ---------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: Actor,
    customer: Customer,
    purpose: str,
    channel: str,
    granted: bool = True,
    source: str = "",
) -> Consent:
    """Record a grant (or refusal) of consent for one purpose on one channel (PIPL)."""
    require(actor, "change", customer)
    errors: dict[str, list[Any]] = {}
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = [_("Choose one of the listed values.")]
    if channel not in Channel.values:
        errors["channel"] = [_("Choose one of the listed values.")]
    if errors:
        raise ValidationError(fields=errors)
    consent = Consent.objects.create(
        store_id=customer.store_id,
        customer=customer,
        purpose=purpose,
        channel=channel,
        granted=granted,
        source=_text(source)[:60],
    )
    timeline_record(
        customer=customer,
        kind="consent.granted" if granted else "consent.refused",
        summary=f"{ConsentPurpose(purpose).label} · {Channel(channel).label}",
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, actor: Actor, customer: Customer, purpose: str, channel: str, source: str = ""
) -> Consent | None:
    """Withdraw consent: the grant in force is closed with the time, and nothing is sent on that
    channel for that purpose from now on."""
    require(actor, "change", customer)
    current = Consent.objects.filter(customer=customer, purpose=purpose, channel=channel).order_by("-at", "-id").first()
    if current is None or not current.granted or current.withdrawn_at is not None:
        return None
    current.withdrawn_at = timezone.now()
    current.save(update_fields=["withdrawn_at", "updated_at"])
    timeline_record(
        customer=customer,
        kind="consent.withdrawn",
        summary=f"{ConsentPurpose(purpose).label} · {Channel(channel).label}",
    )
    return current


def consent_allows(*, customer: Customer, purpose: str, channel: str) -> bool:
    """Does the customer's consent in force allow ``purpose`` on ``channel`` right now?"""
    current = Consent.objects.filter(customer=customer, purpose=purpose, channel=channel).order_by("-at", "-id").first()
    return bool(current and current.granted and current.withdrawn_at is None)


# --- households --------------------------------------------------------------------------------


@transaction.atomic
def household_link(*, actor: Actor, customer: Customer, member: Customer, relation: str) -> Household:
    """Put ``member`` in ``customer``'s household (created on first use) with ``relation``."""
    require(actor, "change", customer)
    require(actor, "view", member)
    if member.store_id != customer.store_id:
        raise ValidationError(fields={"member": [_("Both customers must belong to the same store.")]})
    if member.pk == customer.pk:
        raise ValidationError(fields={"member": [_("Choose another customer.")]})
    if relation not in Relation.values:
        raise ValidationError(fields={"relation": [_("Choose one of the listed values.")]})
    link = HouseholdMember.objects.filter(customer=customer).select_related("household").first()
    if link is None:
        household = Household.objects.create(store_id=customer.store_id, name=customer.name)
        HouseholdMember.objects.create(
            store_id=customer.store_id, household=household, customer=customer, relation=Relation.SELF
        )
    else:
        household = link.household
    other = HouseholdMember.objects.filter(customer=member).exclude(household=household).first()
    if other is not None:
        raise Conflict(_("This customer already belongs to another household."), fields={"member": [""]})
    HouseholdMember.objects.update_or_create(
        household=household, customer=member, defaults={"relation": relation, "store_id": customer.store_id}
    )
    timeline_record(customer=customer, kind="household.linked", summary=member.name)
    return household


@transaction.atomic
def household_unlink(*, actor: Actor, customer: Customer, member: Customer) -> None:
    require(actor, "change", customer)
    link = HouseholdMember.objects.filter(customer=customer).first()
    if link is None:
        return
    HouseholdMember.objects.filter(household_id=link.household_id, customer=member).delete()


# --- timeline -----------------------------------------------------------------------------------


def timeline_record(
    *,
    customer: Customer | int,
    kind: str,
    summary: str,
    at: dt.datetime | None = None,
    link: str = "",
    obj: Any = None,
    store_id: int | None = None,
) -> TimelineEvent:
    """Append one touch to a customer's timeline. Every module calls this (or the
    ``customers.timeline`` event) for leads, visits, calls, messages, deals, repair orders…;
    it is bookkeeping inside the caller's transaction, not a permission-checked action."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    if store_id is None:
        store_id = (
            customer.store_id
            if not isinstance(customer, int)
            else Customer.objects.values_list("store_id", flat=True).get(pk=customer_id)
        )
    return TimelineEvent.objects.create(
        store_id=store_id,
        customer_id=customer_id,
        kind=kind,
        at=at or timezone.now(),
        summary=summary[:300],
        link=link[:300],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
