"""Normalisers that feed blind indexes: the same person typed twice must index the same."""

from __future__ import annotations

import re


def normalize_mobile(value: str | None) -> str:
    """Digits only, China's +86 / 0086 prefix removed: ``+86 138-1234-5678`` → ``13812345678``."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits


def normalize_id_number(value: str | None) -> str:
    if not value:
        return ""
    return re.sub(r"\s", "", value).upper()
