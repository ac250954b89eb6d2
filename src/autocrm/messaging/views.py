"""The messaging pages (issue 12 items 2, 5 and 6): templates with a preview, channel settings,
the message log with each message's attempts, the suppression list, the staff inbox (the bell)
and its preferences, and sending one template to one customer from the 360 page.

Views are thin: forms parse, the services decide (``services_templates``, ``services_accounts``,
``services_suppressions``, ``notifications`` here; ``services.message_queue`` and the
``selectors`` of the outbox are h/msgcore's); 404 and 403 are the middleware's."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.actor import Actor, actor_of
from autocrm.core.errors import NotFound, PermissionDenied
from autocrm.core.forms import REFUSED, run_action, run_service
from autocrm.core.permissions import can, require_model
from autocrm.core.views import scoped_object_or_404
from autocrm.customers.models import Customer
from autocrm.customers.selectors import customer_get, customer_page

from . import notifications, services_accounts, services_suppressions, services_templates
from .choices import MessageChannel, MessageStatus, Purpose
from .forms import (
    ChannelAccountForm,
    MessagingSettingsForm,
    PreferenceForm,
    SendForm,
    SuppressionForm,
    TemplateForm,
    TestSendForm,
)
from .models import ChannelAccount, Message, MessageTemplate, MessagingSettings, Suppression

LIST_SIZE = 25


def _actor(request: HttpRequest) -> Actor:
    return actor_of(request)


def _outbox_selectors() -> Any:
    """h/msgcore's outbox reads (message_list, message_get, suppression_list)."""
    from . import selectors

    return selectors


def _more_query(request: HttpRequest, cursor: str | None) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    if cursor:
        query["cursor"] = cursor
    return query.urlencode()


# --- templates ---------------------------------------------------------------------------------


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """The store's templates by code, channel and language (one query)."""
    actor = _actor(request)
    require_model(actor, "view", MessageTemplate)
    rows = list(MessageTemplate.objects.for_actor(actor, "view").order_by("code", "channel", "language", "id")[:500])
    return render(
        request,
        "messaging/template_list.html",
        {"templates": rows, "can_add": can(actor, "add", MessageTemplate)},
    )


