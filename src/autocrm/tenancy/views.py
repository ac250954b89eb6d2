"""The administrator's store pages: every store of the organization and, per store, the
modules switched on there. Administrators only (403 for others, audited for a store in
scope); a store of another organization is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from autocrm.core import modules
from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.core.permissions import get_in_scope

from . import selectors, services
from .forms import StoreModulesForm
from .models import Store


@login_required
@never_cache
def store_list(request: ActorRequest) -> HttpResponse:
    try:
        stores = list(selectors.store_modules_list(actor=request.actor))
    except PermissionDenied:
        raise DjangoPermissionDenied() from None
    rows = [{"store": s, "on": [m for m in modules.modules() if m.key in s.modules_on]} for s in stores]
    return render(request, "tenancy/store_list.html", {"rows": rows, "module_count": len(modules.modules())})


@login_required
@never_cache
def store_modules(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    store = get_in_scope(Store, actor, pk, "modules")  # 404 out of scope, 403 (audited) for non-admins
    if request.method == "POST":
        form = StoreModulesForm(request.POST)
        if form.is_valid():
            try:
                services.store_modules_set(actor=actor, store_id=store.pk, enabled=form.cleaned_data["modules"])
            except ValidationError as exc:
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("The modules of %(store)s were saved.") % {"store": store.name})
                return redirect("tenancy:store_modules", store.pk)
    else:
        form = StoreModulesForm(initial={"modules": sorted(store.modules_on)})
    return render(request, "tenancy/store_modules.html", {"store": store, "form": form, "modules": modules.modules()})
