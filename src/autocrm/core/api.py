"""API plumbing shared by every app: bearer auth that builds the actor, the error shape of
API.md, keyset page schemas, and discovery of each app's ``api.router``."""

from __future__ import annotations

import importlib
import logging
from typing import Any, Generic, TypeVar

from django.apps import apps
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from . import audit
from .errors import DomainError, RateLimited

log = logging.getLogger(__name__)
T = TypeVar("T")


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class PageOut(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def error_body(code: str, message: Any, fields: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": str(message),
        "fields": {k: [str(m) for m in v] for k, v in (fields or {}).items()},
    }


def _field_name(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload", "form", "data")]
    return ".".join(parts) or "__all__"


def install_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        body = {**error_body(exc.code, exc.message, exc.fields), **exc.extra}
        if exc.status == 403:  # every 403 leaves an authz.denied event (see audit.denied_request)
            audit.denied_request(actor=getattr(request, "actor", None), path=request.path, method=request.method)
        response = api.create_response(request, body, status=exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            fields.setdefault(_field_name(list(err.get("loc", []))), []).append(str(err.get("msg", "")))
        return api.create_response(request, error_body("invalid", _("The request is not valid."), fields), status=400)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(request, error_body("unauthenticated", _("Authentication is required.")), status=401)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict"}.get(
            exc.status_code, "error"
        )
        # ninja raises 400 for an unreadable body with an English text: answer in the request's language
        message = _("The request is not valid.") if exc.status_code == 400 else str(exc)
        if exc.status_code == 403:
            audit.denied_request(actor=getattr(request, "actor", None), path=request.path, method=request.method)
        return api.create_response(request, error_body(code, message), status=exc.status_code)


def mount_routers(api: NinjaAPI) -> None:
    """Add every app's ``api.router`` (at its module's ``PREFIX``), found through the app
    registry so core imports no app."""
    for config in apps.get_app_configs():
        if not (config.name.startswith("autocrm.") or getattr(config, "has_api", False)):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.api":
                continue
            raise
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(getattr(module, "PREFIX", ""), router)
