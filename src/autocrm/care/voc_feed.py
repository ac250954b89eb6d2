"""The one place care hands its customers' words to voice-of-customer analytics (``autocrm.voc``,
a layer below care, built beside it): called wherever a survey comment, a complaint's text or a
call note is saved, inside the saving transaction."""

from __future__ import annotations

import datetime as dt


def feed(
    store_id: int, customer_id: int, source: str, source_id: int, text: str, staff_id: int | None, at: dt.datetime
) -> None:
    """``source`` is "survey", "complaint" or "call"."""
    # The integrator wires it: voc.services.record_text(store_id=…, customer_id=…, source=…, source_id=…, text=…, staff_id=…, at=…)
