from django.apps import AppConfig


class TestappConfig(AppConfig):
    name = "testapp"
    label = "testapp"
    has_api = True
