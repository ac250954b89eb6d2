"""A staff user changes their own password (from the user menu). The browser session that
changed it stays signed in; other sessions and the user's API tokens end (see
``services.password_change``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from autocrm.core.actor import ActorRequest
from autocrm.core.forms import run_service

from . import services
from .forms import PasswordChangeForm
from .models import User


@sensitive_post_parameters("current_password", "new_password", "new_password_again")
@never_cache
@login_required
def password_change_view(request: ActorRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = run_service(
            form,
            services.password_change,
            actor=request.actor,
            current_password=data["current_password"],
            new_password=data["new_password"],
        )
        if result is not None:
            user: User = request.user  # type: ignore[assignment]  # login_required: never AnonymousUser
            user.refresh_from_db(fields=["password"])
            update_session_auth_hash(request, user)  # this session stays signed in
            messages.success(
                request,
                _("Your password was changed. Other sessions and %(count)s API tokens were signed out.")
                % {"count": result["tokens_revoked"]},
            )
            return redirect("accounts:security")
    return render(request, "accounts/password_change.html", {"form": form})
