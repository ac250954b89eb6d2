"""The entry check's name frequencies of a big store: counted by one process, kept in the shared
cache for the others, counted again after ten minutes (issue 10, "left" (a))."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from autocrm.core.cache import shared_cache
from autocrm.customers import dedup

from .factories import actor_for, make_customer


@pytest.fixture
def store(demo, monkeypatch):
    """Store a with three customers, "big" from three on (the real threshold is 5,000), no
    frequencies in this process's memory or in the shared cache."""
    manager = actor_for("manager_a")
    for name in ("刘萍平", "张伟", "张伟"):
        make_customer(manager, name=name)
    monkeypatch.setattr(dedup, "_SMALL_STORE", 3)
    monkeypatch.setattr(dedup, "_STATS_CACHE", {})
    shared_cache().delete(dedup._STATS_KEY % manager.store_id)
    return manager


def names_read(queries) -> int:
    """Queries that read the customers' names (the cache's own table is another table)."""
    return sum(1 for q in queries if '"customers_customer"."name"' in q["sql"])


def live_names(store_id: int) -> int:
    from autocrm.customers.models import Customer

    return Customer.objects.filter(store_id=store_id, merged_into__isnull=True).count()


def test_a_second_process_reads_the_counts_from_the_shared_cache(store, monkeypatch):
    with CaptureQueriesContext(connection) as first:
        counted = dedup.store_name_stats(store.store_id)
    assert names_read(first) == 1
    assert counted.total == live_names(store.store_id)

    monkeypatch.setattr(dedup, "_STATS_CACHE", {})  # another worker: nothing in its memory
    with CaptureQueriesContext(connection) as second:
        shared = dedup.store_name_stats(store.store_id)
    assert names_read(second) == 0
    assert shared.total == counted.total
    assert shared.names == counted.names and shared.pinyin == counted.pinyin
    assert shared.surnames == counted.surnames
    from autocrm.core.names import name_keys

    zhang = name_keys("张伟")
    assert shared.same_name_weight(zhang) == counted.same_name_weight(zhang)

    with CaptureQueriesContext(connection) as third:  # and then from its own memory
        dedup.store_name_stats(store.store_id)
    assert len(third) == 0


def test_the_counts_are_taken_again_after_ten_minutes(store, monkeypatch):
    now = dedup._clock()
    monkeypatch.setattr(dedup, "_clock", lambda: now)
    before = dedup.store_name_stats(store.store_id).total
    make_customer(store, name="覃嘉懿")
    assert dedup.store_name_stats(store.store_id).total == before  # a big store's counts are kept

    monkeypatch.setattr(dedup, "_clock", lambda: now + dedup._STATS_TTL + 1)
    with CaptureQueriesContext(connection) as later:
        assert dedup.store_name_stats(store.store_id).total == before + 1
    assert names_read(later) == 1
    monkeypatch.setattr(dedup, "_STATS_CACHE", {})  # the new counts are what the others read
    assert dedup.store_name_stats(store.store_id).total == before + 1


def test_while_another_process_counts_the_old_copy_serves(store, monkeypatch):
    now = dedup._clock()
    monkeypatch.setattr(dedup, "_clock", lambda: now)
    before = dedup.store_name_stats(store.store_id).total
    make_customer(store, name="覃嘉懿")
    key = dedup._STATS_KEY % store.store_id
    shared_cache().delete(key)
    shared_cache().add(f"{key}:counting", 1, timeout=60)  # another process started counting
    monkeypatch.setattr(dedup, "_clock", lambda: now + dedup._STATS_TTL + 1)
    with CaptureQueriesContext(connection) as meanwhile:
        assert dedup.store_name_stats(store.store_id).total == before
    assert names_read(meanwhile) == 0


def test_a_damaged_entry_is_counted_again(store):
    shared_cache().set(dedup._STATS_KEY % store.store_id, b"not counts", timeout=60)
    assert dedup.store_name_stats(store.store_id).total == live_names(store.store_id)


def test_a_small_store_is_counted_on_every_check(demo, monkeypatch):
    manager = actor_for("manager_a")
    monkeypatch.setattr(dedup, "_STATS_CACHE", {})
    before = dedup.store_name_stats(manager.store_id).total
    make_customer(manager, name="覃嘉懿")
    assert dedup.store_name_stats(manager.store_id).total == before + 1
    assert dedup._STATS_CACHE == {}
