"""Imports every provider sub-package once so that their ``@register`` runs."""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    package = importlib.import_module("autocrm.channels")
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and not info.name.startswith("_") and info.name != "tests":
            importlib.import_module(f"autocrm.channels.{info.name}")
    _loaded = True
