"""/api/v1/templates: thin handlers over ``services_templates`` (list, retrieve, create, update).

A template with an unknown ``{variable}`` or breaking a provider's rule is a 400 naming the
field (``body``, ``param_order``…); a code the store has for that channel and language is a 409."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.api import choice
from autocrm.core.errors import ValidationError
from autocrm.core.pagination import paginate
from autocrm.core.permissions import get_in_scope, require_model

from . import services_templates
from .choices import MessageChannel, Purpose
from .models import MessageTemplate

router = Router(tags=["templates"])
PREFIX = "/templates"

if TYPE_CHECKING:
    PurposeChoice: TypeAlias = str
    ChannelChoice: TypeAlias = str
else:
    PurposeChoice = choice(Purpose)
    ChannelChoice = choice(MessageChannel)


class TemplateFields(Schema):
    code: str | None = None
    name: str | None = None
    purpose: PurposeChoice | None = None
    channel: ChannelChoice | None = None
    language: str | None = None
    subject: str | None = None
    body: str | None = None
    html: str | None = None
    provider_template_id: str | None = None
    param_order: list[str] | None = None
    is_active: bool | None = None


class TemplateIn(TemplateFields):
    code: str
    name: str
    purpose: PurposeChoice
    channel: ChannelChoice
    body: str


class TemplateOut(Schema):
    id: int
    store: int
    code: str
    name: str
    purpose: str
    channel: str
    language: str
    subject: str
    body: str
    html: str
    provider_template_id: str
    param_order: list[str]
    is_active: bool
    variables: list[str]


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


def template_out(t: MessageTemplate) -> dict[str, Any]:
    from .rendering import placeholders

    return {
        "id": t.pk, "store": t.store_id, "code": t.code, "name": t.name, "purpose": t.purpose, "channel": t.channel,
        "language": t.language, "subject": t.subject, "body": t.body, "html": t.html,
        "provider_template_id": t.provider_template_id, "param_order": list(t.param_order or []),
        "is_active": t.is_active, "variables": placeholders(f"{t.subject} {t.body} {t.html}"),
    }  # fmt: skip


@router.get("", response=TemplatePage)
def template_list(
    request: ActorRequest,
    code: str | None = None,
    channel: str | None = None,
    purpose: str | None = None,
    language: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The templates in scope, newest first; ``code``, ``channel``, ``purpose``, ``language`` narrow it."""
    require_model(request.actor, "view", MessageTemplate)
    qs = MessageTemplate.objects.for_actor(request.actor, "view")
    errors: dict[str, list[Any]] = {}
    for name, value, allowed in (
        ("channel", channel, MessageChannel.values), ("purpose", purpose, Purpose.values),
        ("language", language, services_templates.LANGUAGE_CODES),
    ):  # fmt: skip
        if value:
            if value not in allowed:
                errors[name] = [_("Choose one of the listed values.")]
            else:
                qs = qs.filter(**{name: value})
    if code:
        qs = qs.filter(code=code[:60])
    if errors:
        raise ValidationError(fields=errors)
    page = paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)
    return {"items": [template_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: TemplateOut})
def template_create(request: ActorRequest, payload: TemplateIn) -> Status[dict[str, Any]]:
    template = services_templates.template_save(
        actor=request.actor, store=request.actor.store_id, data=payload.dict(exclude_none=True)
    )
    return Status(201, template_out(template))


@router.get("/{int:template_id}", response=TemplateOut)
def template_get(request: ActorRequest, template_id: int) -> dict[str, Any]:
    return template_out(get_in_scope(MessageTemplate, request.actor, template_id))


@router.patch("/{int:template_id}", response=TemplateOut)
def template_update(request: ActorRequest, template_id: int, payload: TemplateFields) -> dict[str, Any]:
    template = get_in_scope(MessageTemplate, request.actor, template_id)
    saved = services_templates.template_save(
        actor=request.actor, template=template, data=payload.dict(exclude_unset=True, exclude_none=True)
    )
    return template_out(saved)
