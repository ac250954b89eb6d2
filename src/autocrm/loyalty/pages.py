"""Loyalty's pages are registered here (menu, the 360 member card)."""


def register() -> None:
    pass
