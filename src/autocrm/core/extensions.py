"""Registries: the one way a higher app adds something to a lower app (NetBox-style extensions).

A lower app owns a named :class:`Registry` and reads it; higher apps register entries in their
``AppConfig.ready``. The customer 360 page lives in ``customers`` but shows vehicles, leads,
repair orders…: each of those apps registers a panel, so ``customers`` imports none of them.
The same mechanism holds the navigation, the home panels, importers, exporters, search keys,
quality checks and duplicate evidence — every module registers, none is imported from below.

    PANELS = registry("panels")
    PANELS.register(Panel(...), key="vehicles", group="customers.customer", order=30)
    for entry in PANELS.entries("customers.customer"): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries keyed by (group, key), read in (order, key) order. Registering a key again
    replaces the entry, so a reloaded app (tests, autoreload) does not register twice."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, dict[str, tuple[int, T]]] = {}

    def register(self, entry: T, *, key: str, group: str = "", order: int = 100) -> T:
        self._entries.setdefault(group, {})[key] = (order, entry)
        return entry

    def unregister(self, key: str, *, group: str = "") -> None:
        self._entries.get(group, {}).pop(key, None)

    def get(self, key: str, *, group: str = "") -> T | None:
        found = self._entries.get(group, {}).get(key)
        return found[1] if found else None

    def entries(self, group: str = "") -> list[T]:
        items = self._entries.get(group, {})
        return [entry for _order, _key, entry in sorted((o, k, e) for k, (o, e) in items.items())]

    def keys(self, group: str = "") -> list[str]:
        items = self._entries.get(group, {})
        return [k for _o, k in sorted((o, k) for k, (o, _e) in items.items())]

    def groups(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[T]:
        return iter(self.entries())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._entries.get("", {})


_REGISTRIES: dict[str, Registry[Any]] = {}


def registry(name: str) -> Registry[Any]:
    """The registry called ``name``, created on first use (by its owner or its first contributor)."""
    reg = _REGISTRIES.get(name)
    if reg is None:
        reg = _REGISTRIES[name] = Registry(name)
    return reg


def registries() -> dict[str, Registry[Any]]:
    """Every registry, for the conventions test and the admin's overview."""
    return dict(_REGISTRIES)


# --- panels on another app's page ---------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    target: str  # e.g. "customers.customer"
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]  # (actor, obj) → context, None hides the panel
    order: int = 100
    api_key: str | None = None  # name in the API's 360 payload, when the panel has data for it
    # The module (core.modules) whose panel this is; None: the module of the app holding ``context``.
    # A panel of a module switched off in the actor's store is not shown.
    module: str | None = None
    # Home panels only: for whom the panel is not the first screen (``lazy(actor)`` true), the home
    # page holds a placeholder and the panel loads after the first paint (core.views.home_panel).
    lazy: Callable[[Any], bool] | None = None
    title: Any = None  # the placeholder's title (a lazy panel's)


PANELS: Registry[Panel] = registry("panels")


def register_panel(panel: Panel) -> None:
    PANELS.register(panel, key=panel.key, group=panel.target, order=panel.order)


def panels_for(target: str, actor: Any, obj: Any) -> list[tuple[Panel, dict[str, Any]]]:
    """The panels of ``target`` that have something to show ``actor`` for ``obj``, in order
    (none of a module switched off in the actor's store)."""
    from .modules import module_enabled, module_of_view

    out = []
    for panel in PANELS.entries(target):
        if not module_enabled(actor, panel.module or module_of_view(panel.context)):
            continue
        ctx = panel.context(actor, obj)
        if ctx is not None:
            out.append((panel, ctx))
    return out
