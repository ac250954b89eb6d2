"""Shell views: the role home page and the error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def scoped_object_or_404(model, actor, pk, action: str = "view"):  # type: ignore[no-untyped-def]
    """The UI twin of ``permissions.get_in_scope``: out of scope or missing → the 404 page,
    visible but not allowed → the 403 page (and an ``authz.denied`` audit event)."""
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from django.http import Http404

    from .errors import NotFound, PermissionDenied
    from .permissions import get_in_scope

    try:
        return get_in_scope(model, actor, pk, action)
    except NotFound:
        raise Http404() from None
    except PermissionDenied:
        raise DjangoPermissionDenied() from None
