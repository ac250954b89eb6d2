import pytest


@pytest.fixture
def world(db):
    from autocrm.demo.services import demo_create
    from autocrm.tenancy.models import Store

    demo_create()
    return {s.code: s for s in Store.objects.all()}
