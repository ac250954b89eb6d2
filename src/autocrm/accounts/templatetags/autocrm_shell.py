"""Small template helpers for the staff shell."""

from __future__ import annotations

from typing import Any

from django import template

from autocrm.core.roles import Role

register = template.Library()


@register.filter
def role_label(code: Any) -> Any:
    """The translated name of a role code (``manager`` → 店长)."""
    try:
        return Role(code).label
    except ValueError:
        return code or ""
