"""Pinyin search keys for names: ``张伟`` → ``zhangwei`` and ``zw``, so the search box finds both.

Surnames are read as surnames (单 → shan, 曾 → zeng, 区 → ou …), which pypinyin does not do by
itself; given names use pypinyin's phrase table when the given name is a known phrase and the
most common reading of each character otherwise. Latin letters and digits pass through
lower-cased; spaces and punctuation separate words. ü is written ``v`` as on Chinese keyboards
(吕 → ``lv``); :func:`search_keys` also indexes the ``u`` spelling.

Per-character readings and whole names (bounded) are cached, so a call costs a few microseconds
instead of the 20–40 µs of a plain ``lazy_pinyin`` call — this runs for every customer written.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SURNAME_READINGS", "pinyin_full", "pinyin_initials", "pinyin_keys", "pinyin_syllables", "search_keys"]

# Surname readings that differ from the character's most common reading, plus compound surnames
# (whose pinyin must be read as a unit). Sources: the standard 百家姓 readings.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "朴": ("piao",),
    "查": ("zha",),
    "盖": ("ge",),
    "乐": ("yue",),
    "覃": ("qin",),
    "华": ("hua",),
    "任": ("ren",),
    "缪": ("miao",),
    "翟": ("zhai",),
    "秘": ("bi",),
    "繁": ("po",),
    "员": ("yun",),
    "卜": ("bu",),
    "种": ("chong",),
    "召": ("shao",),
    "谌": ("chen",),
    "句": ("gou",),
    "能": ("nai",),
    "折": ("she",),
    "过": ("guo",),
    "曲": ("qu",),
    "沈": ("shen",),
    "宁": ("ning",),
    "石": ("shi",),
    "柏": ("bai",),
    "薄": ("bo",),
    "车": ("che",),
    "尉": ("wei",),
    "隗": ("wei",),
    "冼": ("xian",),
    "阚": ("kan",),
    "牟": ("mou",),
    "重": ("chong",),
    "长": ("chang",),
    "都": ("du",),
    "便": ("pian",),
    "纪": ("ji",),
    "燕": ("yan",),
    "相": ("xiang",),
    "角": ("jue",),
    "蔚": ("yu",),
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "单于": ("chan", "yu"),
    "长孙": ("zhang", "sun"),
    "欧阳": ("ou", "yang"),
    "司马": ("si", "ma"),
    "上官": ("shang", "guan"),
    "诸葛": ("zhu", "ge"),
    "东方": ("dong", "fang"),
    "皇甫": ("huang", "fu"),
    "公孙": ("gong", "sun"),
    "慕容": ("mu", "rong"),
    "宇文": ("yu", "wen"),
    "司徒": ("si", "tu"),
    "夏侯": ("xia", "hou"),
    "令狐": ("ling", "hu"),
    "端木": ("duan", "mu"),
    "澹台": ("tan", "tai"),
    "独孤": ("du", "gu"),
    "呼延": ("hu", "yan"),
    "南宫": ("nan", "gong"),
    "轩辕": ("xuan", "yuan"),
    "西门": ("xi", "men"),
    "申屠": ("shen", "tu"),
    "鲜于": ("xian", "yu"),
    "闾丘": ("lv", "qiu"),
    "司空": ("si", "kong"),
}

_RUNS = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002fa1f]+|[A-Za-z0-9]+").findall
_CHAR_CACHE: dict[str, str] = {}
_NAME_CACHE: dict[tuple[str, bool], tuple[tuple[str, bool], ...]] = {}
_NAME_CACHE_SIZE = 200_000
_KEYS_CACHE: dict[tuple[str, bool], tuple[str, str]] = {}
_PHRASE_CACHE: dict[str, list[str]] = {}


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FA1F


_PYPINYIN: tuple[Any, Any] | None = None


def _pypinyin() -> tuple[Any, Any]:
    """pypinyin's ``lazy_pinyin`` and phrase table, imported on the first name written (~55 MB of
    dictionaries a worker that only reads never loads), then kept: the import statement itself
    costs microseconds, too much per row of an import."""
    global _PYPINYIN
    if _PYPINYIN is None:
        from pypinyin import lazy_pinyin
        from pypinyin.phrases_dict import phrases_dict

        _PYPINYIN = (lazy_pinyin, phrases_dict)
    return _PYPINYIN


def _char(ch: str) -> str:
    reading = _CHAR_CACHE.get(ch)
    if reading is None:
        reading = _pypinyin()[0](ch)[0].lower()
        _CHAR_CACHE[ch] = reading
    return reading


def _han_run(run: str) -> list[str]:
    if len(run) == 1:
        return [_char(run)]
    cached = _PHRASE_CACHE.get(run)
    if cached is not None:
        return cached
    lazy_pinyin, phrases_dict = _pypinyin()
    if run in phrases_dict:
        # pypinyin knows this word as a phrase (长乐, 重庆…): let it choose the readings.
        out = [s.lower() for s in lazy_pinyin(run)]
        if len(_PHRASE_CACHE) < 100_000:
            _PHRASE_CACHE[run] = out
        return out
    return [_char(c) for c in run]


def _tokens(name: str, *, person: bool) -> tuple[tuple[str, bool], ...]:
    """Syllables and Latin words in order, each flagged ``True`` when it came from Han characters."""
    key = (name, person)
    cached = _NAME_CACHE.get(key)
    if cached is None:
        if len(_NAME_CACHE) >= _NAME_CACHE_SIZE:
            _NAME_CACHE.clear()  # names repeat (张伟…), but the cache must stay bounded
        cached = _NAME_CACHE[key] = tuple(_tokenize(name, person=person))
    return cached


def _tokenize(name: str, *, person: bool) -> list[tuple[str, bool]]:
    text = name.strip()
    out: list[tuple[str, bool]] = []
    if person and len(text) > 1 and _is_han(text[0]):
        reading = SURNAME_READINGS.get(text[:2]) if len(text) > 2 else None
        if reading is not None:
            text = text[2:]
        else:
            reading = SURNAME_READINGS.get(text[0])
            if reading is not None:
                text = text[1:]
        if reading is not None:
            out.extend((s, True) for s in reading)
    # Runs of Han characters or of ASCII letters/digits; anything else separates words.
    for run in _RUNS(text):
        if _is_han(run[0]):
            out.extend((s, True) for s in _han_run(run))
        else:
            out.append((run.lower(), False))
    return out


def pinyin_syllables(name: str | None, *, person: bool = True) -> list[str]:
    """The syllables (and lower-cased Latin words) of ``name``: ``单田芳`` → ``["shan", "tian", "fang"]``."""
    return [t for t, _ in _tokens(name or "", person=person)]


def pinyin_keys(name: str | None, *, person: bool = True) -> tuple[str, str]:
    """The full pinyin and the initials together (what a customer row keeps for search), looked
    up once per distinct name: an import asks for every row."""
    key = (name or "", person)
    keys = _KEYS_CACHE.get(key)
    if keys is None:
        tokens = _tokens(key[0], person=person)
        keys = ("".join(t for t, _ in tokens), "".join(t[0] for t, _ in tokens))
        if len(_KEYS_CACHE) >= _NAME_CACHE_SIZE:
            _KEYS_CACHE.clear()
        _KEYS_CACHE[key] = keys
    return keys


def pinyin_full(name: str | None, *, person: bool = True) -> str:
    """``张伟`` → ``zhangwei``; ``Tom Li`` → ``tomli``; ``张Tom`` → ``zhangtom``."""
    return pinyin_keys(name, person=person)[0]


def pinyin_initials(name: str | None, *, person: bool = True) -> str:
    """``张伟`` → ``zw``; ``欧阳娜娜`` → ``oynn``; ``Tom Li`` → ``tl``."""
    return pinyin_keys(name, person=person)[1]


def search_keys(name: str | None, *, person: bool = True) -> set[str]:
    """Strings to index for a name: full pinyin and initials (and the ``u`` spelling of ``v``)."""
    tokens = _tokens(name or "", person=person)
    if not tokens:
        return set()
    full = "".join(t for t, _ in tokens)
    keys = {full, "".join(t[0] for t, _ in tokens)}
    if "v" in full and any(han and "v" in t for t, han in tokens):
        keys.add("".join(t.replace("v", "u") if han else t for t, han in tokens))
    return keys
