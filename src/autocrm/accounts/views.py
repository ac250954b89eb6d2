"""Staff shell views of accounts: sign-in (with the second factor), sign-out, account
security (TOTP enrolment), store switch, and the home-page panels about stores and team."""

from __future__ import annotations

import time
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from autocrm.core import audit
from autocrm.core.actor import ActorRequest
from autocrm.core.forms import run_service
from autocrm.core.roles import MANAGER_ROLES, ORGANIZATION_ROLES
from autocrm.core.views import ALL_STORES_SESSION_KEY
from autocrm.tenancy.models import Store

from . import services
from .forms import LoginForm, StoreSwitchForm, TotpCodeForm
from .middleware import SESSION_STORE_KEY
from .models import User
from .selectors import actor_build, memberships_of, team_members

# A password-checked user waiting for their second factor: {"user_id", "backend", "next", "at", "tries"}.
PENDING_KEY = "autocrm_2fa_pending"
PENDING_SECONDS = 300
TOTP_MAX_TRIES = 5
TEAM_LIMIT = 100


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _complete_login(request: HttpRequest, user: User, *, backend: str, next_url: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=backend)
    with audit.acting_as(actor_build(user=user, request=request)):
        services.login_record_success(user=user, ip=_ip(request))
    return redirect(_safe_next(request, next_url))


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated:
        return redirect(_safe_next(request, next_url))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = run_service(
            form,
            services.login_authenticate,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            ip=_ip(request),
            request=request,
        )
        if user is not None:
            backend = getattr(user, "backend", "django.contrib.auth.backends.ModelBackend")
            if user.totp_enabled:
                request.session[PENDING_KEY] = {
                    "user_id": user.pk,
                    "backend": backend,
                    "next": next_url,
                    "at": int(time.time()),
                    "tries": 0,
                }
                return redirect("accounts:login_totp")
            return _complete_login(request, user, backend=backend, next_url=next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
def login_totp_view(request: HttpRequest) -> HttpResponse:
    pending: dict[str, Any] | None = request.session.get(PENDING_KEY)
    user = None
    if pending and time.time() - pending.get("at", 0) <= PENDING_SECONDS:
        user = User.objects.filter(pk=pending.get("user_id", 0), is_active=True).first()
    if pending is None or user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Please sign in again."))
        return redirect("accounts:login")
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_verify(user=user, code=form.cleaned_data["code"]):
            return _complete_login(request, user, backend=pending["backend"], next_url=pending.get("next", ""))
        pending["tries"] = pending.get("tries", 0) + 1
        if pending["tries"] >= TOTP_MAX_TRIES:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, _("Too many wrong codes. Please sign in again."))
            return redirect("accounts:login")
        request.session[PENDING_KEY] = pending
        form.add_error("code", _("The code is not correct."))
    return render(request, "accounts/login_totp.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("accounts:login")


def _qr_svg(uri: str) -> str:
    # segno escapes nothing from user input here: the URI is built by pyotp from our own data.
    return mark_safe(segno.make(uri, error="m").svg_inline(scale=4, border=2))  # noqa: S308


@login_required
@never_cache
def security_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required: never AnonymousUser
    allowed = services.totp_allowed(user)
    form = TotpCodeForm(request.POST or None) if request.method == "POST" else TotpCodeForm()
    if request.method == "POST" and allowed:
        action = request.POST.get("action")
        if action == "begin":
            services.totp_begin(user=user)  # refuses only users without the right (``allowed``)
            return redirect("accounts:security")
        if action in ("confirm", "disable") and form.is_valid():
            service = services.totp_confirm if action == "confirm" else services.totp_disable
            run_service(form, service, user=user, code=form.cleaned_data["code"])
            if form.service_error is None:  # type: ignore[attr-defined]
                if action == "confirm":
                    messages.success(request, _("Two-factor sign-in is on. You will be asked for a code at sign-in."))
                else:
                    messages.success(request, _("Two-factor sign-in is off."))
                return redirect("accounts:security")
    context: dict[str, Any] = {"totp_allowed": allowed, "form": form, "memberships": memberships_of(user)}
    if allowed and user.totp_secret and not user.totp_enabled:
        uri = services.totp_uri(user=user)
        context.update(totp_secret=user.totp_secret, totp_qr=_qr_svg(uri))
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def switch_store_view(request: ActorRequest) -> HttpResponse:
    """The header's store switch. Picking a store makes it the one you work in: lists show it
    and new records are saved in it. An organization-wide role (director, administrator) may
    pick "all stores" instead: lists then show every store with a store column and filter,
    and new records still go to the store you last worked in."""
    form = StoreSwitchForm(request.POST)
    actor = request.actor
    if not form.is_valid():
        raise Http404()
    choice = form.cleaned_data["store"]
    if choice == StoreSwitchForm.ALL:
        if actor.role not in ORGANIZATION_ROLES or len(actor.member_store_ids) < 2:
            raise Http404()
        request.session[ALL_STORES_SESSION_KEY] = True
        store = Store.objects.only("name").get(pk=actor.require_store_id())  # scoped: the actor's current store
        messages.success(
            request,
            _("Lists now show every store. New records are still saved in %(store)s.") % {"store": store.name},
        )
        return redirect(_safe_next(request, request.POST.get("next")))
    store_id = int(choice) if choice.isdigit() else None
    if store_id not in actor.member_store_ids:
        raise Http404()  # a store you are not a member of looks like no store at all
    request.session[SESSION_STORE_KEY] = store_id
    request.session.pop(ALL_STORES_SESSION_KEY, None)
    store = Store.objects.only("name").get(pk=store_id)  # scoped: one of actor.member_store_ids, checked above
    messages.success(request, _("You are now working in %(store)s.") % {"store": store.name})
    return redirect(_safe_next(request, request.POST.get("next")))


# --- home-page panels (registered in apps.py) ----------------------------------------------


def panel_my_stores(request: HttpRequest) -> dict[str, Any] | None:
    """The actor's stores and role in each."""
    return {"memberships": memberships_of(request.user)}  # type: ignore[arg-type]  # the home page requires login


def panel_team(request: ActorRequest) -> dict[str, Any] | None:
    """For managers, the people of their current store; for directors and administrators,
    everyone with a role in the organization."""
    actor = request.actor
    team = team_members(actor=actor, limit=TEAM_LIMIT)
    if team is None:
        return None
    rows, truncated = team
    return {"members": rows, "truncated": truncated, "organization_wide": actor.role not in MANAGER_ROLES}
