from django.apps import AppConfig


class TestappConfig(AppConfig):
    name = "testapp"
    label = "testapp"
    has_api = True

    def ready(self) -> None:
        from . import importing

        importing.register()  # tickets in the import/export engine, as a new module would
