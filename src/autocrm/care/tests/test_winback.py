"""Win-back (issue 15 item 3b): the set-based churn sweep on a controlled clock, the one-time
"why did you stop coming" link with the honesty checks, the offer per reason given once through
``care.gifts``, the call round robin, the return (won back, watch calls), the report on known
data, the API's scope, and the care settings page; on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from autocrm.care import selectors, services
from autocrm.care.choices import FollowUpKind, ResponseStatus
from autocrm.care.models import CareCustomer, CareSettings, FollowUp, WinBack
from autocrm.core.errors import Conflict, NotFound
from autocrm.tenancy.models import Store

from .factories import actor_for, add_agent, close_repair_order, make_car

NOW = timezone.now().replace(microsecond=0)  # the sweep's clock: links made now stay valid for the page tests
LONG_AGO = NOW - dt.timedelta(days=120)
RECENT = NOW - dt.timedelta(days=20)


@pytest.fixture
def gifts():
    """A coupon giver in ``care.gifts`` (loyalty registers the real ones)."""
    from autocrm.core.extensions import registry

    given = []

    def coupon(customer_id, store_id, spec):
        given.append((customer_id, spec))
        return f"维修7折券 WB{len(given):04d}"

    reg = registry("care.gifts")
    saved = reg.get("coupon:winback_repair30")
    reg.register(coupon, key="coupon:winback_repair30")
    yield given
    reg.unregister("coupon:winback_repair30")
    if saved is not None:
        reg.register(saved, key="coupon:winback_repair30")


@pytest.fixture
def store_a(demo):
    store = Store.objects.get(code="a")
    WinBack.objects.filter(store=store).delete()
    CareCustomer.objects.filter(store=store).delete()
    CareSettings.objects.update_or_create(
        store=store,
        defaults={"winback_months": 3, "watch_visits": 2, "winback_gifts": {"price": "coupon:winback_repair30"}},
    )
    return store


def _visit(store, customer, car, at):
    return close_repair_order(store.pk, customer, car, closed_at=at)


def _lapsed(store, n=1):
    advisor = actor_for("advisor_a1", "a")
    out = []
    for _ in range(n):
        customer, car = make_car(advisor)
        _visit(store, customer, car, LONG_AGO)
        out.append((customer, car))
    return out


def test_the_sweep_flags_exactly_the_lapsed_customers_once_per_lapse(store_a):
    lapsed = _lapsed(store_a, 3)
    advisor = actor_for("advisor_a1", "a")
    recent, recent_car = make_car(advisor)
    _visit(store_a, recent, recent_car, RECENT)
    merged, opted_out, gone = _lapsed(store_a, 3)
    from autocrm.customers.models import Customer

    Customer.objects.filter(pk=merged[0].pk).update(merged_into=recent)
    Customer.objects.filter(pk=opted_out[0].pk).update(personalised_marketing_opt_out=True)
    services.care_customer_no_contact(actor=actor_for("manager_a", "a"), customer_id=gone[0].pk)  # deceased
    with CaptureQueriesContext(connection) as q:
        assert services.winback_flag(store_id=store_a.pk, now=NOW) == 3
    assert len(q.captured_queries) <= 8  # set-based: a read of the candidates, one insert, the audit row
    flagged = set(WinBack.objects.filter(store=store_a).values_list("customer_id", flat=True))
    assert flagged == {c.pk for c, _car in lapsed}
    assert services.winback_flag(store_id=store_a.pk, now=NOW + dt.timedelta(days=1)) == 0  # once per lapse
    # another store's customers are not this sweep's
    assert services.winback_flag(store_id=Store.objects.get(code="b").pk, now=NOW) == 0


def test_contact_sends_the_link_once_and_assigns_calls_round_robin(store_a):
    add_agent(store_a, "agent_wb_extra")
    _lapsed(store_a, 4)
    services.winback_flag(store_id=store_a.pk, now=NOW)
    assert services.winback_contact(store_id=store_a.pk, now=NOW) == 4
    assert services.winback_contact(store_id=store_a.pk, now=NOW) == 0
    calls = list(FollowUp.objects.filter(store=store_a, kind=FollowUpKind.WINBACK).order_by("id"))
    assert len(calls) == 4 and all(c.agent_id for c in calls)
    agents = [c.agent_id for c in calls]
    assert agents[0] != agents[1]  # round robin over the store's agents
    from autocrm.messaging.models import Message

    wbs = list(WinBack.objects.filter(store=store_a))
    keys = [f"care-winback:{w.pk}" for w in wbs]
    assert Message.objects.filter(store=store_a, idempotency_key__in=keys).count() == sum(1 for w in wbs if w.sent_at)
    assert all(w.contacted_at == NOW and w.follow_up_id for w in wbs)


def _answer(client, wb, data, *, opened_minutes=2):
    WinBack.objects.filter(pk=wb.pk).update(opened_at=timezone.now() - dt.timedelta(minutes=opened_minutes))
    return client.post(f"/q/w/{services.winback_token(wb)}/", data)


def test_the_reason_gives_its_offer_once_and_the_link_takes_one_answer(store_a, gifts):
    (customer, _car), (other, _car2) = _lapsed(store_a, 2)
    services.winback_sweep(store_id=store_a.pk, now=NOW)
    wb = WinBack.objects.get(customer=customer)
    client = Client()
    page = client.get(f"/q/w/{services.winback_token(wb)}/")
    assert page.status_code == 200 and 'value="price"' in page.content.decode()
    assert _answer(client, wb, {"reason": "nonsense"}).status_code == 400
    assert _answer(client, wb, {"reason": "other", "comment": ""}).status_code == 400
    wb.refresh_from_db()
    assert wb.answered_at is None and gifts == []
    done = _answer(client, wb, {"reason": "price", "comment": "保养太贵了"})
    assert done.status_code == 200 and "维修7折券" in done.content.decode()
    wb.refresh_from_db()
    assert wb.reason == "price" and wb.status == ResponseStatus.COUNTED and wb.offer_given.startswith("维修7折券")
    assert _answer(client, wb, {"reason": "attitude"}).status_code == 409
    assert gifts == [(customer.pk, "coupon:winback_repair30")]  # once
    wb.refresh_from_db()
    assert wb.reason == "price"
    # a reason without a gift in the map: no offer, the call still comes
    w2 = WinBack.objects.get(customer=other)
    assert _answer(client, w2, {"reason": "moved"}).status_code == 200
    w2.refresh_from_db()
    assert w2.offer_given == "" and len(gifts) == 1
    assert client.get("/q/w/forged/").status_code == 404


def test_a_flagged_answer_waits_for_review_before_counting_and_before_the_offer(store_a, gifts):
    ((customer, _car),) = _lapsed(store_a, 1)
    CareSettings.objects.filter(store=store_a).update(store_networks="10.8.0.0/16")
    services.winback_sweep(store_id=store_a.pk, now=NOW)
    wb = WinBack.objects.get(customer=customer)
    token = services.winback_token(wb)
    services.winback_open(token)
    answered = services.winback_respond(token=token, data={"reason": "price"},
                                        answering=services.Answering(ip="10.8.1.2", device="till", staff_session=True))  # fmt: skip
    assert {"staff_device", "store_network", "fast"} <= set(answered.flags)
    assert answered.status == ResponseStatus.FLAGGED and gifts == []
    manager = actor_for("manager_a", "a")
    report = selectors.winback_report(
        actor=manager, by="store", start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=1)
    )
    assert report[0]["answered"] == 0
    from autocrm.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.winback_review(actor=actor_for("agent_a1", "a"), winback=answered, accept=True)
    services.winback_review(actor=manager, winback=answered, accept=True)
    assert gifts == [(customer.pk, "coupon:winback_repair30")]
    with pytest.raises(Conflict):
        services.winback_review(actor=manager, winback=answered, accept=True)
    assert len(gifts) == 1


def test_a_return_marks_won_back_and_the_next_visits_get_watch_calls(store_a):
    ((customer, car),) = _lapsed(store_a, 1)
    services.winback_sweep(store_id=store_a.pk, now=NOW)
    back = NOW + dt.timedelta(days=10)
    _visit(store_a, customer, car, back)
    wb = WinBack.objects.get(customer=customer)
    assert wb.returned_at == back
    watch = FollowUp.objects.filter(store=store_a, kind=FollowUpKind.WATCH, customer=customer)
    assert watch.count() == 1
    ro = _visit(store_a, customer, car, back + dt.timedelta(days=30))
    close_repair_order(store_a.pk, customer, car, ro_id=ro, closed_at=back + dt.timedelta(days=30))  # redelivered
    assert watch.count() == 2
    _visit(store_a, customer, car, back + dt.timedelta(days=60))
    assert watch.count() == 2  # two watch visits, then the normal rule only
    assert selectors.won_back_customers(store_a.pk, [customer.pk]) == {customer.pk}
    # the agent's call shows 赢回客户
    call = watch.first()
    client = Client()
    client.force_login(call.agent) if call.agent else None
    if call.agent:
        page = client.get(f"/care/follow-ups/{call.pk}/")
        assert page.status_code == 200 and 'data-testid="won-back"' in page.content.decode()
    # a new lapse after the return is a new win-back
    assert services.winback_flag(store_id=store_a.pk, now=back + dt.timedelta(days=200)) == 1


def test_the_report_counts_flagged_contacted_answered_returned_and_the_rate(store_a, gifts):
    people = _lapsed(store_a, 4)
    services.winback_sweep(store_id=store_a.pk, now=NOW)
    wbs = {w.customer_id: w for w in WinBack.objects.filter(store=store_a)}
    client = Client()
    _answer(client, wbs[people[0][0].pk], {"reason": "price"})
    _answer(Client(), wbs[people[1][0].pk], {"reason": "waiting"})
    _visit(store_a, people[0][0], people[0][1], NOW + dt.timedelta(days=5))
    manager = actor_for("manager_a", "a")
    start, end = NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1)
    (row,) = selectors.winback_report(actor=manager, by="store", start=start, end=end)
    assert (row["flagged"], row["contacted"], row["answered"], row["returned"], row["rate"]) == (4, 4, 2, 1, 25.0)
    by_reason = {r["key"]: r for r in selectors.winback_report(actor=manager, by="reason", start=start, end=end)}
    assert by_reason["price"]["returned"] == 1 and by_reason["price"]["rate"] == 100.0 and by_reason[""]["flagged"] == 2
    (month,) = selectors.winback_report(actor=manager, by="month", start=start, end=end)
    assert month["key"] == timezone.localtime(NOW).strftime("%Y-%m") and month["flagged"] == 4


def test_the_api_is_scoped_by_store_and_role(store_a):
    _lapsed(store_a, 2)
    services.winback_flag(store_id=store_a.pk, now=NOW)
    from autocrm.accounts.models import User
    from autocrm.accounts.services import token_issue_session

    def get(username, path):
        token = token_issue_session(user=User.objects.get(username=username))[1]
        return Client().get(path, headers={"Authorization": f"Bearer {token}"})

    for username in ("agent_a1", "manager_a"):
        r = get(username, "/api/v1/win-backs")
        assert r.status_code == 200 and len(r.json()["items"]) == 2
        assert get(username, "/api/v1/win-backs/report?by=reason&days=365").status_code == 200
    assert get("manager_b", "/api/v1/win-backs").json()["items"] == []
    assert get("manager_b", "/api/v1/win-backs/report").json()["rows"] == []
    assert get("sales_a1", "/api/v1/win-backs").status_code == 403
    assert get("manager_a", "/api/v1/win-backs/report?by=nonsense").status_code == 400
    with pytest.raises(NotFound):
        selectors.winback_get(actor=actor_for("manager_b", "b"), pk=WinBack.objects.filter(store=store_a).first().pk)


def _settings_post(**overrides):
    data = {"follow_up_days": "3", "retry_hours": "4", "max_attempts": "3", "survey_link_days": "14", "low_csi": "70",
            "low_nps": "6", "min_answer_seconds": "15", "store_networks": "10.8.0.0/16", "winback_months": "4",
            "watch_visits": "2", "gift_price": "", "script_winback": "您好，{agent}……"}  # fmt: skip
    for sev in ("low", "medium", "high"):
        for step in ("received", "assigned", "handling", "confirming"):
            data[f"deadline_{sev}_{step}"] = "24"
    data.update(overrides)
    return data


def test_the_settings_page_saves_for_the_manager_and_refuses_bad_input(store_a):
    from autocrm.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="manager_a"))
    assert client.get("/care/settings/").status_code == 200
    bad = client.post("/care/settings/", _settings_post(winback_months="x", store_networks="10.8.0.0/99",
                                                         deadline_high_received="0", gift_price="coupon:nope"))  # fmt: skip
    assert bad.status_code == 400
    body = bad.content.decode()
    for name in ("winback_months", "store_networks", "deadline_high_received", "gift_price"):
        assert f'data-error-for="{name}"' in body
    assert CareSettings.objects.get(store=store_a).winback_months == 3  # nothing changed
    ok = client.post("/care/settings/", _settings_post())
    assert ok.status_code == 302
    s = CareSettings.objects.get(store=store_a)
    assert s.winback_months == 4 and s.deadlines["high"]["received"] == 24 and s.scripts["winback"].startswith("您好")
    from autocrm.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="care.settings_saved", store_id=store_a.pk).exists()


def test_agents_consultants_and_another_stores_manager_cannot_read_or_write_the_settings(store_a):
    from autocrm.accounts.models import User

    for username in ("agent_a1", "sales_a1", "advisor_a1"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        assert client.get("/care/settings/").status_code == 403
        assert client.post("/care/settings/", _settings_post(winback_months="9")).status_code == 403
    other = Client()
    other.force_login(User.objects.get(username="manager_b"))
    assert other.post("/care/settings/", _settings_post(winback_months="9")).status_code == 302  # b's own settings
    assert CareSettings.objects.get(store=store_a).winback_months == 3
    assert CareSettings.objects.get(store=Store.objects.get(code="b")).winback_months == 9
