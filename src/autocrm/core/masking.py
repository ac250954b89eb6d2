"""Masking for display: enough to recognise, not enough to take away.

The rule every mask keeps: what it shows, together with the fields shown beside it unmasked
(birthday, gender, province/city/district, residential community), never rebuilds the value.
An ID number (6 region + 8 birth date + 3 sequence + 1 check) is the case that needs care: the
region follows from the district, the birth date is the birthday, the sequence's parity is the
gender, so a mask that kept the region and the last four (the old ``110105********002X``) or
only the last four (``**************002X``: sequence and check digit) left nothing unknown.
It keeps the check digit alone: the sequence stays hidden (about 500 values per gender)."""

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
    """``11010519491231002X`` → ``*****************X``: region, birth date and sequence hidden.

    Only the last character is kept (the check digit of an 18-character number): the region is
    known from the district and the birth date from the birthday, so every sequence digit shown
    would bring the full number within reach (see the module docstring)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return "*" * (len(value) - 1) + value[-1]


def mask_address(value: str | None) -> str:
    """Keep at most the first third (six characters at most) and never a digit: the street's name
    may show, house, building and room numbers never do (``张杨路1200号…`` → ``张杨****``)."""
    if not value:
        return ""
    keep = min(6, max(len(value) // 3, 1))
    head = value[:keep]
    for i, ch in enumerate(head):
        if ch.isdigit():
            head = head[:i]
            break
    return head + "****"


def mask_name(value: str | None) -> str:
    """``张伟`` → ``张*``; ``欧阳娜娜`` → ``欧阳**`` is not attempted: one character kept."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


def mask_generic(value: str | None) -> str:
    if not value:
        return ""
    return "*" * min(len(value), 8)