def _template_page(
    request: HttpRequest, actor: Actor, form: TemplateForm, template: MessageTemplate | None, status: int = 200
) -> HttpResponse:
    from .rendering import variables

    return render(
        request,
        "messaging/template_form.html",
        {
            "form": form,
            "template": template,
            "variables": sorted(variables().values(), key=lambda v: v.name),
            "can_delete": template is not None and can(actor, "delete", template),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_model(actor, "add", MessageTemplate)
    form = TemplateForm(request.POST or None, initial={"language": "zh-hans", "is_active": True})
    if request.method == "POST" and form.is_valid():
        saved = run_service(form, services_templates.template_save, actor=actor, store=actor.store_id,
                            data=form.service_data())  # fmt: skip
        if saved is not None:
            messages.success(request, _("Template %(name)s saved.") % {"name": saved.name})
            return redirect("messaging:template_edit", saved.pk)
    return _template_page(request, actor, form, None, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    template = scoped_object_or_404(MessageTemplate, actor, pk, "view")
    if request.method == "POST":
        if not can(actor, "change", template):
            scoped_object_or_404(MessageTemplate, actor, pk, "change")  # the 403, audited
        form = TemplateForm(request.POST)
        if form.is_valid():
            saved = run_service(form, services_templates.template_save, actor=actor, template=template,
                                data=form.service_data())  # fmt: skip
            if saved is not None:
                messages.success(request, _("Template %(name)s saved.") % {"name": saved.name})
                return redirect("messaging:template_edit", saved.pk)
        template.refresh_from_db()
        return _template_page(request, actor, form, template, status=400)
    return _template_page(request, actor, TemplateForm(instance=template), template)


@login_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    template = scoped_object_or_404(MessageTemplate, actor, pk, "delete")
    name = template.name
    services_templates.template_delete(actor=actor, template=template)
    messages.success(request, _("Template %(name)s removed.") % {"name": name})
    return redirect("messaging:template_list")


@login_required
@require_GET
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The template rendered with a customer in the actor's scope (``?customer=<id>``) or with
    the sample values; the customer picker searches as you type (``?q=``)."""
    actor = _actor(request)
    template = scoped_object_or_404(MessageTemplate, actor, pk, "view")
    customer = None
    candidates: list[Customer] = []
    customer_id = request.GET.get("customer") or ""
    if customer_id:
        customer = customer_get(actor=actor, pk=customer_id)
    q = (request.GET.get("q") or "").strip()[:40]
    if q and can(actor, "view", Customer):
        candidates = list(customer_page(actor=actor, filters={"q": q}, limit=8).items)
    preview = services_templates.template_preview(actor=actor, template=template, customer=customer)
    return render(
        request,
        "messaging/partials/template_preview.html",
        {"template": template, "preview": preview, "candidates": candidates, "q": q},
    )


@login_required
@require_POST
def template_draft_preview(request: HttpRequest) -> HttpResponse:
    """The unsaved form rendered with the sample values, and what the save would refuse."""
    actor = _actor(request)
    require_model(actor, "view", MessageTemplate)
    data = {k: request.POST.get(k, "") for k in ("purpose", "channel", "body", "subject", "html", "param_order",
                                                 "provider_template_id")}  # fmt: skip
    from . import rendering

    problems = rendering.template_problems(
        purpose=data["purpose"], channel=data["channel"], body=data["body"], subject=data["subject"],
        html=data["html"], provider_template_id=data["provider_template_id"],
        param_order=services_templates._param_order(data["param_order"]) or [],
        unsubscribe_text=services_accounts.settings_for(actor.require_store_id()).unsubscribe_text,
    )  # fmt: skip
    preview = services_templates.template_preview(actor=actor, data=data) if data["body"].strip() else None
    return render(
        request, "messaging/partials/template_preview.html",
        {"preview": preview, "problems": problems, "draft": True},
    )  # fmt: skip


# --- channel settings --------------------------------------------------------------------------


def _settings_context(request: HttpRequest, actor: Actor, **extra: Any) -> dict[str, Any]:
    accounts = list(ChannelAccount.objects.for_actor(actor, "view").filter(store_id=actor.store_id).order_by("channel", "-is_default", "id"))
    infos = services_accounts.provider_infos()
    rows = [
        {
            "account": a,
            "info": infos.get(a.provider),
            "callback_url": request.build_absolute_uri(services_accounts.callback_path(a)),
            "saved_secrets": sorted(services_accounts.secret_names_saved(a)),
        }
        for a in accounts
    ]
    current = services_accounts.settings_for(actor.require_store_id())
    return {
        "rows": rows,
        "providers": list(infos.values()),
        "settings_form": extra.pop("settings_form", None) or MessagingSettingsForm(instance=current),
        "can_change": can(actor, "add", ChannelAccount) or can(actor, "change", ChannelAccount),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def channel_settings(request: HttpRequest) -> HttpResponse:
    """The store's provider accounts and sending rules; POST saves the rules."""
    actor = _actor(request)
    require_model(actor, "view", ChannelAccount)
    if request.method == "POST":
        require_model(actor, "change", MessagingSettings)
        form = MessagingSettingsForm(request.POST)
        if form.is_valid():
            saved = run_service(form, services_accounts.messaging_settings_save, actor=actor, data=form.cleaned_data)
            if saved is not None:
                messages.success(request, _("Sending rules saved."))
                return redirect("messaging:channel_settings")
        return render(request, "messaging/channel_settings.html",
                      _settings_context(request, actor, settings_form=form), status=400)  # fmt: skip
    return render(request, "messaging/channel_settings.html", _settings_context(request, actor))


def _account_page(request: HttpRequest, form: Any, info: Any, account: ChannelAccount | None,
                  status: int = 200, **extra: Any) -> HttpResponse:  # fmt: skip
    return render(
        request, "messaging/account_form.html",
        {"form": form, "info": info, "account": account, "test_form": extra.pop("test_form", None) or TestSendForm(),
         "callback_url": request.build_absolute_uri(services_accounts.callback_path(account)) if account else "",
         **extra},
        status=status,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_model(actor, "add", ChannelAccount)
    provider = request.POST.get("provider") or request.GET.get("provider") or ""
    info = services_accounts.provider_infos().get(provider)
    if info is None:
        raise NotFound()
    form = ChannelAccountForm(request.POST or None, provider=info)
    if request.method == "POST" and form.is_valid():
        saved = run_service(form, services_accounts.channel_account_save, actor=actor, provider=provider,
                            data=form.service_data())  # fmt: skip
        if saved is not None:
            messages.success(request, _("Account saved. Copy the callback URL into the provider's console."))
            return redirect("messaging:account_edit", saved.pk)
    return _account_page(request, form, info, None, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = scoped_object_or_404(ChannelAccount, actor, pk, "view")
    info = services_accounts.provider_infos().get(account.provider)
    if info is None:
        info = services_accounts.ProviderInfo(account.provider, account.provider, account.channel, ())
    saved_secrets = services_accounts.secret_names_saved(account)
    if request.method == "POST":
        account = scoped_object_or_404(ChannelAccount, actor, pk, "change")
        form = ChannelAccountForm(request.POST, provider=info, saved_secrets=saved_secrets)
        if form.is_valid():
            saved = run_service(form, services_accounts.channel_account_save, actor=actor, provider=account.provider,
                                account=account, data=form.service_data())  # fmt: skip
            if saved is not None:
                messages.success(request, _("Account saved."))
                return redirect("messaging:account_edit", saved.pk)
        account.refresh_from_db()
        return _account_page(request, form, info, account, status=400)
    form = ChannelAccountForm(provider=info, account=account, saved_secrets=saved_secrets)
    return _account_page(request, form, info, account)


@login_required
@require_POST
def account_test(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = scoped_object_or_404(ChannelAccount, actor, pk, "change")
    form = TestSendForm(request.POST)
    if form.is_valid():
        result = run_service(form, services_accounts.channel_account_test, actor=actor, account=account,
                             to=form.cleaned_data["to"])  # fmt: skip
        if result is not None:
            messages.success(request, _("The provider accepted the test message (%(id)s).") % {"id": result.provider_id})
            return redirect("messaging:account_edit", account.pk)
    info = services_accounts.provider_infos().get(account.provider)
    saved = services_accounts.secret_names_saved(account)
    page_form = ChannelAccountForm(provider=info, account=account, saved_secrets=saved) if info else None
    return _account_page(request, page_form, info, account, status=400, test_form=form)


@login_required
@require_POST
def account_callback_secret(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = scoped_object_or_404(ChannelAccount, actor, pk, "change")
    services_accounts.channel_account_new_callback_secret(actor=actor, account=account)
    messages.success(request, _("New callback URL: copy it into the provider's console."))
    return redirect("messaging:account_edit", account.pk)


@login_required
@require_POST
def account_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    account = scoped_object_or_404(ChannelAccount, actor, pk, "change")
    services_accounts.channel_account_deactivate(actor=actor, account=account)
    messages.success(request, _("Account switched off."))
    return redirect("messaging:channel_settings")


# --- the message log (h/msgcore's selectors) ---------------------------------------------------


class MessageFilterForm:
    """The log's filters as the page shows them (the selector checks the values)."""

    fields = (
        ("status", MessageStatus.choices),
        ("channel", MessageChannel.choices),
        ("purpose", Purpose.choices),
    )


@login_required
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    """The outbox, newest first: filter by customer, status, channel and purpose; keyset pages."""
    actor = _actor(request)
    require_model(actor, "view", Message)
    chosen = {k: request.GET.get(k, "") for k in ("customer", "status", "channel", "purpose")}
    filters = {k: v for k, v in chosen.items() if v}
    page = run_action(request, _outbox_selectors().message_list, actor=actor, filters=filters,
                      limit=LIST_SIZE, cursor=request.GET.get("cursor") or None)  # fmt: skip
    if page is REFUSED:
        page = _outbox_selectors().message_list(actor=actor, filters={}, limit=LIST_SIZE)
        filters = {}
    customer = None
    if filters.get("customer"):
        customer = next((m.customer for m in page.items if m.customer_id), None)
    context = {
        "messages_page": page.items,
        "chosen": chosen,
        "filter_fields": [(name, choices, chosen.get(name, "")) for name, choices in MessageFilterForm.fields],
        "filter_labels": {"status": _("Status"), "channel": _("Channel"), "purpose": _("Purpose")},
        "customer": customer,
        "next_cursor": page.next_cursor,
        "more_query": _more_query(request, page.next_cursor),
        "first_page": not request.GET.get("cursor"),
    }
    if getattr(request, "htmx", False) and request.GET.get("cursor"):
        return render(request, "messaging/partials/message_rows.html", context)
    return render(request, "messaging/message_list.html", context)


@login_required
@require_GET
def message_detail(request: HttpRequest, uid: str) -> HttpResponse:
    """One message: text, recipient (masked), status and reason, provider id, every attempt and receipt."""
    actor = _actor(request)
    message = _outbox_selectors().message_get(actor=actor, uid=uid)
    return render(request, "messaging/message_detail.html", {"message": message,
                                                             "attempts": getattr(message, "attempt_list", [])})  # fmt: skip


def may_send(actor: Actor, purpose: str) -> bool:
    """May the actor send messages of ``purpose`` (h/msgcore's send actions on Message)?"""
    from .permissions import SEND_ACTION

    action = SEND_ACTION.get(purpose)
    return action is not None and can(actor, action, Message)


def _send_templates(actor: Actor) -> list[MessageTemplate]:
    if not can(actor, "view", MessageTemplate):
        return []
    rows = MessageTemplate.objects.for_actor(actor, "view").filter(
        is_active=True, channel__in=[MessageChannel.SMS, MessageChannel.WECHAT, MessageChannel.EMAIL,
                                     MessageChannel.CONSOLE, MessageChannel.MINIPROGRAM],
    ).exclude(purpose__in=[Purpose.LOGIN_CODE, Purpose.STAFF]).order_by("purpose", "name", "id")[:200]  # fmt: skip
    return [t for t in rows if may_send(actor, t.purpose)]


@login_required
@require_http_methods(["GET", "POST"])
def message_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send one template to one customer (from the 360 page): the outbox's ``message_queue``
    with the key chosen when the form was shown, so a double submit is one message. Consent,
    the window and the caps are checked again when it goes; a suppressed send says why on the
    message and the customer's timeline."""
    actor = _actor(request)
    customer = customer_get(actor=actor, pk=pk)
    templates = _send_templates(actor)
    if not templates and not can(actor, "view", MessageTemplate):
        raise PermissionDenied()
    form = SendForm(request.POST or None, templates=templates)
    if request.method == "POST" and form.is_valid():
        from . import services as outbox

        template = form.templates.get(form.cleaned_data["template"])
        if template is None:
            form.add_error("template", _("Choose one of the listed values."))
        else:
            # The customer's own values (name, plate, store…), as the preview shows them.
            values = services_templates.customer_values(actor=actor, customer=customer)
            if form.cleaned_data.get("link"):
                values["link"] = form.cleaned_data["link"]
            message = run_service(
                form, outbox.message_queue, actor=actor, store=customer.store_id, purpose=template.purpose,
                channel=template.channel, template=template, customer=customer, values=values,
                idempotency_key=f"ui-send:{form.cleaned_data['idempotency_key']}",
            )  # fmt: skip
            if message is not None:
                messages.success(request, _("Message queued: it goes out as soon as consent and the rules allow."))
                return redirect(reverse("messaging:message_list") + f"?customer={customer.pk}")
    return render(request, "messaging/message_send.html", {"form": form, "customer": customer},
                  status=400 if request.method == "POST" else 200)  # fmt: skip


@login_required
@require_GET
def customer_messages_part(request: HttpRequest, pk: int) -> HttpResponse:
    """The 360 page's messaging panel, loaded after the first paint: the last messages with status."""
    actor = _actor(request)
    customer = customer_get(actor=actor, pk=pk)
    require_model(actor, "view", Message)
    page = _outbox_selectors().message_list(actor=actor, filters={"customer": customer.pk}, limit=8)
    return render(
        request, "messaging/panels/customer_messages_part.html",
        {"customer": customer, "customer_messages": page.items, "more": bool(page.next_cursor),
         "can_send": bool(_send_templates(actor))},
    )  # fmt: skip


# --- suppressions ------------------------------------------------------------------------------


@login_required
@require_GET
def suppression_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_model(actor, "view", Suppression)
    channel = request.GET.get("channel", "")
    page = run_action(request, _outbox_selectors().suppression_list, actor=actor, channel=channel,
                      limit=LIST_SIZE, cursor=request.GET.get("cursor") or None)  # fmt: skip
    if page is REFUSED:
        page = _outbox_selectors().suppression_list(actor=actor, limit=LIST_SIZE)
    return _suppression_page(request, actor, page, SuppressionForm())


def _suppression_page(request: HttpRequest, actor: Actor, page: Any, form: SuppressionForm, status: int = 200) -> HttpResponse:
    return render(
        request, "messaging/suppression_list.html",
        {"suppressions": page.items, "form": form, "can_add": can(actor, "add", Suppression),
         "can_lift": can(actor, "change", Suppression), "next_cursor": page.next_cursor,
         "more_query": _more_query(request, page.next_cursor), "channels": MessageChannel.choices,
         "channel": request.GET.get("channel", "")},
        status=status,
    )  # fmt: skip


@login_required
@require_POST
def suppression_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_model(actor, "add", Suppression)
    form = SuppressionForm(request.POST)
    if form.is_valid():
        done = run_service(form, services_suppressions.suppression_add_manual, actor=actor, **form.cleaned_data)
        if done is not None:
            messages.success(request, _("Suppressed: %(address)s.") % {"address": done.address_display})
            return redirect("messaging:suppression_list")
    page = _outbox_selectors().suppression_list(actor=actor, limit=LIST_SIZE)
    return _suppression_page(request, actor, page, form, status=400)


@login_required
@require_POST
def suppression_lift(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    row = scoped_object_or_404(Suppression, actor, pk, "change")
    services_suppressions.suppression_lift(actor=actor, suppression=row)
    messages.success(request, _("Lifted: %(address)s gets messages again, consent permitting.") % {"address": row.address_display})
    return redirect("messaging:suppression_list")


# --- the staff inbox ---------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    unread = request.GET.get("unread") == "1"
    page = notifications.notification_page(actor=actor, unread=unread, limit=LIST_SIZE,
                                           cursor=request.GET.get("cursor") or None)  # fmt: skip
    context = {
        "notifications": page.items,
        "unread": unread,
        "next_cursor": page.next_cursor,
        "more_query": _more_query(request, page.next_cursor),
    }
    return render(request, "messaging/inbox.html", context)


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The top bar's bell: the unread count (one indexed query), polled by htmx."""
    count = notifications.unread_count(actor=_actor(request))
    # Without the request: the shell's context processors (stores, menu) are not this fragment's.
    response = HttpResponse(render_to_string("messaging/partials/bell.html", {"unread": count,
                                                                              "cap": notifications.BELL_CAP}))  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read and open what it points to (a link inside the site only)."""
    actor = _actor(request)
    note = notifications.notification_get(actor=actor, pk=pk)
    notifications.notification_mark_read(actor=actor, notification=note)
    if note.link and url_has_allowed_host_and_scheme(note.link, allowed_hosts={request.get_host()}) and request.POST.get("open"):
        return redirect(note.link)
    return redirect("messaging:inbox")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    n = notifications.notification_mark_all_read(actor=_actor(request))
    messages.success(request, _("%(count)d notifications marked read.") % {"count": n})
    return redirect("messaging:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """How the person is told, per kind: inbox, WeCom, digest; and their WeCom user id."""
    actor = _actor(request)
    kinds = [(notifications.ALL_KINDS, _("Every other kind"))] + [(k.kind, k.label) for k in notifications.KINDS.entries()]
    current = notifications.preferences_of(actor=actor)
    base = current.get(notifications.ALL_KINDS)
    form = PreferenceForm(request.POST or None, initial={"wecom_userid": base.wecom_userid if base else ""})
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        for kind, _label in kinds:
            prefix = f"k-{kind}-"
            result = run_action(
                request, notifications.preference_save, actor=actor, kind=kind,
                inbox=bool(request.POST.get(prefix + "inbox")), wecom=bool(request.POST.get(prefix + "wecom")),
                digest=bool(request.POST.get(prefix + "digest")),
                wecom_userid=form.cleaned_data["wecom_userid"] if kind == notifications.ALL_KINDS else None,
            )  # fmt: skip
            if result is REFUSED:
                errors.append(str(_label))
        if not errors:
            messages.success(request, _("Preferences saved."))
            return redirect("messaging:preferences")
        current = notifications.preferences_of(actor=actor)
    rows = []
    for kind, label in kinds:
        pref = current.get(kind) or base
        rows.append({"kind": kind, "label": label, "inbox": pref.inbox if pref else True,
                     "wecom": pref.wecom if pref else True, "digest": pref.digest if pref else False})  # fmt: skip
    return render(request, "messaging/preferences.html", {"form": form, "rows": rows,
                                                          "digest_after": notifications.DIGEST_AFTER,
                                                          "digest_minutes": int(notifications.DIGEST_WINDOW.total_seconds() // 60)},
                  status=400 if errors else 200)  # fmt: skip
