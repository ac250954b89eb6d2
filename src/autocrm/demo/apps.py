from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "autocrm.demo"
    label = "demo"
    verbose_name = "Demo data"
