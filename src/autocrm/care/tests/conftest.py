import pytest


@pytest.fixture
def demo(db):
    from autocrm.demo.services import demo_create

    return demo_create()
