"""Writes and previews of message templates (issue 12 item 2).

``template_save`` is the one way a template is created or changed, from the page and from
``/api/v1/templates`` alike: every field is checked, then :func:`rendering.template_problems`
(unknown variables, the providers' rules, the store's unsubscribe text), so a template that
saves renders. A preview renders a template with a real customer's values — read in the
actor's scope and as the actor may see them — or with the vocabulary's sample values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.core.permissions import can, present, require, require_model

from . import rendering
from .choices import MessageChannel, Purpose
from .models import MessageTemplate
from .services_accounts import settings_for

LANGUAGES = (("zh-hans", _("Chinese (simplified)")), ("en", _("English")))
LANGUAGE_CODES = tuple(code for code, _label in LANGUAGES)
# Channels a customer template may go out on; staff notices (WeCom, inbox) are templates too.
TEMPLATE_CHANNELS = tuple(MessageChannel.values)
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_TEXT_FIELDS = {"name": 100, "subject": 200, "provider_template_id": 80}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _param_order(value: Any) -> list[str] | None:
    """A list of ``variable`` / ``key:variable`` entries, from a list or a comma-separated text."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = [p.strip() for p in re.split(r"[,，\s]+", value) if p.strip()]
    elif isinstance(value, (list, tuple)):
        items = [_text(p) for p in value]
    else:
        return None
    if len(items) > 20 or any(not p or len(p) > 80 or not isinstance(p, str) for p in items):
        return None
    return items


def template_clean(data: Mapping[str, Any], *, template: MessageTemplate | None = None) -> dict[str, Any]:
    """Every field checked and normalised; all field errors at once, each naming its field."""
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}

    def current(name: str, default: Any = "") -> Any:
        if name in data:
            return data[name]
        return getattr(template, name) if template is not None else default

    code = _text(current("code")).lower()
    if not _CODE.match(code):
        errors.setdefault("code", []).append(
            _("Use lower-case letters, digits, - and _ (at most 60), e.g. appointment_reminder.")
        )
    out["code"] = code
    for name, limit in _TEXT_FIELDS.items():
        value = _text(current(name))
        if len(value) > limit:
            errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": limit})
        out[name] = value
    if not out["name"]:
        errors.setdefault("name", []).append(_("Give the template a name."))
    purpose = _text(current("purpose"))
    if purpose not in Purpose.values:
        errors.setdefault("purpose", []).append(_("Choose one of the listed values."))
    out["purpose"] = purpose
    channel = _text(current("channel"))
    if channel not in TEMPLATE_CHANNELS:
        errors.setdefault("channel", []).append(_("Choose one of the listed values."))
    out["channel"] = channel
    language = _text(current("language", "zh-hans")).lower() or "zh-hans"
    if language not in LANGUAGE_CODES:
        errors.setdefault("language", []).append(_("Choose one of the listed values."))
    out["language"] = language
    for name in ("body", "html"):
        value = current(name)
        out[name] = "" if value is None else str(value).replace("\r\n", "\n").strip()
        if len(out[name]) > 10_000:
            errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": 10_000})
    order = _param_order(current("param_order", []))
    if order is None:
        errors.setdefault("param_order", []).append(_("List the variables in the provider's order, e.g. customer_name, plate."))
        order = []
    out["param_order"] = order
    active = current("is_active", True)
    out["is_active"] = active if isinstance(active, bool) else str(active).lower() in ("1", "true", "on", "yes")
    if errors:
        raise ValidationError(_("Some fields are not valid."), fields=errors)
    return out


