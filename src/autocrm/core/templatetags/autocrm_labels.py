"""Template filters that show stored codes in the reader's language."""

from __future__ import annotations

from django import template

from autocrm.core.identifiers import maker_label

register = template.Library()


@register.filter(name="maker_label")
def maker_label_filter(maker: str | None) -> str:
    """vininfo's maker name (stored) → 上汽名爵 in Chinese, SAIC MG in English."""
    return maker_label(maker)
