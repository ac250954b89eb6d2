from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "autocrm.core"
    label = "core"

    def ready(self) -> None:
        # Each app's permissions.py registers its rule table with the engine.
        autodiscover_modules("permissions")
        from django.core import checks
        from django.db.models.signals import post_migrate

        from . import lookups, modules
        from .cache import create_cache_tables

        lookups.register()
        checks.register(modules.check_declarations)
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="autocrm.core.create_cache_tables")
