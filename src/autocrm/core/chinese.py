"""Chinese text as customers type it, read the same way by every app that reads words
(leads' intent signal, ADR 0015; voc's sentiment, ADR 0035).

:func:`normalise` folds what varies without changing the meaning: full-width forms (NFKC),
upper case, traditional characters (OpenCC t2s: 服務顧問 → 服务顾问), characters typed one by one
with spaces between (落 地 价 → 落地价), NUL and lone surrogates, over-long text. :func:`tokenizer`
gives a jieba tokenizer with an app's domain dictionary, built once per process and dictionary
on first use (≈ 1 s, ≈ 60 MB shared by every dictionary: jieba's own table is read once), never at
import time."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any

_lock = threading.Lock()
_opencc: Any = None
_tokenizers: dict[str, Any] = {}

# Characters typed one by one with spaces between (落 地 价): three or more in a row are joined;
# a single space between words (有车没 有车) stays a boundary.
_SPACED = re.compile(r"(?:[\u4e00-\u9fff]\s+){2,}[\u4e00-\u9fff]")
MAX_TEXT = 2000


def _converter() -> Any:
    global _opencc
    if _opencc is None:
        with _lock:
            if _opencc is None:
                try:
                    import opencc

                    _opencc = opencc.OpenCC("t2s")
                except Exception:  # OpenCC is a dependency; without it traditional text is read as is
                    _opencc = False
    return _opencc


def normalise(text: str, *, max_chars: int = MAX_TEXT) -> str:
    """Simplified characters, half-width forms, lower case; spaces between Chinese characters
    dropped (落 地 价 → 落地价); NUL and lone surrogates removed; cut at ``max_chars``."""
    text = text[:max_chars].encode("utf-8", "ignore").decode("utf-8").replace("\x00", "")
    text = unicodedata.normalize("NFKC", text).lower()
    converter = _converter()
    if converter:
        text = converter.convert(text)
    return _SPACED.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text)


def tokenizer(key: str, words: Iterable[tuple[str, int]]) -> Any:
    """The jieba tokenizer named ``key`` with ``words`` (word, frequency) added, built on the
    first call for that key (later calls return it and ignore ``words``)."""
    tok = _tokenizers.get(key)
    if tok is not None:
        return tok
    with _lock:
        tok = _tokenizers.get(key)
        if tok is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for word, freq in words:
                tok.add_word(word, freq=freq)
            tok.cut("预热", HMM=False).__next__()  # loads the dictionary now, under the lock
            _tokenizers[key] = tok
    return tok
