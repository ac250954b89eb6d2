from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "autocrm.core"
    label = "core"

    def ready(self) -> None:
        # Each app's permissions.py registers its rule table with the engine.
        autodiscover_modules("permissions")
        from django.core import checks

        from . import lookups, modules

        lookups.register()
        checks.register(modules.check_declarations)
