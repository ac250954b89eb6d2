"""/api/v1/messages (the message log; send one templated message) and
/api/v1/channels/<provider>/callback (provider receipts and replies): thin handlers over
messaging.services, selectors and receipts.

POST /messages answers **201** with the new message and **200** with the existing one when the
idempotency key was used before (nothing new is written). A message that may not go — no
consent, a suppressed number, over the cap — is still created and answered **201 with
``status: "suppressed"`` and the ``reason``** (it is part of the record); held marketing answers
201 with ``status: "held"`` and ``not_before``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.api import error_body
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import require_model
from autocrm.customers.selectors import customer_get

from . import receipts, selectors, services
from .models import Message
from .schemas import MessageDetailOut, MessageIn, MessageOut, MessagePage

router = Router(tags=["messages"])
PREFIX = ""


def message_out(m: Message) -> dict[str, Any]:
    return {
        "uid": m.uid, "store": m.store_id, "customer": m.customer_id, "purpose": m.purpose,
        "channel": m.channel, "provider": m.provider, "to": m.to_display,
        "template": m.template.code if m.template_id and m.template else None, "status": m.status,
        "reason": m.reason, "reason_text": m.reason_text, "personalised": m.personalised,
        "not_before": m.not_before, "attempts": m.attempts, "provider_id": m.provider_id,
        "sent_at": m.sent_at, "delivered_at": m.delivered_at, "created_at": getattr(m, "created_at", None),
    }  # fmt: skip


class MessageFilters(Schema):
    customer: str | None = None
    status: str | None = None
    channel: str | None = None
    purpose: str | None = None
    limit: int | None = None
    cursor: str | None = None


@router.get("/messages", response=MessagePage)
def message_list(request: ActorRequest, filters: Query[MessageFilters]) -> dict[str, Any]:
    """The message log in scope, newest first. Filters ``customer`` (id), ``status``,
    ``channel``, ``purpose``; keyset pages."""
    params = filters.dict(exclude_none=True)
    limit, cursor = params.pop("limit", None), params.pop("cursor", None)
    page = selectors.message_list(actor=request.actor, filters=params, limit=limit, cursor=cursor)
    return {"items": [message_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get("/messages/{uid}", response=MessageDetailOut)
def message_get(request: ActorRequest, uid: str) -> dict[str, Any]:
    """One message with its attempts (provider answers, retries, reconciliation, receipts)."""
    m = selectors.message_get(actor=request.actor, uid=uid)
    return {**message_out(m), "text": m.text, "attempt_list": list(m.attempt_list)}  # type: ignore[attr-defined]


@router.post("/messages", response={200: MessageOut, 201: MessageOut})
def message_send(request: ActorRequest, payload: MessageIn) -> Status[dict[str, Any]]:
    """Send one templated message to one customer. ``Idempotency-Key`` header (or the body's
    ``idempotency_key``): the same key again answers 200 with the same message."""
    key = (request.headers.get("Idempotency-Key") or payload.idempotency_key or "").strip()
    if not key:
        raise ValidationError(fields={"idempotency_key": [_("This field is required.")]})
    require_model(request.actor, "view", Message)
    customer = customer_get(actor=request.actor, pk=payload.customer)
    store_id = request.actor.require_store_id()
    existed = selectors.message_key_used(actor=request.actor, idempotency_key=key)
    message = services.message_queue(
        actor=request.actor, store=store_id, purpose=payload.purpose, channel=payload.channel,
        template_code=payload.template_code, customer=customer, values=payload.values,
        idempotency_key=key, personalised=payload.personalised,
    )  # fmt: skip
    message = selectors.message_get(actor=request.actor, uid=message.uid)
    return Status(200 if existed else 201, message_out(message))


# --- provider callbacks (no bearer token: the account's callback secret authenticates) ----------


def _forbidden() -> HttpResponse:
    import json

    body = error_body("forbidden", _("The callback is not valid."))
    return HttpResponse(json.dumps(body), status=403, content_type="application/json")


@router.post("/channels/{provider}/callback", auth=None, response={200: Any, 403: Any, 404: Any}, tags=["channels"])
def channel_callback(request: HttpRequest, provider: str, account: str = "", secret: str = "") -> HttpResponse:
    """A provider's receipt or reply push. ``account``: our account id; the secret (in the URL
    or the provider's signature) is checked by the provider's client. Forged, stale, unknown
    account → 403 and nothing changed; unknown provider → 404."""
    if not receipts.known_provider(provider):
        from autocrm.core.errors import NotFound

        raise NotFound()
    query = {k: str(v) for k, v in request.GET.items()}
    headers = dict(request.headers.items())
    try:
        answer = receipts.callback_handle(
            provider=provider, account_id=account, headers=headers, body=request.body, query=query
        )
    except receipts.Rejected:
        return _forbidden()
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


@router.get("/channels/{provider}/callback", auth=None, response={200: Any, 403: Any, 404: Any}, tags=["channels"])
def channel_callback_check(request: HttpRequest, provider: str, account: str = "") -> HttpResponse:
    """WeChat's server check: answers the ``echostr`` when the signature holds, else 403."""
    if not receipts.known_provider(provider):
        from autocrm.core.errors import NotFound

        raise NotFound()
    try:
        echo = receipts.echo_handle(
            provider=provider, account_id=account, query={k: str(v) for k, v in request.GET.items()}
        )
    except receipts.Rejected:
        return _forbidden()
    return HttpResponse(echo, content_type="text/plain")
