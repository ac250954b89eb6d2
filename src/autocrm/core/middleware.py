"""Request id: taken from X-Request-ID when a proxy sets one, else generated; echoed back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import audit

_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # ours, read by the actor and the audit
        token = audit.set_request_id(request_id)
        try:
            with audit.durable_scope():
                response = self.get_response(request)
        finally:
            audit._current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


class DomainErrorMiddleware:
    """Pages raise the same domain errors as services: a record missing or outside the actor's
    scope (``NotFound``) becomes the 404 page, an action the role lacks (``PermissionDenied``)
    the 403 page — so views need no try/except to translate them. Bad input that reaches a page
    outside a form (a hand-edited cursor or field name in a URL: ``ValidationError``,
    ``Conflict``) answers 400/409 with the error's sentence, never a 500. Form input goes
    through ``core.forms.run_service`` and comes back as form errors. The API maps errors itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
        from django.http import Http404

        from .errors import Conflict, NotFound, PermissionDenied, ValidationError

        if isinstance(exception, NotFound):
            raise Http404() from None
        if isinstance(exception, PermissionDenied):
            raise DjangoPermissionDenied() from None
        if isinstance(exception, ValidationError | Conflict):
            return HttpResponse(
                str(exception.message), status=exception.status, content_type="text/plain; charset=utf-8"
            )
        return None
