"""API plumbing shared by every app: bearer auth that builds the actor, the error shape of
API.md, keyset page schemas, and discovery of each app's ``api.router``."""

from __future__ import annotations

import importlib
import logging
from typing import Annotated, Any, Generic, TypeVar

from django.apps import apps
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import WithJsonSchema

from . import audit
from .errors import DomainError, RateLimited
from .modules import gated_router_auth

log = logging.getLogger(__name__)
T = TypeVar("T")


def choice(choices: type[models.TextChoices], *, blank: bool = False) -> Any:
    """A string field the OpenAPI document declares as an enum of ``choices`` (plus ``""`` when the
    model field may be blank). Only documented: the service still checks the value, so a wrong
    one is the same translated 400 naming the field as before (pydantic's message is English)."""
    values = list(dict.fromkeys([*choices.values, *([""] if blank else [])]))
    return Annotated[str, WithJsonSchema({"type": "string", "enum": values})]


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


# The error a status stands for when the API answers it without a domain error of its own: a
# path no route knows, a method a route does not take, a body too big, our own fault.
_STATUS_ERRORS: dict[int, tuple[str, Any]] = {
    400: ("invalid", gettext_lazy("The request is not valid.")),
    401: ("unauthenticated", gettext_lazy("Authentication is required.")),
    403: ("forbidden", gettext_lazy("You do not have permission to do this.")),
    404: ("not_found", gettext_lazy("Not found.")),
    405: ("method_not_allowed", gettext_lazy("This method is not allowed here.")),
    409: ("conflict", gettext_lazy("The request conflicts with the current state.")),
    413: ("too_large", gettext_lazy("The request is too large.")),
    429: ("rate_limited", gettext_lazy("Too many requests. Try again later.")),
    500: ("server_error", gettext_lazy("Something went wrong on our side.")),
    503: ("unavailable", gettext_lazy("The service is unavailable. Try again later.")),
}
#: Headers of the original answer that the JSON error keeps.
_KEPT_HEADERS = ("Allow", "Retry-After", "X-Request-ID", "WWW-Authenticate")


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def api_error_response(request: HttpRequest, status: int, original: HttpResponse | None = None) -> HttpResponse:
    """The ``{code, message, fields}`` answer for ``status`` (keeping ``Allow`` and the like of
    the ``original`` answer): what a client of /api/ gets instead of an HTML error page."""
    code, message = _STATUS_ERRORS.get(
        status, ("server_error", _STATUS_ERRORS[500][1]) if status >= 500 else ("invalid", _STATUS_ERRORS[400][1])
    )
    response = JsonResponse(error_body(code, message), status=status)
    if original is not None:
        for header in _KEPT_HEADERS:
            if header in original:
                response[header] = original[header]
    return response


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

    @api.exception_handler(OverflowError)
    def out_of_range(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        # A number too big for the database (SQLite refuses integers past 64 bits in a query):
        # bad input, not our fault. Schemas that bound their numbers name the field instead.
        return api.create_response(
            request, error_body("invalid", _("A number in the request is too large.")), status=400
        )

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
    registry so core imports no app; ``AppConfig.api_modules`` names more than ``api``."""
    for config in apps.get_app_configs():
        if not (config.name.startswith("autocrm.") or getattr(config, "has_api", False)):
            continue
        # An app may spread its API over several modules (``api_modules`` on its AppConfig).
        for module_name in getattr(config, "api_modules", ("api",)):
            try:
                module = importlib.import_module(f"{config.name}.{module_name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.{module_name}":
                    continue
                raise
            router = getattr(module, "router", None)
            if router is None:
                continue
            key = getattr(config, "module_key", None)  # a module switched off in the caller's store → 404
            auth = gated_router_auth(router, api.auth, key) if key else None
            if auth is not None:
                api.add_router(getattr(module, "PREFIX", ""), router, auth=auth)
            else:
                api.add_router(getattr(module, "PREFIX", ""), router)
    declare_error_responses(api)


_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error_statuses(*, methods: set[str], path: str, authenticated: bool) -> set[int]:
    """The error statuses an operation can answer, by the rules every handler here follows
    (API.md): any request can be bad input (400: the input check refuses a NUL in any header,
    even of a call with no parameters); with a bearer token it can be unauthenticated (401),
    not allowed (403) or rate limited (429); a record named in the path, or in a write's body (an
    owner, a catalogue entry), can be missing or out of scope (404); an authenticated write can conflict with the current state (409: duplicates, taken external
    IDs, stale workflow states)."""
    statuses = {400}
    if authenticated:
        statuses |= {401, 403, 429}
    if "{" in path or (authenticated and methods & _WRITES):
        statuses.add(404)
    if authenticated and methods & _WRITES:
        statuses.add(409)
    return statuses


def declare_error_responses(api: NinjaAPI) -> None:
    """Add the ``ErrorOut`` responses of :func:`error_statuses` to every operation that does not
    declare them itself, so the OpenAPI document lists the status codes the API really answers
    (schemathesis checks it in ``make test``). An operation's own declaration wins."""
    # ninja binds routers (with the API's auth) when the URLs are first built; declaring after
    # binding sees each operation's real auth. Private API of django-ninja 1.x (pinned <2).
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                statuses = error_statuses(
                    methods=set(operation.methods), path=path, authenticated=bool(operation.auth_callbacks)
                )
                for status in sorted(statuses - set(operation.response_models)):
                    operation.response_models[status] = operation._create_response_model(ErrorOut)
