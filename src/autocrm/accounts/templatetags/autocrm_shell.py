"""Small template helpers for the staff shell."""

from __future__ import annotations

from typing import Any

from django import template

from autocrm.core.roles import ROLE_DESCRIPTIONS, Role

register = template.Library()


@register.filter
def role_label(code: Any) -> Any:
    """The translated name of a role code (``manager`` → 店总/总经理)."""
    try:
        return Role(code).label
    except ValueError:
        return code or ""


@register.filter
def role_description(code: Any) -> Any:
    """What a role is for, translated (SPEC "Who uses it"); empty for an unknown code."""
    try:
        return ROLE_DESCRIPTIONS.get(Role(code), "")
    except ValueError:
        return ""
