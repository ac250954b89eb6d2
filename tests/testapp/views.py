from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from autocrm.core.permissions import present
from autocrm.core.views import scoped_object_or_404

from .models import Ticket


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = scoped_object_or_404(Ticket, request.actor, pk)
    return HttpResponse(f"{ticket.title} {present(request.actor, ticket, 'mobile')}")
