"""Normalisers that feed blind indexes: the same person typed twice must index the same."""

from __future__ import annotations

import re

_NON_DIGIT = re.compile(r"\D")
_SPACE = re.compile(r"\s")


def normalize_mobile(value: str | None) -> str:
    """Digits only, China's +86 / 0086 prefix removed: ``+86 138-1234-5678`` → ``13812345678``."""
    if not value:
        return ""
    if len(value) == 14 and value.startswith("+86") and value[3:].isdigit() and value.isascii():
        return value[3:]  # already E.164, as every validated mobile is stored
    digits = _NON_DIGIT.sub("", value)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits


def normalize_id_number(value: str | None) -> str:
    if not value:
        return ""
    return _SPACE.sub("", value).upper()
