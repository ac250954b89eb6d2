from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from autocrm.core.permissions import get_in_scope, visible_fields
from autocrm.core.sensitive import field_reveal

from .models import Ticket
from .services import ticket_create

router = Router(tags=["testapp"])
PREFIX = "/testapp"


class TicketIn(Schema):
    title: str
    mobile: str = ""
    id_number: str = ""


class TicketOut(Schema):
    id: int
    title: str
    mobile: str | None = None
    id_number: str | None = None
    cost_price: str | None = None


class RevealOut(Schema):
    field: str
    value: str


def _out(request: HttpRequest, ticket: Ticket) -> dict:
    data = visible_fields(request.actor, ticket, ["title", "mobile", "id_number", "cost_price"])
    if data.get("cost_price") is not None:
        data["cost_price"] = str(data["cost_price"])
    return {"id": ticket.pk, **data}


@router.post("/tickets", response={201: TicketOut})
def ticket_post(request: HttpRequest, payload: TicketIn) -> Status:
    ticket = ticket_create(actor=request.actor, **payload.dict())
    return Status(201, _out(request, ticket))


@router.get("/tickets/{pk}", response=TicketOut)
def ticket_get(request: HttpRequest, pk: int) -> dict:
    return _out(request, get_in_scope(Ticket, request.actor, pk, "view"))


@router.get("/tickets/{pk}/reveal", response=RevealOut)
def ticket_reveal(request: HttpRequest, pk: int, field: str) -> dict:
    ticket = get_in_scope(Ticket, request.actor, pk, "view")
    return {"field": field, "value": field_reveal(actor=request.actor, obj=ticket, field=field)}
