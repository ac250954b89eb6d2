"""Navigation registry: apps register menu entries with the permission they need; the shell
shows each actor only what their role can open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from .extensions import Registry, registry
from .modules import module_enabled


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: Any  # lazy translated string
    url_name: str
    icon: str
    order: int
    visible: Callable[[Any], bool]
    module: str | None = None  # hidden when this module is off in the actor's store (core.modules)


MENU: Registry[MenuItem] = registry("navigation")


def register_menu(
    key: str, label: Any, url_name: str, *, icon: str = "circle", order: int = 100,
    visible: Callable[[Any], bool] = lambda actor: True, module: str | None = None,
) -> None:  # fmt: skip
    MENU.register(MenuItem(key, label, url_name, icon, order, visible, module), key=key, order=order)


# Menu addresses reversed once per process (a page's shell showed 33 entries: 33 reverses a
# request), keyed by what reversing depends on; an address that does not reverse stays out.
_URLS: dict[tuple[str, str, Any, str], str | None] = {}


def menu_url(url_name: str) -> str | None:
    key = (url_name, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    if key not in _URLS:
        try:
            _URLS[key] = reverse(url_name)
        except NoReverseMatch:
            _URLS[key] = None
    return _URLS[key]


def menu_for(actor: Any, path: str = "") -> list[dict[str, Any]]:
    items = []
    for item in MENU.entries():
        if not module_enabled(actor, item.module) or not item.visible(actor):
            continue
        url = menu_url(item.url_name)
        if url is None:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"key": item.key, "label": item.label, "url": url, "icon": item.icon, "active": active})
    return items
