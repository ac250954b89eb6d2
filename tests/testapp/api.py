from django.http import HttpRequest
from ninja import Router, Schema

from autocrm.core.permissions import get_in_scope, visible_fields

from .models import Ticket

router = Router(tags=["testapp"])
PREFIX = "/testapp"


class TicketOut(Schema):
    id: int
    title: str
    mobile: str | None = None
    cost_price: str | None = None


@router.get("/tickets/{pk}", response=TicketOut)
def ticket_get(request: HttpRequest, pk: int) -> dict:
    ticket = get_in_scope(Ticket, request.actor, pk, "view")
    data = visible_fields(request.actor, ticket, ["title", "mobile", "cost_price"])
    if data.get("cost_price") is not None:
        data["cost_price"] = str(data["cost_price"])
    return {"id": ticket.pk, **data}
