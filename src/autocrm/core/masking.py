"""Masking for display: enough to recognise, not enough to take away."""

from __future__ import annotations

import re


def mask_mobile(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; ``+8613812345678`` the same."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(value: str | None) -> str:
    """``11010519491231002X`` → ``110105********002X``: region kept, birth date and sequence hidden."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_address(value: str | None) -> str:
    """Keep the first six characters (province and city), hide the street and number."""
    if not value:
        return ""
    keep = min(6, max(len(value) // 3, 1))
    return value[:keep] + "****"


def mask_name(value: str | None) -> str:
    """``张伟`` → ``张*``; ``欧阳娜娜`` → ``欧阳**`` is not attempted: one character kept."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


def mask_generic(value: str | None) -> str:
    if not value:
        return ""
    return "*" * min(len(value), 8)
