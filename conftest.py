"""Fixtures shared by every test package (src/autocrm/*/tests and tests/)."""

import pytest

from autocrm.demo.services import demo_create


@pytest.fixture
def demo(db):
    """The demo organization, stores a/b and logins, created through the real service."""
    return demo_create()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
