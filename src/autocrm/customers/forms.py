"""Forms of the customer UI. They parse what the browser sends; every rule (normalisation,
validation, duplicates, rights) lives in ``customers.services``, whose ``DomainError.fields``
are mapped back onto the form's fields by ``core.forms.run_service``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core.actor import Actor
from autocrm.core.forms import StyledForm
from autocrm.core.permissions import Access, can, field_access
from autocrm.core.roles import ADVISOR_ROLES, CONSULTANT_ROLES, Role

from .choices import Channel, ConsentPurpose, CustomerKind, Gender, IncomeBand, SourceChannel
from .models import Customer

SENSITIVE_FIELDS = ("mobile", "id_number", "address", "other_phones")


def _choices(enum: Any, *, blank: Any = None) -> list[tuple[str, Any]]:
    choices = [(value, label) for value, label in enum.choices if value != ""]
    return [("", blank if blank is not None else "—"), *choices]


def _date() -> forms.DateField:
    return forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class CustomerForm(StyledForm):
    """Create and edit a customer. On edit, protected fields start empty (their masked value is
    shown as the placeholder): showing them in full would be a reveal; empty keeps the value."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices, initial=CustomerKind.PERSON)
    name = forms.CharField(label=_("Name"), max_length=100)
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))  # fmt: skip
    other_phones = forms.CharField(label=_("Other phones"), required=False, max_length=200,
                                   help_text=_("Separate several numbers with commas."))  # fmt: skip
    wechat_id = forms.CharField(label=_("WeChat ID"), required=False, max_length=60)
    email = forms.CharField(label=_("Email"), required=False, max_length=254)
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=_choices(Gender))
    birthday = _date()
    licence_expiry = _date()
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=30)
    uscc = forms.CharField(label=_("Unified social credit code"), required=False, max_length=30)
    province = forms.CharField(label=_("Province"), required=False, max_length=30)
    city = forms.CharField(label=_("City"), required=False, max_length=30)
    district = forms.CharField(label=_("District"), required=False, max_length=30)
    address = forms.CharField(label=_("Street address"), required=False, max_length=200)
    community = forms.CharField(label=_("Residential community"), required=False, max_length=60)
    occupation = forms.CharField(label=_("Occupation"), required=False, max_length=60)
    employer = forms.CharField(label=_("Employer"), required=False, max_length=100)
    income_band = forms.ChoiceField(label=_("Income band"), required=False, choices=_choices(IncomeBand))
    preferred_channel = forms.ChoiceField(label=_("Preferred channel"), required=False, choices=_choices(Channel))
    source_channel = forms.ChoiceField(label=_("Source channel"), required=False, choices=_choices(SourceChannel))
    personalised_marketing_opt_out = forms.BooleanField(
        label=_("No personalised marketing"),
        required=False,
        help_text=_("PIPL Art. 24: no marketing chosen for this customer by a segment or a score."),
    )
    external_id = forms.CharField(label=_("External ID"), required=False, max_length=64)
    consultant = forms.TypedChoiceField(label=_("Sales consultant"), required=False, coerce=int, empty_value=None)
    advisor = forms.TypedChoiceField(label=_("Service advisor"), required=False, coerce=int, empty_value=None)
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    birthday.label = _("Birthday")
    licence_expiry.label = _("Driving licence expiry")

    def __init__(self, *args: Any, actor: Actor, instance: Customer | None = None, **kwargs: Any) -> None:
        self.actor = actor
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        for name in SENSITIVE_FIELDS:
            access = field_access(actor, Customer, name)
            if access is Access.HIDDEN:
                del self.fields[name]
            elif instance is not None and getattr(instance, name):
                masker = getattr(Customer._meta.get_field(name), "mask", None)
                masked = masker(getattr(instance, name)) if masker else "********"
                self.fields[name].widget.attrs["placeholder"] = masked
                self.fields[name].help_text = _("Leave empty to keep the current value.")
        # On create a non-consultant picks the consultant; afterwards, changing it is an assignment.
        may_assign = can(actor, "assign", instance) if instance is not None else actor.role != Role.SALES
        self._staff_field("consultant", CONSULTANT_ROLES, show=may_assign)
        if instance is not None and "consultant" in self.fields:
            self.initial.setdefault("consultant", instance.consultant_id)
        self._staff_field("advisor", ADVISOR_ROLES, show=instance is None)

    @staticmethod
    def initial_from(customer: Customer) -> dict[str, Any]:
        names = [n for n in CustomerForm.base_fields if n not in (*SENSITIVE_FIELDS, "consultant", "advisor")]
        return {n: getattr(customer, n) for n in names if hasattr(customer, n)}

    def _staff_field(self, name: str, roles: tuple[str, ...], *, show: bool) -> None:
        if not show:
            del self.fields[name]
            return
        members = (
            Membership.objects.filter(store_id=self.actor.require_store_id(), role__in=roles, is_active=True)
            .select_related("user")
            .order_by("user__username")
        )
        choices: list[tuple[Any, str]] = [("", "—")]
        seen = set()
        for m in members:
            if m.user_id not in seen:
                seen.add(m.user_id)
                choices.append((m.user_id, m.user.display_name or m.user.username))
        cast(forms.ChoiceField, self.fields[name]).choices = choices
        self.fields[name].widget.attrs["class"] = "form-select"

    def service_data(self) -> dict[str, Any]:
        """The fields to hand to the service: on edit, empty protected fields are left out."""
        skip = {"consultant", "advisor", "confirm_new"}
        data = {k: v for k, v in self.cleaned_data.items() if k not in skip}
        if not data.get("preferred_channel"):
            # The service knows no "none" channel; leaving it out keeps the current value.
            data.pop("preferred_channel", None)
        if self.instance is not None:
            for name in SENSITIVE_FIELDS:
                if name in data and not data[name]:
                    del data[name]
        return data


class TagForm(StyledForm):
    add = forms.CharField(label=_("Tag"), required=False, max_length=40)
    remove = forms.CharField(required=False, max_length=40)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=ConsentPurpose.choices)
    channel = forms.ChoiceField(choices=Channel.choices)
    action = forms.ChoiceField(choices=[("grant", "grant"), ("withdraw", "withdraw")])
    source = forms.CharField(required=False, max_length=60)
