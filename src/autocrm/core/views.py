"""Shell views: the role home page and the error pages.

The home page is assembled from panels that apps register (``register_home_panel`` in their
``AppConfig.ready``), so core shows accounts' and audit's data without importing them. A panel's
context function returns None when the panel has nothing to say to this actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from . import audit
from .extensions import Panel, panels_for, register_panel


def register_home_panel(
    key: str, *, template: str, context: Callable[[HttpRequest], dict[str, Any] | None], order: int = 100
) -> None:
    """A home-page panel: ``context(request)`` returns the panel's data, or None to hide it."""
    register_panel(Panel("core.home", key, template, lambda actor, request: context(request), order))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    panels = [
        {"key": panel.key, "template": panel.template, **data}
        for panel, data in panels_for("core.home", request.actor, request)  # type: ignore[attr-defined]
    ]
    return render(request, "core/home.html", {"panels": panels})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Every 403 leaves an authz.denied event, even when the view refused on ``can`` alone.
    audit.denied_request(actor=getattr(request, "actor", None), path=request.path, method=request.method)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the context processors may need the database that just failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))


def scoped_object_or_404(model, actor, pk, action: str = "view"):  # type: ignore[no-untyped-def]
    """``permissions.get_in_scope`` for pages: out of scope or missing → the 404 page, visible
    but not allowed → the 403 page (``DomainErrorMiddleware`` translates the errors)."""
    from .permissions import get_in_scope

    return get_in_scope(model, actor, pk, action)
