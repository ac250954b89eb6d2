"""The form of the store's modules page; the service checks everything again."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core import modules


class StoreModulesForm(forms.Form):
    modules = forms.MultipleChoiceField(
        label=_("Modules switched on"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # cast: Form.fields is typed dict[str, Field]; this is the MultipleChoiceField declared above.
        cast(forms.ChoiceField, self.fields["modules"]).choices = [(m.key, m.label) for m in modules.modules()]
