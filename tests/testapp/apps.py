from django.apps import AppConfig

from autocrm.core.modules import Module, register_module

from .i18n import bilingual

# The test module: no real module exists yet, so this one exercises the enforcement points (pages,
# API, scheduled jobs; its menu entry is registered by the test that needs it, since other tests
# list the menu). Registered at import, before any app is ready.
register_module(Module("testapp", bilingual("Tickets (test module)", "工单（测试模块）"), default=True, order=900))


class TestappConfig(AppConfig):
    name = "testapp"
    label = "testapp"
    has_api = True
    module_key = "testapp"

    def ready(self) -> None:
        from . import importing

        importing.register()  # tickets in the import/export engine, as a new module would
