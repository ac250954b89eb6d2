"""Request plumbing: the request id (taken from X-Request-ID when a proxy sets one, else
generated; echoed back), domain errors of pages, and the check of every request's text."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

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
    the 403 page, bad input no view caught (``ValidationError``, a number too big for the
    database) the 400 page, a ``Conflict`` no form caught a 409 — so views need no try/except to
    translate them. Form input goes through ``core.forms.run_service`` and comes back as form
    errors. The API maps errors itself."""

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
        if isinstance(exception, OverflowError):  # a number too big for the database: bad input
            return HttpResponseBadRequest(
                render_to_string("400.html", {"message": _("A number in the request is too large.")}, request=None)
            )
        if isinstance(exception, ValidationError):
            # Bad input a view did not turn into a form error (a tampered cursor, say): a 400, not a 500.
            field = next(iter(exception.fields), "")
            return HttpResponseBadRequest(
                render_to_string("400.html", {"message": exception.message, "field": field}, request=None)
            )
        if isinstance(exception, Conflict):
            # A conflict no form caught (a state that no longer allows the move): a 409, not a 500.
            return HttpResponse(
                str(exception.message), status=exception.status, content_type="text/plain; charset=utf-8"
            )
        return None


# NUL cannot be stored by PostgreSQL (nor compared in a query) and a lone surrogate cannot be
# encoded as UTF-8: either one anywhere in a request turned into a 500 deep inside.
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_JSON_TYPES = ("application/json", "application/merge-patch+json")


def _bad_text(value: Any) -> bool:
    return isinstance(value, str) and _BAD_CHARS.search(value) is not None


def _bad_json_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (key or value) in ``value`` with a NUL or lone surrogate."""
    if isinstance(value, str):
        return path or "__all__" if _bad_text(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _bad_text(key):
                return here
            found = _bad_json_path(item, here)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _bad_json_path(item, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


def bad_input_field(request: HttpRequest) -> str | None:
    """The name of the first part of ``request`` holding a NUL or a lone surrogate, or None.

    Looks at the path, the query string, the headers (cookies included), form fields, uploaded
    files' names and a JSON body. Files' contents are the reader's to check (an import reports
    a NUL as a row error)."""
    if _bad_text(request.path_info):
        return "path"
    for key, values in request.GET.lists():
        if _bad_text(key) or any(_bad_text(v) for v in values):
            return key
    for key, value in request.META.items():
        if key.startswith("HTTP_") and _bad_text(value):
            return key[5:].lower().replace("_", "-")
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form, files = request.POST, request.FILES
            except Exception:  # too big, or malformed: the view answers as it always did
                return None
            for key, values in form.lists():
                if _bad_text(key) or any(_bad_text(v) for v in values):
                    return key
            for key, uploads in files.lists():
                if _bad_text(key) or any(_bad_text(u.name) for u in uploads):
                    return key
        elif content_type in _JSON_TYPES or content_type.endswith("+json"):
            try:
                body = request.body
            except Exception:  # too big: the view answers as it always did
                return None
            # JSON writes NUL and surrogates as \u escapes; no backslash-u, nothing to parse twice.
            if b"\\u" not in body and b"\x00" not in body:
                return None
            try:
                data = json.loads(body)
            except ValueError:
                return None  # not JSON: the API's own 400
            return _bad_json_path(data)
    return None


class InputCheckMiddleware:
    """Refuses, at one point for every URL, a request with a NUL byte or a lone surrogate in any
    string that reaches the code: a 400 naming the field (the API's error shape under ``/api/``,
    a plain page elsewhere), before any view, form or query sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = bad_input_field(request)
        if field is None:
            return self.get_response(request)
        message = _("Text may not contain NUL characters or unpaired surrogates.")
        if _bad_text(field):
            field = _BAD_CHARS.sub("?", field)
        if request.path_info.startswith("/api/"):
            from .api import error_body

            return JsonResponse(error_body("invalid", _("The request is not valid."), {field: [message]}), status=400)
        return HttpResponseBadRequest(render_to_string("400.html", {"message": message, "field": field}, request=None))


class ApiErrorShapeMiddleware:
    """Every error answered under ``/api/`` is JSON ``{code, message, fields}``: the answers
    that bypass the API's own handlers — ninja's bare 405, Django's 404 for a path no route
    knows, the 500 of an unhandled exception, a 413 — are rewritten here, keeping their status
    and ``Allow``/``Retry-After``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith("/api/")
            and not str(response.get("Content-Type", "")).startswith("application/json")
        ):
            from .api import api_error_response

            return api_error_response(request, response.status_code, response)
        return response
