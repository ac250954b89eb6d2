"""Forms of the care pages (the services parse and check; these only draw the fields)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.forms import StyledForm

from .choices import (
    Category,
    Channel,
    ComplaintStatus,
    Department,
    FollowUpKind,
    Outcome,
    RootCause,
    Severity,
    WinBackReason,
)


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


STEP_LABELS = {
    "received": _("to assign"), "assigned": _("to start handling"), "handling": _("to resolve"),
    "confirming": _("to get the customer's confirmation"),
}  # fmt: skip


class CareSettingsForm(StyledForm):
    """The store's care settings; ``settings_save`` checks every value (ranges, networks, gifts)."""

    follow_up_days = forms.IntegerField(label=_("Follow-up call within (days)"))
    retry_hours = forms.IntegerField(label=_("Call an unreachable customer again after (hours)"))
    max_attempts = forms.IntegerField(label=_("Attempts before giving up"))
    survey_link_days = forms.IntegerField(label=_("Survey links valid for (days)"))
    low_csi = forms.IntegerField(label=_("A CSI below this opens a care call"))
    low_nps = forms.IntegerField(label=_("An NPS answer at or below this opens a care call"))
    min_answer_seconds = forms.IntegerField(label=_("Answers faster than this are flagged (seconds)"))
    store_networks = forms.CharField(
        label=_("Store network addresses"), required=False,
        help_text=_("Comma-separated addresses or networks (CIDR) of the store: answers from them are flagged."),
    )  # fmt: skip
    winback_months = forms.IntegerField(label=_("Months without a visit before a win-back (0: off)"))
    watch_visits = forms.IntegerField(label=_("Won-back customers: visits followed by a call"))

    def __init__(self, *args: object, gift_choices: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for severity, severity_label in Severity.choices:
            for step, step_label in STEP_LABELS.items():
                self.fields[f"deadline_{severity}_{step}"] = forms.IntegerField(
                    label=_("%(severity)s severity: hours %(step)s") % {"severity": severity_label, "step": step_label}
                )
        for kind, kind_label in FollowUpKind.choices:
            self.fields[f"script_{kind}"] = forms.CharField(
                label=_("Script: %(kind)s") % {"kind": kind_label}, required=False,
                widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Empty: the shipped script."),
            )  # fmt: skip
        for reason, reason_label in WinBackReason.choices:
            self.fields[f"gift_{reason}"] = forms.ChoiceField(
                label=_("Win-back offer: %(reason)s") % {"reason": reason_label}, required=False,
                choices=[("", _("No gift")), *(gift_choices or [])],
            )  # fmt: skip
        for name, field in self.fields.items():
            if name.startswith(("deadline_", "script_", "gift_")):
                field.widget.attrs.setdefault("class", "form-select" if name.startswith("gift_") else "form-control")
