"""The owner's survey link (no login, mobile first): the questions, then thanks. The signed link
is the permission; a forged or expired link is a 404 page, a second answer a clear page (409)
that changes nothing."""

from __future__ import annotations

import hashlib
import secrets

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from autocrm.core.errors import Conflict, NotFound, ValidationError
from autocrm.core.forms import error_text
from autocrm.core.modules import module_enabled

from . import services
from .choices import SurveyKind, WinBackReason

DEVICE_COOKIE = "sv_device"


def _device(request: HttpRequest) -> str:
    cookie = request.COOKIES.get(DEVICE_COOKIE, "")
    if cookie.isalnum() and 16 <= len(cookie) <= 64:
        return cookie
    agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return hashlib.sha256(f"{request.META.get('REMOTE_ADDR', '')}|{agent}".encode()).hexdigest()[:32]


def _page(request: HttpRequest, invitation: object, token: str, **extra: object) -> dict[str, object]:
    template = invitation.template  # type: ignore[attr-defined]
    return {"inv": invitation, "template": template, "token": token, "is_nps": template.kind == SurveyKind.NPS,
            "scale": list(range(1, template.scale + 1)), "nps_scale": list(range(0, 11)), **extra}  # fmt: skip


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.survey_open(token)
    except NotFound:
        return render(request, "care/public/survey_gone.html", status=404)
    if not module_enabled(invitation.store_id, "care"):
        return render(request, "care/public/survey_gone.html", status=404)
    if invitation.responded_at is not None and request.method == "GET":
        return render(request, "care/public/survey_done.html", {"again": True}, status=409)
    if request.method == "POST":
        answering = services.Answering(ip=request.META.get("REMOTE_ADDR"), device=_device(request),
                                       staff_session=bool(getattr(request, "user", None) and request.user.is_authenticated))  # fmt: skip
        data = {k: request.POST.get(k, "") for k in request.POST}
        try:
            services.survey_respond(token=token, data=data, answering=answering)
        except Conflict:
            return render(request, "care/public/survey_done.html", {"again": True}, status=409)
        except ValidationError as exc:
            return render(request, "care/public/survey.html",
                          _page(request, invitation, token, error=error_text(exc), values=data), status=400)  # fmt: skip
        return render(request, "care/public/survey_done.html", {"again": False})
    response = render(request, "care/public/survey.html", _page(request, invitation, token, values={}))
    if DEVICE_COOKIE not in request.COOKIES:
        response.set_cookie(DEVICE_COOKIE, secrets.token_hex(16), max_age=3600 * 24 * 365, httponly=True,
                            samesite="Lax")  # fmt: skip
    return response


@require_http_methods(["GET", "POST"])
def winback(request: HttpRequest, token: str) -> HttpResponse:
    """The "why did you stop coming" link: the reasons, then thanks (and the offer, when given)."""
    try:
        wb = services.winback_open(token)
    except NotFound:
        return render(request, "care/public/survey_gone.html", status=404)
    if not module_enabled(wb.store_id, "care"):
        return render(request, "care/public/survey_gone.html", status=404)
    if wb.answered_at is not None and request.method == "GET":
        return render(request, "care/public/winback_done.html", {"again": True}, status=409)
    page = {"wb": wb, "reasons": WinBackReason.choices}
    if request.method == "POST":
        answering = services.Answering(ip=request.META.get("REMOTE_ADDR"), device=_device(request),
                                       staff_session=bool(getattr(request, "user", None) and request.user.is_authenticated))  # fmt: skip
        data = {k: request.POST.get(k, "") for k in ("reason", "comment")}
        try:
            done = services.winback_respond(token=token, data=data, answering=answering)
        except Conflict:
            return render(request, "care/public/winback_done.html", {"again": True}, status=409)
        except ValidationError as exc:
            return render(request, "care/public/winback.html", {**page, "error": error_text(exc), "values": data},
                          status=400)  # fmt: skip
        return render(request, "care/public/winback_done.html", {"again": False, "wb": done})
    response = render(request, "care/public/winback.html", {**page, "values": {}})
    if DEVICE_COOKIE not in request.COOKIES:
        response.set_cookie(DEVICE_COOKIE, secrets.token_hex(16), max_age=3600 * 24 * 365, httponly=True,
                            samesite="Lax")  # fmt: skip
    return response
