from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.forms import StyledForm


class RecallImportForm(StyledForm):
    file = forms.FileField(label=_("Recall file (CSV or Excel)"))
    code = forms.CharField(label=_("Campaign code"), max_length=40, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    dry_run = forms.BooleanField(label=_("Dry run: count the matches, change nothing"), required=False, initial=True)


class CompleteForm(StyledForm):
    reference = forms.CharField(label=_("Repair order or note"), max_length=64, required=False)
