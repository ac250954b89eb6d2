"""The request path is cheap and keeps every rule (issue 11, ADR 0012): who the caller is comes
from versioned entries in the shared cache — no query on a warm request — yet a revoked token, a
deactivated user, a removed membership or a changed role stop working on the very next request;
``last_used_at`` and the session's sliding expiry are written at most once a minute."""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from autocrm.accounts.auth import USER_VERSION, token_hash
from autocrm.accounts.models import ApiToken, Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.accounts.services import (
    admin_membership_deactivate,
    admin_membership_set,
    token_issue_session,
    token_revoke,
    user_set_active,
)
from autocrm.core.cache import shared_cache
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.tenancy.models import Store

PASSWORD = "autocrm-demo"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def secret_of(username: str) -> str:
    return token_issue_session(user=User.objects.get(username=username))[1]


@pytest.fixture
def customer(demo):
    return make_customer(actor_for("sales_a1", "a"), name="李雷")


def warm(client: Client, url: str, secret: str) -> None:
    for _ in range(2):  # the first builds the entries, the second finds them
        assert client.get(url, headers=bearer(secret)).status_code == 200


# --- queries of the hot endpoints -----------------------------------------------------------------


def test_a_warm_api_detail_is_one_query(customer, client, django_assert_num_queries):
    """Token, user, memberships, stores, modules and the rate-limit counter come from the shared
    cache (in memory in the tests; two round trips with Redis): the customer row, with its tags
    and its external-id aliases in the same query, is all (14 queries before issue 11; 3 until
    the tags and aliases were read with the row)."""
    from autocrm.customers.models import CustomerExternalId, Tag

    secret = secret_of("manager_a")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    with django_assert_num_queries(1):
        body = client.get(url, headers=bearer(secret)).json()
    assert (body["id"], body["tags"], body["external_id_aliases"]) == (customer.pk, [], [])
    customer.tags.add(
        Tag.objects.create(store=customer.store, name="VIP"), Tag.objects.create(store=customer.store, name="车主")
    )
    for alias in ("DMS-9", "DMS-10"):
        CustomerExternalId.objects.create(store=customer.store, customer=customer, external_id=alias)
    with django_assert_num_queries(1):
        body = client.get(url, headers=bearer(secret)).json()
    assert (body["tags"], body["external_id_aliases"]) == (["VIP", "车主"], ["DMS-10", "DMS-9"])


@pytest.mark.parametrize("q", ["李雷", "13912", "ll"])
def test_a_warm_api_search_is_one_query(customer, client, django_assert_num_queries, q):
    """By name, mobile digits or initials: the search's own query (13 before, issue 11)."""
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers?q={q}"
    warm(client, url, secret)
    with django_assert_num_queries(1):
        assert client.get(url, headers=bearer(secret)).status_code == 200


