"""What a person sees of a page: the text of an HTML document, parsed (not regex-stripped).

Script and style contents are skipped; the ``<title>`` and the attributes people read — title,
placeholder, aria-label, alt, and the value of buttons — are included. Hidden inputs and
``<template>`` contents are skipped. Used by the Chinese-first check and the audit tests."""

from __future__ import annotations

from html.parser import HTMLParser

READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
_SKIP = {"script", "style", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _SKIP and tag not in _VOID:
            self._skip += 1
            return
        if self._skip:
            return
        for name in READ_ATTRIBUTES:
            if values.get(name):
                self.parts.append(str(values[name]).strip())
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(str(values["value"]).strip())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    """The pieces of text a person reads on the page, in document order."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return [p for p in parser.parts if p]
