from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.permissions import present
from autocrm.core.sensitive import field_reveal
from autocrm.core.views import scoped_object_or_404

from .models import Ticket


@login_required
def ticket_list(request: ActorRequest) -> HttpResponse:
    titles = Ticket.objects.for_actor(request.actor, "view").order_by("pk").values_list("title", flat=True)
    return HttpResponse(" ".join(titles) or "no tickets")


@login_required
def ticket_detail(request: ActorRequest, pk: int) -> HttpResponse:
    ticket = scoped_object_or_404(Ticket, request.actor, pk)
    return HttpResponse(f"{ticket.title} {present(request.actor, ticket, 'mobile')}")


@login_required
def ticket_reveal(request: ActorRequest, pk: int) -> HttpResponse:
    """The htmx partial that swaps a masked value for the full one."""
    ticket = scoped_object_or_404(Ticket, request.actor, pk)
    try:
        value = field_reveal(actor=request.actor, obj=ticket, field=request.GET.get("field", ""))
    except PermissionDenied:
        raise DjangoPermissionDenied() from None
    except ValidationError as exc:
        return HttpResponseBadRequest(str(exc.message))
    return HttpResponse(value, content_type="text/plain; charset=utf-8")


def ticket_panel(actor, obj):
    """A panel of the test module (its app declares the module, so the panel follows it)."""
    return {"tickets": True}
