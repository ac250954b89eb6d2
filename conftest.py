"""Fixtures shared by every test package (src/autocrm/*/tests and tests/)."""

import pytest

from autocrm.demo.services import demo_create


@pytest.fixture
def demo(db):
    """The demo organization, stores a/b and logins, created through the real service."""
    return demo_create()


@pytest.fixture
def committed_db(transactional_db):
    """Rows really committed (code that opens its own transactions or threads sees them). The
    audit table refuses DELETE even to the test run's flush on SQLite, so its rows are removed
    here with the append-only trigger lifted for a moment."""
    yield
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_delete")
            cursor.execute("DELETE FROM audit_auditevent")
            cursor.execute(
                "CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
            )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import caches

    for alias in ("default", "shared"):
        caches[alias].clear()
    yield
