"""core.readahead: items produced in a thread arrive in order; errors and early stops behave."""

from __future__ import annotations

import threading

import pytest
from django.utils import translation
from django.utils.translation import gettext

from autocrm.core.readahead import read_ahead


def test_items_arrive_in_order_from_another_thread():
    seen_threads = set()

    def produce():
        for n in range(50):
            seen_threads.add(threading.get_ident())
            yield n

    assert list(read_ahead(produce(), depth=2)) == list(range(50))
    assert threading.get_ident() not in seen_threads


def test_an_error_is_raised_where_its_item_would_have_been():
    def produce():
        yield 1
        yield 2
        raise ValueError("row 3 is broken")

    got = []
    with pytest.raises(ValueError, match="row 3 is broken"):
        for item in read_ahead(produce()):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_producer_and_runs_its_clean_up():
    cleaned = threading.Event()

    def produce():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            cleaned.set()

    items = read_ahead(produce(), depth=1)
    assert next(items) == 1
    items.close()  # joins the thread
    assert cleaned.is_set()
    assert not [t for t in threading.enumerate() if t.name.startswith("autocrm-read-ahead")]


def test_the_callers_language_is_used_in_the_thread():
    def produce():
        yield gettext("Customers")

    with translation.override("zh-hans"):
        assert list(read_ahead(produce())) == ["客户"]
