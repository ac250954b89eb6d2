"""``field__any_of``: one parameter for a long list of values, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from testapp.models import Ticket

from autocrm.demo.services import demo_create


@pytest.fixture
def store(db):
    return demo_create()["stores"]["a"]


def test_any_of_matches_exactly_the_listed_values(store):
    titles = ["plain", 'with "quotes"', "back\\slash", "comma,brace{}", "张伟", "NULL", ""]
    for title in titles:
        Ticket.objects.create(store=store, title=title)
    Ticket.objects.create(store=store, title="not listed")
    found = set(Ticket.objects.filter(title__any_of=set(titles)).values_list("title", flat=True))
    assert found == set(titles)
    assert not Ticket.objects.filter(title__any_of=set()).exists()
    many = {f"v{n}" for n in range(5000)} | {"plain"}
    assert list(Ticket.objects.filter(title__any_of=many).values_list("title", flat=True)) == ["plain"]


def test_any_of_on_ids_compares_numbers(store):
    """Primary keys (and other integer columns) as one array of numbers, not text."""
    tickets = [Ticket.objects.create(store=store, title=f"t{n}") for n in range(5)]
    wanted = {tickets[1].pk, tickets[3].pk, 10**12}  # one id that does not exist
    found = Ticket.objects.filter(pk__any_of=wanted).order_by("pk").values_list("title", flat=True)
    assert list(found) == ["t1", "t3"]