def test_a_cold_token_costs_its_rows_once(customer, client, django_assert_num_queries):
    """Cold: the token row, the user, memberships and stores (4), last_used_at (1), the customer
    with its tags and aliases (1). The next call: only the customer."""
    secret = secret_of("sales_a1")
    shared_cache().clear()
    url = f"/api/v1/customers/{customer.pk}"
    with django_assert_num_queries(6):
        assert client.get(url, headers=bearer(secret)).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(url, headers=bearer(secret)).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(customer, client):
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    client.get(url, headers=bearer(secret))
    token = ApiToken.objects.get(key_hash=token_hash(secret))
    first = token.last_used_at
    assert first is not None
    client.get(url, headers=bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == first
    later = timezone.now() + dt.timedelta(seconds=61)
    with mock.patch("autocrm.accounts.auth.timezone.now", return_value=later):
        client.get(url, headers=bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == later


# --- revocation is immediate despite the caches -------------------------------------------------------


def test_a_revoked_token_fails_on_the_next_request(customer, client):
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    token = ApiToken.objects.get(key_hash=token_hash(secret))
    token_revoke(actor=actor_for("sales_a1", "a"), token_id=token.pk)
    assert client.get(url, headers=bearer(secret)).status_code == 401


def test_a_token_revoked_by_a_password_reset_fails_on_the_next_request(customer, client):
    """The reset revokes with one ``UPDATE`` (no ``save`` signal): the service bumps the tokens."""
    from autocrm.accounts.services import user_password_reset

    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    user = User.objects.get(username="sales_a1")
    user_password_reset(actor=actor_for("admin", "a"), user_id=user.pk, password="a new long passphrase 7")
    assert client.get(url, headers=bearer(secret)).status_code == 401


def test_a_deactivated_user_fails_on_the_next_request(customer, client):
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    session = Client()
    session.login(username="sales_a1", password=PASSWORD)
    assert session.get(f"/customers/{customer.pk}/").status_code == 200
    user_set_active(actor=actor_for("admin", "a"), user_id=User.objects.get(username="sales_a1").pk, is_active=False)
    assert client.get(url, headers=bearer(secret)).status_code == 401
    assert session.get(f"/customers/{customer.pk}/").status_code == 302  # to the sign-in page


def test_a_removed_membership_fails_on_the_next_request(customer, client):
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    user = User.objects.get(username="sales_a1")
    membership = Membership.objects.get(user=user, is_active=True)
    admin_membership_deactivate(actor=actor_for("admin", "a"), membership_id=membership.pk)
    assert client.get(url, headers=bearer(secret)).status_code in (403, 404)
    assert actor_build(user=User.objects.get(pk=user.pk)).role is None


def test_a_changed_role_applies_on_the_next_request(customer, client):
    """A store manager sees every customer of the store; demoted to sales, only their own: the
    very next call with the same (warm) token is refused, and promoted again it is answered."""
    user = User.objects.get(username="manager_a")
    store = Store.objects.get(code="a")
    secret = secret_of("manager_a")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    admin_membership_set(actor=actor_for("admin", "a"), user_id=user.pk, role="sales", store_id=store.pk)
    assert client.get(url, headers=bearer(secret)).status_code == 404
    assert actor_build(user=User.objects.get(pk=user.pk), store_id=store.pk).role == "sales"
    admin_membership_set(actor=actor_for("admin", "a"), user_id=user.pk, role="manager", store_id=store.pk)
    assert client.get(url, headers=bearer(secret)).status_code == 200


def test_a_switched_off_store_leaves_the_actor_at_once(customer):
    user = User.objects.get(username="director")
    store = Store.objects.get(code="a")
    assert store.pk in actor_build(user=user).member_store_ids
    store.is_active = False
    store.save(update_fields=["is_active"])
    assert store.pk not in actor_build(user=User.objects.get(pk=user.pk)).member_store_ids


def test_a_lost_version_is_a_new_version(customer):
    """Should the cache drop a version key, the entries written under it are never read again."""
    user = User.objects.get(username="sales_a1")
    actor_build(user=user)
    shared_cache().delete(USER_VERSION.format(user.pk))
    Membership.objects.filter(user=user).update(role="marketing")  # behind the ORM's back
    assert actor_build(user=User.objects.get(pk=user.pk)).role == "marketing"


# --- sessions ---------------------------------------------------------------------------------------------


def _expiry(client: Client) -> dt.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_is_written_at_most_once_a_minute_and_slides(customer, django_assert_max_num_queries):
    client = Client()
    client.login(username="sales_a1", password=PASSWORD)
    url = f"/customers/{customer.pk}/"
    client.get(url)  # the first request after sign-in stamps the session
    stamped = _expiry(client)
    assert client.get(url).status_code == 200
    assert _expiry(client) == stamped  # not written again within the minute
    later = time.time() + 61
    future = timezone.now() + dt.timedelta(seconds=61)
    with (
        mock.patch("autocrm.accounts.middleware.time.time", return_value=later),
        mock.patch("django.contrib.sessions.backends.base.timezone.now", return_value=future),
    ):
        assert client.get(url).status_code == 200
    assert _expiry(client) >= stamped + dt.timedelta(seconds=60)  # the active session slid on


def test_an_idle_session_still_expires(customer):
    client = Client()
    client.login(username="sales_a1", password=PASSWORD)
    url = f"/customers/{customer.pk}/"
    assert client.get(url).status_code == 200
    # Two hours and a minute of nothing: the database row's expiry has passed.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(url).status_code == 302


# --- the shared cache's round trips (Redis) -----------------------------------------------------------


@pytest.fixture
def redis_cache(settings):
    """The shared cache on this machine's Redis (as production with ``REDIS_URL``), or skip."""
    from autocrm.core.tests.test_shared_cache import _redis_caches

    settings.CACHES = {**settings.CACHES, "shared": _redis_caches()["shared"]}
    yield shared_cache()
    shared_cache().clear()


def _round_trips(monkeypatch) -> list[int]:
    """A list that grows by one per request written to Redis (a pipeline is one)."""
    from redis.connection import AbstractConnection

    sent: list[int] = []
    real = AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(1)
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


def test_a_warm_api_call_makes_two_round_trips_to_redis(customer, client, redis_cache, monkeypatch):
    """The token entry, then the user entry together with the token's rate-limit count (three
    round trips before: the count was its own)."""
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    warm(client, url, secret)
    sent = _round_trips(monkeypatch)
    assert client.get(url, headers=bearer(secret)).status_code == 200
    assert len(sent) == 2


def test_the_token_rate_limit_counted_with_the_user_entry_still_holds(customer, client, redis_cache, settings):
    """Each call is counted (in Redis, shared by every worker) and the one past the limit is a
    429 with Retry-After; a token whose user was deactivated is a 401, not a 429."""
    settings.AUTOCRM_API_RATE_TOKEN = "3/min"
    secret = secret_of("sales_a1")
    url = f"/api/v1/customers/{customer.pk}"
    with mock.patch("autocrm.core.ratelimit.time.time", return_value=120.0):  # one window
        assert [client.get(url, headers=bearer(secret)).status_code for _ in range(3)] == [200] * 3
        refused = client.get(url, headers=bearer(secret))
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "60"
        assert refused.json()["code"] == "rate_limited"
        user_set_active(
            actor=actor_for("admin", "a"), user_id=User.objects.get(username="sales_a1").pk, is_active=False
        )
        assert client.get(url, headers=bearer(secret)).status_code == 401


# --- answers built in one pass ----------------------------------------------------------------------


@pytest.mark.parametrize("username", ["manager_a", "sales_a1", "marketing_a1", "finance_a1"])
def test_the_detail_and_list_built_in_one_pass_are_what_their_schemas_give(demo, client, username):
    """``GET /customers/{id}`` and ``GET /customers`` skip pydantic's pass over their answer:
    byte for byte what validating the same data against ``CustomerOut`` / ``CustomerPage`` and
    rendering it gives, for every role's view (masked, hidden, tags, aliases, dates, blanks)."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from autocrm.customers.api import customer_out
    from autocrm.customers.models import CustomerExternalId, Tag
    from autocrm.customers.schemas import CustomerOut, CustomerPage
    from autocrm.customers.selectors import customer_detail

    sales = actor_for("sales_a1", "a")
    full = make_customer(
        sales,
        name="欧阳娜娜",
        birthday="1990-02-03",
        id_number="11010519491231002X",
        address="张杨路1200号3栋",
        email="nana@example.com",
        other_phones=["13800000001"],
        external_id="DMS-1",
        gender="female",
    )
    full.tags.add(Tag.objects.create(store=full.store, name="VIP"))
    CustomerExternalId.objects.create(store=full.store, customer=full, external_id="DMS-0")
    bare = make_customer(sales, name="李雷")
    secret = secret_of(username)
    actor = actor_for(username, "a")
    for customer in (full, bare):
        answer = client.get(f"/api/v1/customers/{customer.pk}", headers=bearer(secret))
        assert answer.status_code == 200
        expected = CustomerOut.model_validate(customer_out(actor, customer_detail(actor=actor, pk=customer.pk)))
        assert answer.content == json.dumps(expected.model_dump(), cls=NinjaJSONEncoder).encode()
    listed = client.get("/api/v1/customers?limit=2", headers=bearer(secret))
    assert listed.status_code == 200
    body = listed.json()
    assert body["items"], body
    again = CustomerPage.model_validate(body).model_dump()
    assert listed.content == json.dumps(again, cls=NinjaJSONEncoder).encode()


def test_one_pass_answers_refuse_schemas_that_change_their_values():
    """A schema with a resolver (the timeline's translated kind) must be validated, not copied."""
    from autocrm.core.api import shaped
    from autocrm.customers.schemas import TimelineItem

    with pytest.raises(TypeError):
        shaped(TimelineItem, {"kind": "note"})
