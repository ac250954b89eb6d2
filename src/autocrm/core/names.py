"""Names of people as evidence that two records are one person (issue 10, item 2).

A receptionist types 劉萍平 for 刘萍平, 李晶 for 李静 (the pinyin IME offers both), ``刘 萍平`` with
a space, full-width letters, ``阿依古丽·买买提`` with or without the middle dot, ``Li Tom`` for
``Tom Li``. :func:`name_keys` reduces a name to what survives all of that:

* ``normal`` — NFKC (full-width → half-width), spaces, middle dots and punctuation removed,
  traditional → simplified with OpenCC (the converter ``core.addresses`` uses, ``t2s``), Latin
  lower-cased; Latin words keep one space between them;
* ``pinyin`` — the toneless pinyin of ``normal``, surnames read as surnames (单 shan, 曾 zeng,
  解 xie: ``core.pinyin``), so homophones (李静/李晶) share it;
* ``fuzzy`` — the pinyin with the distinctions many speakers do not make folded (zh/z, ch/c,
  sh/s, n/l at the start, -ng/-n): 李静 ``lijing`` and 李金 ``lijin`` share ``lijin``;
* ``surname`` — the (simplified) surname, compound surnames (欧阳, 司马…) as one;
* ``ordered`` — Latin words sorted (``li tom`` for both ``Tom Li`` and ``Li Tom``).

**How much an agreeing name weighs** (:class:`NameStats`): two records sharing 张伟 say little —
a store of 100,000 customers has hundreds of 张伟 — while two sharing 覃嘉懿 say a lot. In
Fellegi–Sunter terms the weight of agreement is ``ln(m / u)``, with ``m`` the chance one person's
two records agree on the name (≈ 0.95: the rest are typos) and ``u`` the chance two different
people do, i.e. the name's share of the store. The share is learnt from the store's own names,
smoothed towards a prior for names the store has seen too few times to know::

    u0 = p(surname) × GIVEN_SHARE            # p(surname) = (count + 1) / (N + 100)
    u  = (f(name) + K × u0) / (N + K)        # K = 10,000 pseudo-records
    w  = clamp(ln(M / u) − OFFSET, LOW, HIGH)

``f(name)`` counts the store's records with that normalised name (homophones: with that pinyin),
``N`` the store's records. ``OFFSET`` brings the weight onto the scale of the finder's other
hand-set weights (whose prior is −6 inside a block); ``LOW``/``HIGH`` keep one field from
deciding alone (a rare name and a district are not enough without a third agreeing field).
Figures: a name seen twice among 100,000 weighs 5.0 (the cap; ≈ 5.3 before it); 张伟 × 300 ≈ 0.9 → 2.5;
a name seen twice in a store of 200 ≈ 3.1 (the prior keeps a small store from calling any name
rare).

Pure functions, no models; results are cached per distinct name (bounded).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapidfuzz import fuzz

from .pinyin import SURNAME_READINGS, pinyin_syllables

__all__ = ["NameKeys", "NameStats", "name_keys", "name_normalize", "names_similar"]

# Separators a name may carry: spaces, middle dots of transliterated names (U+00B7, U+2022,
# U+30FB, U+2027, U+2219, U+22C5, U+FF65), dots, hyphens, apostrophes, commas.
_SEPARATORS = re.compile(r"[\s\u00b7\u2022\u30fb\u2027\u2219\u22c5\uff65.\-_'\u2019,\u3001\uff0c()]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002fa1f]")
_COMPOUND_SURNAMES = frozenset(k for k in SURNAME_READINGS if len(k) == 2) | {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "公孙", "慕容", "宇文", "司徒", "夏侯", "令狐", "端木",
}  # fmt: skip
_CACHE_SIZE = 200_000
_KEYS_CACHE: dict[str, NameKeys] = {}


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _fold_syllable(s: str) -> str:
    """One syllable as a speaker who does not tell zh/z, ch/c, sh/s, n/l, -ng/-n apart writes it."""
    if s.startswith(("zh", "ch", "sh")):
        s = s[0] + s[2:]
    elif s.startswith("n") and len(s) > 1:
        s = "l" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


@dataclass(frozen=True, slots=True)
class NameKeys:
    """What one name reduces to (see the module's docstring)."""

    normal: str
    pinyin: str
    fuzzy: str
    surname: str
    ordered: str
    han: bool


def name_normalize(name: str | None) -> str:
    """``劉 萍平`` → ``刘萍平``; ``Ｔｏｍ  LI`` → ``tom li``; ``阿依古丽·买买提`` → ``阿依古丽买买提``."""
    return name_keys(name).normal


def name_keys(name: str | None) -> NameKeys:
    text = name or ""
    keys = _KEYS_CACHE.get(text)
    if keys is None:
        if len(_KEYS_CACHE) >= _CACHE_SIZE:
            _KEYS_CACHE.clear()  # names repeat, but the cache must stay bounded
        keys = _KEYS_CACHE[text] = _compute(text)
    return keys


def _compute(text: str) -> NameKeys:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text.isascii():
        text = _converter().convert(text)
    words = [w for w in _SEPARATORS.split(text.lower()) if w]
    han = bool(_HAN.search(text))
    normal = "".join(words) if han else " ".join(words)
    syllables = pinyin_syllables(normal) if normal else []
    pinyin = "".join(syllables)
    fuzzy = "".join(_fold_syllable(s) for s in syllables)
    surname = ""
    if han and len(normal) > 1:
        surname = normal[:2] if len(normal) > 2 and normal[:2] in _COMPOUND_SURNAMES else normal[0]
    ordered = " ".join(sorted(words)) if not han else normal
    return NameKeys(normal, pinyin, fuzzy, surname, ordered, han)


def names_similar(a: NameKeys, b: NameKeys) -> float:
    """How alike two normalised names are in [0, 1] (rapidfuzz's ratio on the normal form; a name
    that begins with the other — 陈静 / 陈静怡, a given name cut short — counts as alike)."""
    if not a.normal or not b.normal:
        return 0.0
    return fuzz.ratio(a.normal, b.normal) / 100


# Fellegi–Sunter weight of an agreeing name (see the module's docstring).
M = 0.95
GIVEN_SHARE = 1 / 500  # chance a person of the same surname has the same given name, before data
K = 10_000
OFFSET = 5.0
LOW, HIGH = 2.5, 5.0


class NameStats:
    """How often each normalised name, pinyin and surname occurs among a store's customers."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names: Counter[str] = Counter()
        self.pinyin: Counter[str] = Counter()
        self.surnames: Counter[str] = Counter()
        self.total = 0
        self._memo: dict[tuple[str, str], float] = {}
        for name in names:
            self.add(name_keys(name))

    def counts(self) -> tuple[int, dict[str, int], dict[str, int], dict[str, int]]:
        """The counts as plain data (for a shared cache): :meth:`from_counts` makes them a
        ``NameStats`` again without reading or normalising a name."""
        return self.total, dict(self.names), dict(self.pinyin), dict(self.surnames)

    @classmethod
    def from_counts(cls, counts: tuple[int, dict[str, int], dict[str, int], dict[str, int]]) -> NameStats:
        stats = cls(())
        stats.total = counts[0]
        stats.names, stats.pinyin, stats.surnames = Counter(counts[1]), Counter(counts[2]), Counter(counts[3])
        return stats

    def add(self, keys: NameKeys) -> None:
        self._memo.clear()
        self.total += 1
        self.names[keys.normal] += 1
        self.pinyin[keys.pinyin] += 1
        if keys.surname:
            self.surnames[keys.surname] += 1

    def _weight(self, count: int, surname: str) -> float:
        n = self.total
        p_surname = (self.surnames.get(surname, 0) + 1) / (n + 100) if surname else 0.01
        u0 = p_surname * GIVEN_SHARE
        u = (max(count, 1) + K * u0) / (n + K)
        return min(HIGH, max(LOW, math.log(M / u) - OFFSET))

    def same_name_weight(self, keys: NameKeys) -> float:
        """The log-odds weight of two records agreeing on this (normalised) name."""
        memo = self._memo.get(("n", keys.normal))
        if memo is None:
            memo = self._memo[("n", keys.normal)] = self._weight(self.names.get(keys.normal, 0), keys.surname)
        return memo

    def same_pinyin_weight(self, keys: NameKeys) -> float:
        """Agreeing on the pinyin only (a homophone): weighed by the pinyin's frequency."""
        memo = self._memo.get(("p", keys.pinyin))
        if memo is None:
            memo = self._memo[("p", keys.pinyin)] = self._weight(self.pinyin.get(keys.pinyin, 0), keys.surname)
        return memo

    def is_common(self, keys: NameKeys) -> bool:
        """A name the store has so often that it says little by itself (the weight at its floor)."""
        return self.same_name_weight(keys) <= LOW
