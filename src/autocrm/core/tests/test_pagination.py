"""Keyset pagination: every row exactly once across pages, whatever the ties and directions,
and a clear 400 for a cursor that was not ours."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from testapp.models import Ticket

from autocrm.audit.models import AuditEvent
from autocrm.core.errors import ValidationError
from autocrm.core.pagination import MAX_LIMIT, paginate
from autocrm.tenancy.models import Organization, Store


@pytest.fixture
def store(db):
    org = Organization.objects.create(code="p", name="P")
    return Store.objects.create(organization=org, code="p1", name="P1", brand="B", city="C")


@pytest.fixture
def tickets(store):
    """Eleven tickets with many ties on title and on cost price."""
    rows = []
    for i in range(11):
        rows.append(
            Ticket.objects.create(store=store, title=f"title {i % 3}", cost_price=Decimal(f"{(i % 4) * 10}.50"))
        )
    return rows


def walk(queryset, ordering, limit):
    seen, cursor, pages = [], None, 0
    while True:
        page = paginate(queryset, ordering=ordering, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += [row.pk for row in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages
        assert pages < 100


@pytest.mark.parametrize(
    "ordering",
    [
        ("title", "id"),
        ("-title", "-id"),
        ("title", "-id"),
        ("-cost_price", "id"),
        ("cost_price", "title", "-id"),
        ("-id",),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 11, 50])
def test_pages_cover_every_row_once_in_order(tickets, ordering, limit):
    qs = Ticket.objects.all()
    expected = list(qs.order_by(*ordering).values_list("pk", flat=True))

    seen, pages = walk(qs, ordering, limit)

    assert seen == expected
    assert len(set(seen)) == len(tickets)
    assert pages == max(1, -(-len(tickets) // limit))


def test_datetime_ordering_with_ties(store):
    moment = timezone.now().replace(microsecond=123456)
    for i in range(7):
        AuditEvent.objects.create(action="x", at=moment - dt.timedelta(hours=i // 3), store=store)
    qs = AuditEvent.objects.filter(action="x")

    seen, _pages = walk(qs, ("-at", "-id"), 2)

    assert seen == list(qs.order_by("-at", "-id").values_list("pk", flat=True))


def test_rows_added_after_the_first_page_do_not_shift_later_pages(tickets, store):
    qs = Ticket.objects.all()
    first = paginate(qs, ordering=("-id",), limit=4)
    Ticket.objects.create(store=store, title="newest")

    second = paginate(qs, ordering=("-id",), limit=4, cursor=first.next_cursor)

    assert [t.pk for t in second.items] == [t.pk for t in tickets[::-1][4:8]]


def test_last_page_has_no_cursor(tickets):
    page = paginate(Ticket.objects.all(), ordering=("id",), limit=len(tickets))

    assert len(page.items) == len(tickets)
    assert page.next_cursor is None


def _cursor(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%",
        _cursor({"not": "a list"}),
        _cursor(["x"]),  # wrong type for the id
        _cursor([1, 2]),  # wrong number of values
        _cursor([{"dt": "yesterday"}]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _cursor([{"dec": "1e999999"}]),  # a decimal the database takes ~30 s to compare
        _cursor([{"dec": "Infinity"}]),
        _cursor([{"dec": "NaN"}]),
        _cursor([10**400]),
        _cursor([None]),
        "x" * 100_000,
    ],
)
def test_bad_cursor_is_a_validation_error_on_the_cursor(tickets, cursor, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(ValidationError) as caught:
        paginate(Ticket.objects.all(), ordering=("-id",), cursor=cursor)

    assert caught.value.status == 400
    assert "cursor" in caught.value.fields


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, "many"])
def test_bad_limit_is_a_validation_error_on_the_limit(tickets, limit):
    with pytest.raises(ValidationError) as caught:
        paginate(Ticket.objects.all(), limit=limit)

    assert "limit" in caught.value.fields


def test_cursor_is_signed_per_list(tickets):
    """A cursor handed out by one list is refused by a list of another model or ordering, and
    one whose payload was edited (the signature no longer matches) is refused too."""
    first = paginate(Ticket.objects.all(), ordering=("-id",), limit=2)
    assert paginate(Ticket.objects.all(), ordering=("-id",), limit=2, cursor=first.next_cursor).items

    with pytest.raises(ValidationError):
        paginate(Ticket.objects.all(), ordering=("id",), limit=2, cursor=first.next_cursor)
    with pytest.raises(ValidationError):
        paginate(Store.objects.all(), ordering=("-id",), limit=2, cursor=first.next_cursor)
    _payload, _sep, signature = first.next_cursor.rpartition(":")
    with pytest.raises(ValidationError):
        paginate(Ticket.objects.all(), ordering=("-id",), limit=2, cursor=_cursor([10**6]) + ":" + signature)
