"""``autocrm rotate-keys``: the documented, hyphenated name of ``rotate_keys``.

Django finds commands by module file name and imports them with importlib, which accepts the
hyphen; the implementation lives in ``rotate_keys.py``."""

from autocrm.core.management.commands.rotate_keys import Command  # noqa: F401
