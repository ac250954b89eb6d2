"""The public lead form of a store: ``/l/<organization code>/<store code>/`` — no login,
mobile-friendly and embeddable in the dealer's site or an OEM page (an ``<iframe>``).

A bot is refused quietly — it sees the same thank-you page and nothing is created — when it
fills the hidden honeypot field, posts faster than a person can type (a signed timestamp handed
out with the form: under :data:`MIN_FILL_SECONDS`, or older than a day, or forged), or goes over
the per-IP limit (``AUTOCRM_LEAD_FORM_RATE``, default ``5/10m``, counted in the shared cache by
``core.ratelimit``). The consent checkbox is recorded with the lead (and as a marketing consent of
the customer when the mobile is a customer's). A person's typing mistakes (no mobile, text too
long) show the form again with the message."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from autocrm.core.actor import Actor
from autocrm.core.errors import RateLimited, ValidationError
from autocrm.core.middleware import client_ip
from autocrm.core.ratelimit import hit, parse_rate
from autocrm.core.roles import Role
from autocrm.tenancy.models import Store

from .choices import LeadSource
from .services import lead_create

MIN_FILL_SECONDS = 3
MAX_FORM_AGE = 86400
HONEYPOT = "website"
_SALT = "autocrm.leads.public_form"


def _store(org: str, code: str) -> Store:
    store = (
        Store.objects.filter(organization__code=org, code=code)  # scoped: the public form names its store
        .select_related("organization")
        .first()
    )
    if store is None or not getattr(store, "is_active", True):
        raise Http404
    return store


def _form_actor(store: Store, request: HttpRequest) -> Actor:
    """The form acting for the store: no user, the right to add a lead in that one store only
    (the rules then assign it), labelled ``system`` in the audit trail."""
    return Actor(user=None, organization_id=store.organization_id, store_id=store.pk, role=Role.MANAGER,
                 organization_store_ids=(store.pk,), member_store_ids=(store.pk,), ip=client_ip(request))  # fmt: skip


def _is_bot(request: HttpRequest, store: Store) -> bool:
    if request.POST.get(HONEYPOT):
        return True
    try:
        issued = signing.loads(request.POST.get("t", ""), salt=_SALT, max_age=MAX_FORM_AGE)
        if issued.get("s") != store.pk or time.time() - float(issued["at"]) < MIN_FILL_SECONDS:
            return True
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return True
    limit, window = parse_rate(getattr(settings, "AUTOCRM_LEAD_FORM_RATE", "5/10m"))
    try:
        hit(f"leadform:{client_ip(request) or '-'}", limit=limit, window=window)
    except RateLimited:
        return True
    return False


@csrf_exempt  # embedded on other sites, posted by anonymous people: guarded by the signed timestamp instead
@xframe_options_exempt
def lead_form(request: HttpRequest, org: str, store_code: str) -> HttpResponse:
    store = _store(org, store_code)
    context: dict[str, Any] = {"store": store, "honeypot": HONEYPOT}
    if request.method == "POST":
        if _is_bot(request, store):
            return render(request, "leads/public_thanks.html", context)
        data: dict[str, Any] = {k: request.POST.get(k, "") for k in ("name", "mobile", "model_interest", "message")}
        data["marketing_consent"] = request.POST.get("consent") == "on"
        data["campaign"] = request.GET.get("utm_campaign", "")[:100]
        try:
            lead_create(actor=_form_actor(store, request), data=data, source=LeadSource.WEB_FORM,
                        consent_source="public_form")  # fmt: skip
        except ValidationError as exc:
            context.update(errors=exc.fields, values=data)
        else:
            return render(request, "leads/public_thanks.html", context)
    context["token"] = signing.dumps({"s": store.pk, "at": time.time()}, salt=_SALT)
    return render(request, "leads/public_form.html", context, status=400 if context.get("errors") else 200)
