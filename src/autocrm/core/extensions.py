"""Panels that higher apps add to a lower app's page (NetBox-style template extensions).

The customer 360 page lives in ``customers`` but shows vehicles, leads, repair orders…:
each of those apps registers a panel here, so ``customers`` imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    target: str  # e.g. "customers.customer"
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]  # (actor, obj) → context, None hides the panel
    order: int = 100
    api_key: str | None = None  # name in the API's 360 payload, when the panel has data for it


_PANELS: dict[str, dict[str, Panel]] = {}


def register_panel(panel: Panel) -> None:
    _PANELS.setdefault(panel.target, {})[panel.key] = panel


def panels_for(target: str, actor: Any, obj: Any) -> list[tuple[Panel, dict[str, Any]]]:
    """The panels of ``target`` that have something to show ``actor`` for ``obj``, in order."""
    out = []
    for panel in sorted(_PANELS.get(target, {}).values(), key=lambda p: (p.order, p.key)):
        ctx = panel.context(actor, obj)
        if ctx is not None:
            out.append((panel, ctx))
    return out
