import pytest


@pytest.fixture(autouse=True)
def _fresh_lead_rules():
    """The intake caches each store's rules for 30 s per process: each test starts without."""
    from autocrm.leads.services import rules_changed

    rules_changed()
    yield
    rules_changed()
