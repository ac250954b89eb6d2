"""Forms of the messaging pages. They parse; the services (services_templates, services_accounts,
services_suppressions, notifications, h/msgcore's message_queue) decide."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.forms import StyledForm

from .choices import MessageChannel, Purpose
from .services_suppressions import ADDRESS_CHANNELS
from .services_templates import LANGUAGES


class TemplateForm(StyledForm):
    code = forms.CharField(
        label=_("Code"), max_length=60, help_text=_("The key modules send by, e.g. appointment_reminder.")
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=MessageChannel.choices)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False, help_text=_("Email only."))
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        help_text=_("Variables in braces, e.g. {customer_title}, your car {plate} is ready."),
    )
    html = forms.CharField(
        label=_("HTML"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000,
        help_text=_("Email only: the HTML part (variables are escaped)."),
    )  # fmt: skip
    provider_template_id = forms.CharField(
        label=_("Provider template id"), max_length=80, required=False,
        help_text=_("SMS and WeChat: the id the provider approved the template under."),
    )  # fmt: skip
    param_order = forms.CharField(
        label=_("Parameter order"), max_length=800, required=False,
        help_text=_("SMS and WeChat: the variables in the provider's order, e.g. customer_title, plate (WeChat: thing1:customer_name)."),
    )  # fmt: skip
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None and not args:
            kwargs.setdefault(
                "initial",
                {
                    **{f: getattr(instance, f) for f in ("code", "name", "purpose", "channel", "language", "subject",
                                                           "body", "html", "provider_template_id", "is_active")},
                    "param_order": ", ".join(instance.param_order or []),
                },
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["data-testid"] = "template-body"

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PreviewCustomerForm(StyledForm):
    customer = forms.IntegerField(label=_("Customer"), required=False, widget=forms.HiddenInput)
    q = forms.CharField(label=_("Preview with a customer"), required=False, max_length=40)


def _field_for(config_field: Any, saved: bool) -> forms.Field:
    if config_field.secret:
        help_text = (
            _("Saved — enter a new value to replace it.") if saved else config_field.help or _("Stored encrypted.")
        )
        return forms.CharField(
            label=config_field.label,
            required=False,
            max_length=2000,
            help_text=help_text,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    return forms.CharField(
        label=config_field.label, required=False, max_length=2000, help_text=config_field.help or ""
    )


class ChannelAccountForm(StyledForm):
    """Built from the provider's ``config_fields``; secrets are never put back in the page."""

    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    endpoint = forms.CharField(
        label=_("Endpoint override"), max_length=200, required=False,
        help_text=_("Leave empty for the provider's own address (a private gateway or a test server otherwise)."),
    )  # fmt: skip
    is_default = forms.BooleanField(label=_("Default for its channel"), required=False, initial=True)

    def __init__(self, *args: Any, provider: Any, account: Any = None, saved_secrets: set[str] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        if account is not None and not args:
            kwargs.setdefault(
                "initial",
                {"name": account.name, "endpoint": account.endpoint, "is_default": account.is_default,
                 **{k: v for k, v in (account.public_config or {}).items()}},
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.config_names = []
        for field in provider.fields:
            self.fields[field.name] = _field_for(field, field.name in (saved_secrets or set()))
            self.config_names.append(field.name)
        for name in self.config_names:
            widget = self.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} form-control".strip()
            widget.attrs["data-testid"] = f"config-{name}"

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class MessagingSettingsForm(StyledForm):
    window_start = forms.TimeField(label=_("Marketing window opens"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    window_end = forms.TimeField(label=_("Marketing window closes"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    marketing_weekly_cap = forms.IntegerField(label=_("Marketing messages a week at most"), min_value=0, max_value=50)
    unsubscribe_text = forms.CharField(label=_("Unsubscribe text"), max_length=30)
    sms_signature = forms.CharField(
        label=_("Approved SMS signature"), max_length=20, required=False,
        help_text=_("As the provider approved it, without 【】."),
    )  # fmt: skip

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None and not args:
            kwargs.setdefault(
                "initial",
                {f: getattr(instance, f) for f in ("window_start", "window_end", "marketing_weekly_cap",
                                                     "unsubscribe_text", "sms_signature")},
            )  # fmt: skip
        super().__init__(*args, **kwargs)


class TestSendForm(StyledForm):
    to = forms.CharField(label=_("Send a test message to"), max_length=200)


class SuppressionForm(StyledForm):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[(c.value, c.label) for c in ADDRESS_CHANNELS]
    )
    address = forms.CharField(label=_("Mobile, email or openid"), max_length=254)
    all_purposes = forms.BooleanField(label=_("Everything, not only marketing"), required=False)
    source = forms.CharField(label=_("Why"), max_length=100, required=False)


class SendForm(StyledForm):
    """Send one template to one customer. The idempotency key is chosen when the form is shown,
    so a double submit is one message."""

    template = forms.TypedChoiceField(label=_("Template"), coerce=int)
    link = forms.CharField(label=_("Link"), required=False, max_length=300)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, templates: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", secrets.token_hex(16))
        super().__init__(*args, **kwargs)
        self.templates = {t.pk: t for t in templates}
        field = self.fields["template"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(t.pk, f"{t.name} · {t.get_purpose_display()} · {t.get_channel_display()}") for t in templates]
        field.widget.attrs["data-testid"] = "send-template"


class PreferenceForm(StyledForm):
    wecom_userid = forms.CharField(label=_("WeCom user id"), max_length=64, required=False)
