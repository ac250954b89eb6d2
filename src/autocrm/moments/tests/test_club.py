"""The car club: events, registration by staff and by the signed link, the waitlist and its
promotion, check-in with points through ``care.gifts``, scope, and the last seat under a race."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.messaging.models import Message
from autocrm.moments import selectors, services
from autocrm.moments.models import ClubEvent, ClubRegistration


def _m():
    return actor_for("manager_a", "a")


def _event(actor, capacity=2, **data):
    return services.event_create(actor=actor, data={
        "title": "川西自驾游", "place": "4S店门口集合", "capacity": capacity,
        "starts_at": (timezone.now() + dt.timedelta(days=7)).isoformat(), **data,
    })  # fmt: skip


def test_full_event_waitlists_and_a_cancellation_promotes(world):
    agent = actor_for("agent_a1", "a")
    event = _event(agent, capacity=1)
    first, second, third = (make_customer(_m(), name=n) for n in ("车友甲", "车友乙", "车友丙"))
    a = services.registration_create(actor=agent, event=event, customer_id=first.pk)
    b = services.registration_create(actor=agent, event=event, customer_id=str(second.pk))
    c = services.registration_create(actor=agent, event=event, customer_id=third.pk)
    assert [a.status, b.status, c.status] == ["registered", "waitlisted", "waitlisted"]
    with pytest.raises(Conflict) as err:
        services.registration_create(actor=agent, event=event, customer_id=first.pk)
    assert "customer" in err.value.fields
    services.registration_cancel(actor=agent, registration=a)
    b.refresh_from_db()
    c.refresh_from_db()
    event.refresh_from_db()
    assert (b.status, c.status, event.seats_taken) == ("registered", "waitlisted", 1)
    assert Message.objects.filter(idempotency_key=f"club-seat:{b.pk}", purpose="service").exists()


def test_bad_input_names_the_field_and_writes_nothing(world, no_gifts):
    agent = actor_for("agent_a1", "a")
    before = ClubEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        services.event_create(actor=agent, data={"title": "", "place": "x", "capacity": 0,
                                                 "starts_at": "2020-01-01T09:00:00+08:00"})  # fmt: skip
    assert {"title", "capacity", "starts_at"} <= set(err.value.fields)
    with pytest.raises(ValidationError) as err:
        _event(agent, points=100)  # no points giver registered
    assert set(err.value.fields) == {"points"}
    assert ClubEvent.objects.count() == before
    event = _event(agent)
    for bad in ("abc", None, -1, 10**30):
        with pytest.raises(ValidationError):
            services.registration_create(actor=agent, event=event, customer_id=bad)
    other_store = make_customer(actor_for("manager_b", "b"), name="乙店车主")
    with pytest.raises(ValidationError):
        services.registration_create(actor=agent, event=event, customer_id=other_store.pk)
    assert not ClubRegistration.objects.filter(event=event).exists()


def test_check_in_gives_points_once(world, fake_gifts):
    agent = actor_for("agent_a1", "a")
    event = _event(agent, points=200, starts_at=(timezone.now() + dt.timedelta(hours=1)).isoformat())
    assert event.attend_gift == "points:200"
    owner = make_customer(_m(), name="打卡车友")
    row = services.registration_create(actor=agent, event=event, customer_id=owner.pk)
    row = services.registration_check_in(actor=agent, registration=row)
    assert row.attended_at is not None and row.gift_result == "200 积分"
    services.registration_check_in(actor=agent, registration=row)
    assert fake_gifts == [(owner.pk, world["a"].pk, "points:200")]
    with pytest.raises(Conflict):
        services.registration_cancel(actor=agent, registration=row)


def test_check_in_waits_for_the_day_and_a_seat(world):
    agent = actor_for("agent_a1", "a")
    event = _event(agent, capacity=1)
    seated = services.registration_create(actor=agent, event=event, customer_id=make_customer(_m(), name="甲").pk)
    waiting = services.registration_create(actor=agent, event=event, customer_id=make_customer(_m(), name="乙").pk)
    with pytest.raises(Conflict):
        services.registration_check_in(actor=agent, registration=seated)  # a week early
    with pytest.raises(Conflict):
        services.registration_check_in(actor=agent, registration=waiting)


def test_signed_link_registers_the_customer_it_names(world):
    agent = actor_for("agent_a1", "a")
    event = _event(agent)
    owner = make_customer(_m(), name="受邀车主")
    with pytest.raises(PermissionDenied):  # an invitation is marketing: not the agents' to send
        services.invite_send(actor=agent, event=event, customer_id=owner.pk)
    marketing = actor_for("marketing_a1", "a")
    message = services.invite_send(actor=marketing, event=event, customer_id=owner.pk)
    assert message.purpose == "marketing" and "/club/join/" in message.variables["link"]
    token = services.link_token(event, owner)
    row = services.registration_by_link(token=token)
    assert (row.customer_id, row.source, row.status) == (owner.pk, "link", "registered")
    assert services.registration_by_link(token=token).pk == row.pk  # twice: the same place
    for bad in ("", "x" * 400, token[:-2] + "AA", token + "x"):
        with pytest.raises(NotFound):
            services.link_read(bad)


def test_other_store_and_roles_without_the_right(world):
    event = _event(actor_for("agent_a1", "a"))
    with pytest.raises(NotFound):
        selectors.event_get(actor=actor_for("agent_b1", "b"), pk=event.pk)
    with pytest.raises(NotFound):  # a role that reads no events meets the same 404
        selectors.event_get(actor=actor_for("tech_a1", "a"), pk=event.pk)
    with pytest.raises(PermissionDenied):
        _event(actor_for("sales_a1", "a"))  # consultants register, they do not create events
    assert selectors.event_get(actor=actor_for("director"), pk=event.pk).pk == event.pk


def test_views_register_and_check_in(world, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    agent = actor_for("agent_a1", "a")
    client.force_login(get_user_model().objects.get(username="agent_a1"))
    event = _event(agent, starts_at=(timezone.now() + dt.timedelta(hours=2)).isoformat())
    owner = make_customer(_m(), name="页面车友")
    r = client.post(reverse("moments:event_register", args=[event.pk]), {"customer": owner.pk})
    assert r.status_code == 302
    row = ClubRegistration.objects.get(event=event, customer=owner)
    r = client.post(reverse("moments:registration_check_in", args=[row.pk]))
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.attended_at is not None
    page = client.get(reverse("moments:event_detail", args=[event.pk]))
    assert page.status_code == 200 and "页面车友" in page.content.decode()
    public = client.get(reverse("moments_public:club_join", args=[services.link_token(event, owner)]))
    assert public.status_code == 200
    assert client.get(reverse("moments_public:club_join", args=["forged"])).status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and real concurrency: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_registrations_for_the_last_seat_one_wins(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    agent = actor_for("agent_a1", "a")
    event = _event(agent, capacity=1)
    rivals = [make_customer(_m(), name=n) for n in ("抢位甲", "抢位乙")]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def register(customer):
        try:
            barrier.wait(timeout=10)
            results.append(services.registration_create(actor=agent, event=event, customer_id=customer.pk).status)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(c,)) for c in rivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert sorted(results) == ["registered", "waitlisted"]
    event.refresh_from_db()
    assert event.seats_taken == 1
