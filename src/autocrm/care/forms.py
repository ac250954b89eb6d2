"""Forms of the care pages (the services parse and check; these only draw the fields)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.forms import StyledForm

from .choices import Category, Channel, ComplaintStatus, Department, Outcome, RootCause, Severity


class OutcomeForm(StyledForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Call note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    raise_complaint = forms.BooleanField(label=_("Raise a complaint from this call"), required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, required=False, initial=Severity.MEDIUM)
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices, required=False)


class ComplaintForm(StyledForm):
    customer = forms.IntegerField(label=_("Customer number"), min_value=1)
    vehicle = forms.IntegerField(label=_("Vehicle number"), min_value=1, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices)
    description = forms.CharField(label=_("What the customer says"), widget=forms.Textarea(attrs={"rows": 4}))


class AdvanceForm(StyledForm):
    to = forms.ChoiceField(
        label=_("Move to"), required=False,
        choices=[("", _("The next step"))] + [c for c in ComplaintStatus.choices if c[0] != ComplaintStatus.RECEIVED]
        + [("reopen", _("Reopen: the customer is not satisfied"))],
    )  # fmt: skip
    assignee = forms.TypedChoiceField(label=_("Handled by"), required=False, coerce=int, empty_value=None)
    resolution = forms.CharField(label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    root_cause = forms.ChoiceField(label=_("Root cause"), required=False,
                                   choices=[("", "—"), *RootCause.choices])  # fmt: skip
    customer_confirmed = forms.BooleanField(label=_("The customer confirmed the resolution"), required=False)
    note = forms.CharField(label=_("Note"), required=False)
