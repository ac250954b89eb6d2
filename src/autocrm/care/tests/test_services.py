"""Care services on both databases: follow-ups planned from the events, round robin, outcomes with
retry, a complaint raised from a call, escalation on a controlled clock, the complaint loop."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from autocrm.audit.models import AuditEvent
from autocrm.care import services
from autocrm.care.choices import ComplaintStatus, FollowUpKind, FollowUpStatus
from autocrm.care.models import Complaint, FollowUp
from autocrm.core import events
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.messaging.models import StaffNotification
from autocrm.tenancy.models import Store

from .factories import actor_for, add_agent, close_repair_order, make_car


@pytest.fixture
def store_a(demo):
    return Store.objects.get(code="a")


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1", "a")


@pytest.fixture
def agent(demo):
    return actor_for("agent_a1", "a")


@pytest.fixture
def manager(demo):
    return actor_for("manager_a", "a")


def test_a_closed_repair_order_plans_one_call_due_in_three_days(store_a, advisor, agent):
    customer, car = make_car(advisor)
    closed = timezone.now()
    ro = close_repair_order(store_a.pk, customer, car, closed_at=closed)
    close_repair_order(store_a.pk, customer, car, ro_id=ro)  # the event again: still one call
    calls = FollowUp.objects.filter(store=store_a, kind=FollowUpKind.SERVICE, source_id=ro)
    assert calls.count() == 1
    call = calls.get()
    assert call.agent_id == agent.user_id and call.due_at == closed + dt.timedelta(days=3)
    assert call.customer_id == customer.pk and call.vehicle_id == car.pk and call.status == FollowUpStatus.OPEN


def test_a_delivered_car_plans_the_delivery_call_about_the_consultant(store_a, advisor):
    from autocrm.accounts.models import User
    from autocrm.sales.events import DEAL_DELIVERED, DealDelivered

    customer, car = make_car(advisor)
    consultant = User.objects.get(username="sales_a1")
    with events.capture():
        events.emit(DEAL_DELIVERED, store_id=store_a.pk, payload=DealDelivered(
            deal_id=777, lead_id=None, customer_id=customer.pk, vehicle_id=car.pk, consultant_id=consultant.pk,
            purchase_number=1))  # fmt: skip
    call = FollowUp.objects.get(store=store_a, kind=FollowUpKind.DELIVERY, source_id=777)
    assert call.staff_id == consultant.pk


def test_another_stores_customer_plans_nothing(demo, advisor):
    customer, car = make_car(advisor)
    store_b = Store.objects.get(code="b")
    ro = close_repair_order(store_b.pk, customer, car)
    assert not FollowUp.objects.filter(source_id=ro).exists()


def test_calls_go_round_robin_over_the_stores_agents(store_a, advisor, agent):
    second = add_agent(store_a, "agent_a9")
    owners = []
    for _ in range(4):
        customer, car = make_car(advisor)
        ro = close_repair_order(store_a.pk, customer, car)
        owners.append(FollowUp.objects.get(source_id=ro, kind="service").agent_id)
    assert sorted(set(owners)) == sorted({agent.user_id, second.pk})
    assert owners[0] != owners[1] and owners[0] == owners[2] and owners[1] == owners[3]


def _call(store_a, advisor):
    customer, car = make_car(advisor)
    ro = close_repair_order(store_a.pk, customer, car)
    return FollowUp.objects.get(source_id=ro, kind="service")


def test_unreachable_is_called_again_then_given_up(store_a, advisor, agent):
    call = _call(store_a, advisor)
    now = timezone.now()
    call = services.followup_record(actor=agent, follow_up=call, data={"outcome": "unreachable"}, now=now)
    assert call.status == FollowUpStatus.OPEN and call.next_attempt_at == now + dt.timedelta(hours=4)
    call = services.followup_record(actor=agent, follow_up=call, data={"outcome": "unreachable"}, now=now)
    call = services.followup_record(actor=agent, follow_up=call, data={"outcome": "unreachable"}, now=now)
    assert call.status == FollowUpStatus.GAVE_UP and call.attempts == 3
    with pytest.raises(Conflict):
        services.followup_record(actor=agent, follow_up=call, data={"outcome": "satisfied"})


def test_an_issue_raised_becomes_a_complaint_in_one_step(store_a, advisor, agent):
    call = _call(store_a, advisor)
    done = services.followup_record(actor=agent, follow_up=call, data={
        "outcome": "issue", "note": "保养后发动机异响，等待时间太长", "raise_complaint": "on", "category": "quality",
        "severity": "medium", "department": "aftersales"})  # fmt: skip
    assert done.status == FollowUpStatus.DONE and done.complaint_id
    complaint = Complaint.objects.get(pk=done.complaint_id)
    assert complaint.channel == "call" and complaint.customer_id == call.customer_id
    assert complaint.description == "保养后发动机异响，等待时间太长" and complaint.status == ComplaintStatus.RECEIVED
    assert complaint.number.startswith("TS") and complaint.step_due_at is not None


def test_bad_outcome_input_is_a_400_naming_the_field_and_changes_nothing(store_a, advisor, agent):
    call = _call(store_a, advisor)
    for data, field in [({"outcome": "maybe"}, "outcome"), ({"outcome": "issue"}, "note"),
                        ({"outcome": "satisfied", "raise_complaint": True}, "raise_complaint"),
                        ({"outcome": "satisfied", "note": "x\x00"}, "note"),
                        ({"outcome": ["satisfied"]}, "outcome")]:  # fmt: skip
        with pytest.raises(ValidationError) as err:
            services.followup_record(actor=agent, follow_up=call, data=data)
        assert field in err.value.fields
    call.refresh_from_db()
    assert call.attempts == 0 and call.status == FollowUpStatus.OPEN and not Complaint.objects.exists()


def test_an_advisor_may_not_record_a_call(store_a, advisor):
    call = _call(store_a, advisor)
    with pytest.raises(PermissionDenied):
        services.followup_record(actor=advisor, follow_up=call, data={"outcome": "satisfied"})


def test_overdue_calls_escalate_to_the_manager_once_on_a_controlled_clock(store_a, advisor, manager):
    call = _call(store_a, advisor)
    assert services.followup_sweep(store_id=store_a.pk, now=call.due_at - dt.timedelta(minutes=1)) == 0
    later = call.due_at + dt.timedelta(minutes=1)
    assert services.followup_sweep(store_id=store_a.pk, now=later) == 1
    assert services.followup_sweep(store_id=store_a.pk, now=later + dt.timedelta(hours=1)) == 0
    call.refresh_from_db()
    assert call.escalated_at == later
    notes = StaffNotification.objects.filter(user_id=manager.user_id, kind="escalated")
    assert notes.count() == 1


# --------------------------------------------------------------------------- complaints


def _complaint(actor, customer, **data):
    return services.complaint_create(actor=actor, data={"customer": customer.pk, "category": "waiting",
                                                        "department": "aftersales", "description": "等了三个小时",
                                                        **data})  # fmt: skip


def test_the_complaint_loop_needs_a_root_cause_and_the_customers_confirmation(store_a, advisor, agent):
    customer, _car = make_car(advisor)
    c = _complaint(agent, customer)
    assert c.status == ComplaintStatus.RECEIVED
    with pytest.raises(ValidationError) as err:
        services.complaint_advance(actor=agent, complaint=c, data={})
    assert "assignee" in err.value.fields
    c = services.complaint_advance(actor=agent, complaint=c, data={"assignee": advisor.user_id})
    assert c.status == ComplaintStatus.ASSIGNED and c.assignee_id == advisor.user_id
    c = services.complaint_advance(actor=advisor, complaint=c, data={})
    assert c.status == ComplaintStatus.HANDLING
    with pytest.raises(Conflict):  # closing before asking the customer
        services.complaint_advance(actor=advisor, complaint=c, data={"to": "closed", "root_cause": "process",
                                                                     "customer_confirmed": True})  # fmt: skip
    with pytest.raises(ValidationError) as err:
        services.complaint_advance(actor=advisor, complaint=c, data={})
    assert "resolution" in err.value.fields
    c = services.complaint_advance(actor=advisor, complaint=c, data={"resolution": "致歉并赠送一次免费洗车"})
    assert c.status == ComplaintStatus.CONFIRMING
    with pytest.raises(Conflict) as err:
        services.complaint_advance(actor=advisor, complaint=c, data={"customer_confirmed": True})
    assert "root_cause" in err.value.fields
    with pytest.raises(Conflict) as err:
        services.complaint_advance(actor=advisor, complaint=c, data={"root_cause": "process"})
    assert "customer_confirmed" in err.value.fields
    c.refresh_from_db()
    assert c.status == ComplaintStatus.CONFIRMING and c.root_cause == ""  # nothing changed on a refusal
    c = services.complaint_advance(actor=advisor, complaint=c, data={"to": "reopen"})  # the customer said no
    assert c.status == ComplaintStatus.HANDLING and c.reopened == 1
    c = services.complaint_advance(actor=advisor, complaint=c, data={})
    c = services.complaint_advance(
        actor=advisor, complaint=c, data={"root_cause": "process", "customer_confirmed": True}
    )
    assert c.status == ComplaintStatus.CLOSED and c.closed_at and c.confirmed_at and c.step_due_at is None
    with pytest.raises(Conflict):
        services.complaint_advance(actor=advisor, complaint=c, data={"to": "reopen"})
    actions = set(AuditEvent.objects.filter(object_type="care.complaint").values_list("action", flat=True))
    assert {"care.complaint_received", "care.complaint_advanced", "care.complaint_reopened"} <= actions


def test_a_breach_climbs_to_the_department_manager_then_the_general_manager(store_a, advisor, agent, manager):
    from autocrm.accounts.models import User

    service_manager = User.objects.get(username="service_manager_a")
    customer, _car = make_car(advisor)
    c = _complaint(agent, customer, severity="medium")
    due = c.step_due_at
    assert services.complaint_sweep(store_id=store_a.pk, now=due - dt.timedelta(minutes=1)) == 0
    assert services.complaint_sweep(store_id=store_a.pk, now=due + dt.timedelta(minutes=1)) == 1
    c.refresh_from_db()
    assert c.level == 1
    assert StaffNotification.objects.filter(user=service_manager, kind="escalated").count() == 1
    assert services.complaint_sweep(store_id=store_a.pk, now=due + dt.timedelta(hours=1)) == 0
    assert services.complaint_sweep(store_id=store_a.pk, now=due + dt.timedelta(hours=9)) == 1
    c.refresh_from_db()
    assert c.level == 2
    assert StaffNotification.objects.filter(user_id=manager.user_id, kind="escalated").count() == 1
    assert services.complaint_sweep(store_id=store_a.pk, now=due + dt.timedelta(days=9)) == 0


def test_a_high_severity_complaint_reaches_the_general_manager_at_once(store_a, advisor, agent, manager):
    from autocrm.care.selectors import escalations_for

    customer, _car = make_car(advisor)
    c = _complaint(agent, customer, severity="high")
    assert c.level == 2
    assert [x.pk for x in escalations_for(actor=manager)] == [c.pk]
    assert list(escalations_for(actor=actor_for("service_manager_a", "a"))) == [c]
    assert list(escalations_for(actor=actor_for("manager_b", "b"))) == []
    with pytest.raises(Conflict):
        services.complaint_escalate(actor=manager, complaint=c)


def test_manual_escalation_and_who_may(store_a, advisor, agent, manager):
    customer, _car = make_car(advisor)
    c = _complaint(agent, customer, severity="low")
    with pytest.raises(PermissionDenied):
        services.complaint_escalate(actor=agent, complaint=c)
    c = services.complaint_escalate(actor=manager, complaint=c)
    assert c.level == 1
    c = services.complaint_escalate(actor=manager, complaint=c)
    assert c.level == 2


def test_complaint_input_refused_field_by_field(store_a, advisor, agent):
    customer, _car = make_car(advisor)
    other = make_car(actor_for("advisor_b1", "b"))[0]
    for data, field in [({"customer": other.pk, "description": "x"}, "customer"),
                        ({"customer": customer.pk}, "description"),
                        ({"customer": customer.pk, "description": "x", "severity": "urgent"}, "severity"),
                        ({"customer": customer.pk, "description": "x", "assignee": 10**30}, "assignee"),
                        ({"customer": "1e999", "description": "x"}, "customer")]:  # fmt: skip
        with pytest.raises(ValidationError) as err:
            services.complaint_create(actor=agent, data=data)
        assert field in err.value.fields, (data, err.value.fields)
    assert not Complaint.objects.exists()


def test_an_advisor_handles_the_complaint_they_took(store_a, advisor):
    customer, _car = make_car(advisor)
    c = _complaint(advisor, customer)
    assert c.assignee_id == advisor.user_id and c.status == ComplaintStatus.ASSIGNED
    from autocrm.care.selectors import complaint_get

    assert complaint_get(actor=advisor, pk=c.pk) == c


def test_a_complaints_words_reach_voice_of_customer_about_the_staff_member(store_a, advisor, agent):
    """The complaint's text is analysed by voc with the staff member it is about, in the same
    transaction; a call without a note gives voc nothing."""
    from autocrm.voc.models import VocText

    customer, _car = make_car(advisor)
    c = _complaint(agent, customer, staff=advisor.user_id)
    row = VocText.objects.get(source="complaint", source_id=str(c.pk))
    assert c.staff_id == advisor.user_id
    assert row.store_id == c.store_id and row.customer_id == customer.pk and row.staff_id == advisor.user_id
    assert row.sentiment == "negative" and row.text == "等了三个小时"
    assert not VocText.objects.filter(source="call").exists()
