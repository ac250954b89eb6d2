"""Shell views: the role home page and the error pages.

The home page is assembled from panels that apps register (``register_home_panel`` in their
``AppConfig.ready``), so core shows accounts' and audit's data without importing them. A panel's
context function returns None when the panel has nothing to say to this actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from . import audit
from .actor import Actor, ActorRequest
from .api import api_error_response, is_api_request
from .extensions import Panel, panels_for, register_panel

M = TypeVar("M", bound=Model)


def register_home_panel(
    key: str, *, template: str, context: Callable[[ActorRequest], dict[str, Any] | None], order: int = 100
) -> None:
    """A home-page panel: ``context(request)`` returns the panel's data, or None to hide it."""
    from .modules import module_of_view

    register_panel(
        Panel(
            "core.home", key, template, lambda actor, request: context(request), order, module=module_of_view(context)
        )
    )


@login_required
def home(request: ActorRequest) -> HttpResponse:
    panels = [
        {"key": panel.key, "template": panel.template, **data}
        for panel, data in panels_for("core.home", request.actor, request)
    ]
    return render(request, "core/home.html", {"panels": panels})


# Under /api/ every error page is the API's JSON error shape (``core.api.api_error_response``).


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(request, 400)
    return HttpResponseBadRequest(loader.get_template("400.html").render({}))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Every 403 leaves an authz.denied event, even when the view refused on ``can`` alone.
    audit.denied_request(actor=getattr(request, "actor", None), path=request.path, method=request.method)
    if is_api_request(request):
        return api_error_response(request, 403)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(request, 404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(request, 500)
    # No request context: the context processors may need the database that just failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))


def scoped_object_or_404(model: type[M] | QuerySet[M], actor: Actor, pk: Any, action: str = "view") -> M:
    """``permissions.get_in_scope`` for pages: out of scope or missing → the 404 page, visible
    but not allowed → the 403 page (``DomainErrorMiddleware`` translates the errors)."""
    from .permissions import get_in_scope

    return get_in_scope(model, actor, pk, action)


# The header's store switch: an organization-wide actor (director, administrator) may pick
# "all stores" for the lists; writes still go to their current store (``actor.store_id``).
ALL_STORES_SESSION_KEY = "autocrm_all_stores"


def all_stores_chosen(request: HttpRequest) -> bool:
    """Has an organization-wide actor picked "all stores" in the header's store switch?"""
    from .roles import ORGANIZATION_ROLES

    actor = getattr(request, "actor", None)
    return bool(request.session.get(ALL_STORES_SESSION_KEY)) and getattr(actor, "role", None) in ORGANIZATION_ROLES
