"""``{{ value|care_label:"severity" }}``: the label of a care choice, from one map per language
and process (docs/conventions.md §10: no ``get_FOO_display`` in a loop)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django import template
from django.utils.translation import get_language

from autocrm.care import choices

register = template.Library()

_ENUMS = {
    "kind": choices.FollowUpKind, "fu_status": choices.FollowUpStatus, "outcome": choices.Outcome,
    "channel": choices.Channel, "category": choices.Category, "severity": choices.Severity,
    "department": choices.Department, "status": choices.ComplaintStatus, "root_cause": choices.RootCause,
    "kind_survey": choices.SurveyKind, "flag": choices.Flag, "response_status": choices.ResponseStatus,
    "winback_reason": choices.WinBackReason,
}  # fmt: skip


@cache
def _map(name: str, language: str | None) -> dict[str, str]:
    return {value: str(label) for value, label in _ENUMS[name].choices}


@register.filter(name="care_label")
def care_label(value: Any, name: str) -> str:
    if name not in _ENUMS or value in (None, ""):
        return "" if value is None else str(value)
    return _map(name, get_language()).get(str(value), str(value))
