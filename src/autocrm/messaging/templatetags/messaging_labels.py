"""``{{ m.channel|msg_label:"channel" }}``: a messaging choice's label from one map per process
and language (docs/conventions.md §10) — ``get_FOO_display()`` translates every choice of the
field on every call, once per row of a list."""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.utils.translation import get_language

from autocrm.messaging.choices import AttemptOutcome, MessageChannel, MessageStatus, Purpose, SuppressionReason

register = template.Library()

CHOICES: dict[str, Any] = {
    "channel": MessageChannel,
    "purpose": Purpose,
    "status": MessageStatus,
    "reason": SuppressionReason,
    "outcome": AttemptOutcome,
}


@functools.cache
def labels(kind: str, language: str | None) -> dict[str, str]:
    """The choice values of ``kind`` → their labels in ``language`` (built once each)."""
    return {str(value): str(label) for value, label in CHOICES[kind].choices}


@register.filter(name="msg_label")
def msg_label(value: Any, kind: str) -> str:
    """The label of ``value`` (a messaging choice of ``kind``); the value itself when unknown."""
    if value in (None, ""):
        return ""
    return labels(kind, get_language()).get(str(value), str(value))
