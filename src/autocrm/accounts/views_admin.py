"""The administrator's pages: users of the organization, their roles per store, activation,
password reset, and integration tokens. Every page is for administrators only (403 for
anyone else); a user of another organization is 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied
from autocrm.core.forms import REFUSED, run_action, run_service
from autocrm.core.roles import Role

from . import selectors_admin, services
from .forms_admin import MembershipForm, PasswordResetForm, TokenCreateForm, UserCreateForm


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: ActorRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = request.actor
        if actor.role != Role.ADMIN:
            raise PermissionDenied()
        return view(request, actor, *args, **kwargs)

    return wrapper


@admin_required
def user_list(request: HttpRequest, actor: Any) -> HttpResponse:
    users, truncated = selectors_admin.admin_user_list(actor=actor)
    return render(request, "accounts/admin/user_list.html", {"users": users, "truncated": truncated})


@sensitive_post_parameters("password")
@never_cache
@admin_required
def user_create(request: HttpRequest, actor: Any) -> HttpResponse:
    stores = selectors_admin.admin_store_choices(actor=actor)
    form = UserCreateForm(request.POST or None, stores=stores)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = run_service(
            form,
            services.admin_user_create,
            actor=actor,
            username=data["username"],
            display_name=data["display_name"],
            email=data["email"],
            password=data["password"],
            role=data["role"],
            store_id=data["store"],
        )
        if user is not None:
            messages.success(request, _("User %(username)s was created.") % {"username": user.username})
            return redirect("accounts_admin:user_detail", user.pk)
    return render(request, "accounts/admin/user_form.html", {"form": form})


def _detail(request: HttpRequest, actor: Any, user_id: int, **forms: Any) -> HttpResponse:
    user = selectors_admin.admin_user_get(actor=actor, user_id=user_id)
    stores = selectors_admin.admin_store_choices(actor=actor)
    context = {
        "subject": user,
        "memberships": list(user.memberships.all()),
        "membership_form": forms.get("membership_form") or MembershipForm(stores=stores),
        "password_form": forms.get("password_form") or PasswordResetForm(),
        "is_self": user.pk == actor.user_id,
    }
    return render(request, "accounts/admin/user_detail.html", context)


@never_cache
@admin_required
def user_detail(request: HttpRequest, actor: Any, pk: int) -> HttpResponse:
    return _detail(request, actor, pk)


@require_POST
@admin_required
def membership_set(request: HttpRequest, actor: Any, pk: int) -> HttpResponse:
    selectors_admin.admin_user_get(actor=actor, user_id=pk)
    form = MembershipForm(request.POST, stores=selectors_admin.admin_store_choices(actor=actor))
    if form.is_valid():
        done = run_service(
            form,
            services.admin_membership_set,
            actor=actor,
            user_id=pk,
            role=form.cleaned_data["role"],
            store_id=form.cleaned_data["store"],
        )
        if done is not None:
            messages.success(request, _("The role was saved."))
            return redirect("accounts_admin:user_detail", pk)
    return _detail(request, actor, pk, membership_form=form)


@require_POST
@admin_required
def membership_deactivate(request: HttpRequest, actor: Any, pk: int, membership_id: int) -> HttpResponse:
    user = selectors_admin.admin_user_get(actor=actor, user_id=pk)
    if not any(m.pk == membership_id for m in user.memberships.all()):
        raise Http404()
    if (
        run_action(request, services.admin_membership_deactivate, actor=actor, membership_id=membership_id)
        is not REFUSED
    ):
        messages.success(request, _("The role was removed."))
    return redirect("accounts_admin:user_detail", pk)


@require_POST
@admin_required
def user_active(request: HttpRequest, actor: Any, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    if run_action(request, services.user_set_active, actor=actor, user_id=pk, is_active=active) is not REFUSED:
        messages.success(request, _("The user was reactivated.") if active else _("The user was deactivated."))
    return redirect("accounts_admin:user_detail", pk)


@sensitive_post_parameters("password")
@require_POST
@admin_required
def user_password(request: HttpRequest, actor: Any, pk: int) -> HttpResponse:
    selectors_admin.admin_user_get(actor=actor, user_id=pk)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        done = run_service(
            form, services.user_password_reset, actor=actor, user_id=pk, password=form.cleaned_data["password"]
        )
        if done is not None:
            messages.success(request, _("The password was changed and the user's API tokens were revoked."))
            return redirect("accounts_admin:user_detail", pk)
    return _detail(request, actor, pk, password_form=form)


@never_cache
@admin_required
def token_list(request: HttpRequest, actor: Any) -> HttpResponse:
    stores = selectors_admin.admin_store_choices(actor=actor)
    form = TokenCreateForm(request.POST or None, stores=stores)
    secret = None
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        made = run_service(
            form,
            services.integration_token_create,
            actor=actor,
            username=data["username"],
            integration_name=data["integration_name"] or None,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
            store_id=data["store"],
        )
        if made is not None:
            created, secret = made
            form = TokenCreateForm(stores=stores)
    tokens, truncated = selectors_admin.admin_token_list(actor=actor)
    context = {
        "form": form,
        "tokens": tokens,
        "truncated": truncated,
        "secret": secret,
        "created": created,
        "integration_users": selectors_admin.admin_integration_users(actor=actor),
    }
    return render(request, "accounts/admin/token_list.html", context)


@require_POST
@admin_required
def token_revoke(request: HttpRequest, actor: Any, token_id: int) -> HttpResponse:
    token = services.token_revoke(actor=actor, token_id=token_id)
    messages.success(request, _("Token %(name)s was revoked.") % {"name": token.name})
    return redirect("accounts_admin:token_list")
