"""``/s/<code>``: a tracked short link redirects (302) to its target and counts the click."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from .services import shortlink_click


@require_GET
def shortlink_redirect(request: HttpRequest, code: str) -> HttpResponse:
    url = shortlink_click(code=code)
    if url is None:
        raise Http404
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # every click reaches us, none is served from a cache
    response["Referrer-Policy"] = "no-referrer"
    return response
