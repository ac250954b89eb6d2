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
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import audit
from .actor import Actor, ActorRequest
from .api import api_error_response, is_api_request
from .extensions import PANELS, Panel, register_panel

M = TypeVar("M", bound=Model)


def register_home_panel(
    key: str,
    *,
    template: str,
    context: Callable[[ActorRequest], dict[str, Any] | None],
    order: int = 100,
    lazy: Callable[[Actor], bool] | None = None,
    title: Any = None,
) -> None:
    """A home-page panel: ``context(request)`` returns the panel's data, or None to hide it.
    ``lazy(actor)`` true: not this actor's first screen — the page holds a placeholder titled
    ``title`` and the panel loads when it scrolls into view (``home_panel``), so its queries and
    rendering are not the first paint's (docs/adr/0030-home-first-screen.md)."""
    from .modules import module_of_view

    register_panel(
        Panel(
            "core.home", key, template, lambda actor, request: context(request), order,
            module=module_of_view(context), lazy=lazy, title=title,
        )
    )  # fmt: skip


def lazy_for(*roles: str) -> Callable[[Actor], bool]:
    """``lazy=`` of a home panel that is not the first screen of these roles' homes."""
    chosen = frozenset(roles)
    return lambda actor: getattr(actor, "role", None) in chosen


@login_required
def home(request: ActorRequest) -> HttpResponse:
    from .modules import module_enabled, module_of_view

    actor = request.actor
    query = request.GET.urlencode()
    panels = []
    for panel in PANELS.entries("core.home"):
        if not module_enabled(actor, panel.module or module_of_view(panel.context)):
            continue
        if panel.lazy is not None and panel.lazy(actor):
            url = reverse("home_panel", args=[panel.key]) + (f"?{query}" if query else "")
            panels.append({"key": panel.key, "template": "core/panels/lazy_home.html", "lazy": True, "url": url,
                           "title": panel.title or _("More")})  # fmt: skip
            continue
        data = panel.context(actor, request)
        if data is not None:
            panels.append({"key": panel.key, "template": panel.template, **data})
    return render(request, "core/home.html", {"panels": panels})


@login_required
@require_GET
def home_panel(request: ActorRequest, key: str) -> HttpResponse:
    """One home panel after the first paint: the fragment alone for htmx (nothing when the panel
    has nothing to say: the placeholder goes), the home page with that panel otherwise (the
    no-JS link). The panel reads the actor exactly as on the home page."""
    from .modules import module_enabled, module_of_view

    actor = request.actor
    panel = PANELS.get(key, group="core.home")
    if panel is None or not module_enabled(actor, panel.module or module_of_view(panel.context)):
        return page_not_found(request)
    data = panel.context(actor, request)
    panels = [] if data is None else [{"key": panel.key, "template": panel.template, **data}]
    if getattr(request, "htmx", False):
        html = "" if data is None else render_to_string(panel.template, {"panel": panels[0], "request": request,
                                                                         "csrf_token": get_token(request)})  # fmt: skip
        response = HttpResponse(html)
    else:
        response = render(request, "core/home.html", {"panels": panels})
    patch_vary_headers(response, ("HX-Request",))  # one URL, two answers: caches keep them apart
    return response


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