@transaction.atomic
def template_save(
    *, actor: Actor, store: Any = None, data: Mapping[str, Any], template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create a template in the actor's store (``template`` None) or change one.

    400 naming each bad field: an unknown ``{variable}`` (named), 【】 in an SMS, offers or the
    unsubscribe text in a service notice, a provider template id or parameter order missing.
    409 on ``code`` when the store has that code for the channel and language already. The
    store is never the client's: ``store`` (a Store or its id) must be the actor's current
    store; a changed template keeps its own."""
    if template is None:
        require_model(actor, "add", MessageTemplate)
        store_id = actor.require_store_id()
        if store is not None and getattr(store, "pk", store) != store_id:
            raise PermissionDenied()
    else:
        require(actor, "change", template)
        store_id = template.store_id
    cleaned = template_clean(data, template=template)
    unsubscribe = settings_for(store_id).unsubscribe_text
    problems = rendering.template_problems(
        purpose=cleaned["purpose"],
        channel=cleaned["channel"],
        body=cleaned["body"],
        subject=cleaned["subject"],
        html=cleaned["html"],
        provider_template_id=cleaned["provider_template_id"],
        param_order=cleaned["param_order"],
        unsubscribe_text=unsubscribe,
    )
    if problems:
        raise ValidationError(_("The template breaks a rule of its channel."), fields=problems)
    taken = MessageTemplate.objects.filter(  # scoped: uniqueness inside the template's own store
        store_id=store_id, code=cleaned["code"], channel=cleaned["channel"], language=cleaned["language"]
    )
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if taken.exists():
        raise _code_taken()
    obj = template if template is not None else MessageTemplate(store_id=store_id)
    for name, value in cleaned.items():
        setattr(obj, name, value)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:  # a concurrent save took the code first
        raise _code_taken() from None
    return obj


def _code_taken() -> Conflict:
    return Conflict(
        _("The store has a template with this code for this channel and language already."),
        fields={"code": [_("Code taken for this channel and language.")]},
    )


@transaction.atomic
def template_delete(*, actor: Actor, template: MessageTemplate) -> None:
    """Remove a template; messages already written keep their text (their link is cleared)."""
    require(actor, "delete", template)
    template.delete()


# --- preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    html: str
    params: tuple[str, ...]
    values: dict[str, str]
    missing: tuple[str, ...] = ()
    customer: Any = None


def _title(name: str, gender: str) -> str:
    if not name:
        return ""
    suffix = {"male": "先生", "female": "女士"}.get(gender or "")
    return f"{name[0]}{suffix}" if suffix else name


def customer_values(*, actor: Actor, customer: Any) -> dict[str, str]:
    """The template variables a customer fills, as ``actor`` may see them: a field the role
    may not see is left out (the preview shows it missing), a sensitive one is masked."""
    from autocrm.tenancy.models import Store
    from autocrm.vehicles.models import Vehicle

    values: dict[str, str] = {}
    name = present(actor, customer, "name") or ""
    values["customer_name"] = str(name)
    values["customer_title"] = _title(str(name), customer.gender)
    store = Store.objects.filter(pk=customer.store_id).only("name", "phone").first()  # scoped: the customer's own store
    if store is not None:
        values["store_name"] = store.name
        values["store_phone"] = store.phone
    for field, var in (("consultant", "consultant_name"), ("advisor", "advisor_name")):
        user = getattr(customer, field, None)
        if user is not None:
            values[var] = getattr(user, "display_name", "") or user.get_username()
    if can(actor, "view", Vehicle):
        vehicle = (
            Vehicle.objects.for_actor(actor, "view")
            .filter(customer_id=customer.pk)
            .select_related("series")
            .order_by("-id")
            .first()
        )
        if vehicle is not None:
            values["plate"] = vehicle.plate or ""
            values["vin_tail"] = (vehicle.vin or "")[-6:]
            series = getattr(vehicle, "series", None)
            values["model"] = series.name if series is not None else ""
            for attr, var in (("inspection_due", "due_date"),):
                due = getattr(vehicle, attr, None)
                if due is not None:
                    values[var] = due.isoformat()
    return {k: v for k, v in values.items() if v}


def template_preview(
    *,
    actor: Actor,
    template: MessageTemplate | None = None,
    data: Mapping[str, Any] | None = None,
    customer: Any = None,
    values: Mapping[str, Any] | None = None,
) -> Preview:
    """Render a saved template (``template``) or an unsaved draft (``data``) for a preview.

    With a ``customer`` (already read in the actor's scope) their values fill the variables;
    the vocabulary's samples fill the rest, so a preview always shows the whole text, and
    ``missing`` names the variables the customer has no value for (a real send would refuse).
    ``values`` (extra variables such as ``link`` or ``code``) win over both."""
    if template is not None:
        require(actor, "view", template)
        fields: dict[str, Any] = {
            f: getattr(template, f) for f in ("purpose", "channel", "body", "subject", "html", "param_order")
        }
        store_id = template.store_id
    else:
        if not can(actor, "view", MessageTemplate):
            raise PermissionDenied()
        cleaned = template_clean(data or {}, template=None) if data and data.get("code") else dict(data or {})
        fields = {f: cleaned.get(f, "") for f in ("purpose", "channel", "body", "subject", "html")}
        fields["param_order"] = _param_order(cleaned.get("param_order")) or []
        store_id = actor.require_store_id()
    if customer is not None:
        require(actor, "view", customer)
    real = customer_values(actor=actor, customer=customer) if customer is not None else {}
    used = (
        set(rendering.placeholders(fields["body"]))
        | set(rendering.placeholders(fields["subject"]))
        | set(rendering.placeholders(fields["html"]))
    )
    known = rendering.variables()
    missing = tuple(sorted(n for n in used if n in known and n not in real and not (values or {}).get(n)))
    filled = {**rendering.sample_values(), **real, **{k: str(v) for k, v in (values or {}).items() if v}}
    # An unknown variable renders as itself: the preview shows what the save would refuse.
    for name in used - set(known):
        filled.setdefault(name, "{" + name + "}")
    rendered = rendering.render(
        purpose=fields["purpose"],
        channel=fields["channel"],
        body=fields["body"] or "",
        subject=fields["subject"] or "",
        html=fields["html"] or "",
        param_order=fields["param_order"],
        values=filled,
        unsubscribe_text=settings_for(store_id).unsubscribe_text,
    )
    return Preview(
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        params=rendered.params,
        values={k: filled[k] for k in sorted(used) if k in filled},
        missing=missing if customer is not None else (),
        customer=customer,
    )
