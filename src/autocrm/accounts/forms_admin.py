"""Forms of the administrator's pages: users, memberships, passwords, integration tokens.

Store choices come from the view (the administrator's organization); the services check
everything again."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.roles import Role

from .services import KNOWN_SCOPES

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


def _store_field(stores: list[Any], *, label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("— organization-wide —"))] + [(s.pk, f"{s.code} · {s.name}") for s in stores],
        widget=forms.Select(attrs=_SELECT),
        help_text=_("Directors and administrators span the organization: leave the store empty for them."),
    )


class _StoreForm(forms.Form):
    def __init__(self, *args: Any, stores: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"] = _store_field(stores, label=_("Store"))


class UserCreateForm(_StoreForm):
    username = forms.CharField(label=_("Username"), max_length=150, widget=forms.TextInput(attrs=_TEXT))
    display_name = forms.CharField(
        label=_("Display name"), max_length=60, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    email = forms.EmailField(label=_("Email"), required=False, widget=forms.EmailInput(attrs=_TEXT))
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={**_TEXT, "autocomplete": "new-password"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=forms.Select(attrs=_SELECT))


class MembershipForm(_StoreForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=forms.Select(attrs=_SELECT))


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={**_TEXT, "autocomplete": "new-password"}),
    )


class TokenCreateForm(_StoreForm):
    error_aliases = {"user": "username"}  # the service names the integration user "user"

    username = forms.CharField(
        label=_("Integration user"),
        max_length=150,
        widget=forms.TextInput(attrs=_TEXT),
        help_text=_("The username of an integration user; a new one is created when you also give its name."),
    )
    integration_name = forms.CharField(
        label=_("New integration's name"), max_length=60, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    name = forms.CharField(label=_("Token name"), max_length=100, widget=forms.TextInput(attrs=_TEXT))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(s, s) for s in sorted(KNOWN_SCOPES)],
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 8}),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"), min_value=1, max_value=730, initial=365, widget=forms.NumberInput(attrs=_TEXT)
    )

    def __init__(self, *args: Any, stores: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, stores=stores, **kwargs)
        field = cast(forms.ChoiceField, self.fields["store"])
        # Django keeps choices as a list of pairs once set; the stubs type the getter as any input.
        field.choices = [("", _("— every store —")), *cast(list[tuple[Any, Any]], field.choices)[1:]]
        self.fields["store"].help_text = _("Pin the token to one store, or leave empty.")
