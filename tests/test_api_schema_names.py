"""Every schema in the OpenAPI document is one class. django-ninja names a component after its
class, so two apps' ``PartOut`` would share one entry and the document would describe one of
them with the other's fields (schemathesis found a repair order's part lines checked against the
parts catalogue's shape): a schema's class name must be unique across the API."""

from collections import defaultdict

import ninja

from autocrm.config.api import api


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_no_two_schema_classes_share_a_component_name():
    components = set(api.get_openapi_schema()["components"]["schemas"])
    modules = defaultdict(set)
    for schema in _subclasses(ninja.Schema):
        if schema.__module__.startswith("autocrm.") and ".tests" not in schema.__module__:
            modules[schema.__name__].add(schema.__module__)
    shared = {name: sorted(mods) for name, mods in modules.items() if len(mods) > 1 and name in components}
    assert not shared, f"schema names used by more than one module (rename one): {shared}"
