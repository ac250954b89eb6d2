"""The one place care hands its customers' words to voice-of-customer analytics (``autocrm.voc``,
the layer below care): called wherever a survey comment, a complaint's text or a call note is
saved, inside the saving transaction, so a rolled-back call leaves no text behind."""

from __future__ import annotations

import datetime as dt

from autocrm.voc import services as voc


def feed(
    store_id: int, customer_id: int, source: str, source_id: int, text: str, staff_id: int | None, at: dt.datetime
) -> None:
    """``source`` is "survey", "complaint" or "call"; ``staff_id`` the advisor or consultant the
    words are about (the per-staff charts read it). Blank words are not a text; words longer than
    voc keeps are cut to its length (the record in care keeps them whole)."""
    words = (text or "").strip()
    if not words:
        return
    voc.record_text(store_id=store_id, customer_id=customer_id, source=source, source_id=source_id,
                    text=words[: voc.MAX_TEXT], staff_id=staff_id, at=at)  # fmt: skip
