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


def normalize_other_phone(value: str | None) -> str:
    """The phone of a customer's "other phones" that the duplicate finder looks up (blind index
    ``Customer.other_phone_index``): the first mobile in the list (``+8613912345678,021-5555``
    → ``13912345678``), else the first phone's digits. A changed mobile is usually kept here."""
    if not value:
        return ""
    phones = [normalize_mobile(p) for p in value.replace("，", ",").split(",")]
    phones = [p for p in phones if p]
    for phone in phones:
        if len(phone) == 11 and phone.startswith("1"):
            return phone
    return phones[0] if phones else ""
