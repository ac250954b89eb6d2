from django.apps import AppConfig
from django.utils.functional import lazy
from django.utils.translation import get_language

from autocrm.core.modules import Module, register_module


def _label() -> str:
    # The test app is outside the catalogue; its module label is translated here so the
    # Chinese-first check holds on the administrator's modules page too.
    return "工单（测试模块）" if (get_language() or "").startswith("zh") else "Tickets (test module)"


# The test module: no real module exists yet, so this one exercises the enforcement points (pages,
# API, scheduled jobs; its menu entry is registered by the test that needs it, since other tests
# list the menu). Registered at import, before any app is ready.
register_module(Module("testapp", lazy(_label, str)(), default=True, order=900))


class TestappConfig(AppConfig):
    name = "testapp"
    label = "testapp"
    has_api = True
    module_key = "testapp"

    def ready(self) -> None:
        from . import importing

        importing.register()  # tickets in the import/export engine, as a new module would
