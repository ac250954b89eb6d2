"""Surveys: invitations after a visit, the public one-time link, honesty flags kept out of the
scores until a manager reviews them, a low score opening a care call; on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.care import selectors, services
from autocrm.care.choices import FollowUpKind, ResponseStatus, SurveyKind
from autocrm.care.models import FollowUp, SurveyInvitation, SurveyResponse
from autocrm.core.errors import Conflict, NotFound, PermissionDenied
from autocrm.tenancy.models import Store

from .factories import actor_for, close_repair_order, make_car


@pytest.fixture
def visit(demo):
    store = Store.objects.get(code="a")
    advisor = actor_for("advisor_a1", "a")
    customer, car = make_car(advisor)
    ro = close_repair_order(store.pk, customer, car)
    return store, customer, ro


def _invitation(ro, kind):
    inv = SurveyInvitation.objects.select_related("template").get(source_id=ro, template__kind=kind)
    SurveyInvitation.objects.filter(pk=inv.pk).update(opened_at=timezone.now() - dt.timedelta(minutes=2))
    return inv


def _url(inv):
    return f"/q/{services.survey_token(inv)}/"


def test_a_closed_repair_order_invites_to_csi_and_nps_once(visit):
    store, customer, ro = visit
    assert SurveyInvitation.objects.filter(source_id=ro).count() == 2
    close_repair_order(store.pk, customer, customer and _car_of(customer), ro_id=ro)
    assert SurveyInvitation.objects.filter(source_id=ro).count() == 2


def _car_of(customer):
    from autocrm.vehicles.models import Vehicle

    return Vehicle.objects.filter(customer=customer).first()


def test_the_public_link_takes_one_answer(visit):
    _store, _customer, ro = visit
    inv = _invitation(ro, SurveyKind.CSI)
    client = Client()
    page = client.get(_url(inv))
    assert page.status_code == 200 and "服务态度" in page.content.decode()
    SurveyInvitation.objects.filter(pk=inv.pk).update(opened_at=timezone.now() - dt.timedelta(minutes=2))
    answers = {"efficiency": "5", "attitude": "5", "environment": "4", "price": "5", "comment": "顾问很专业"}
    done = client.post(_url(inv), answers)
    assert done.status_code == 200
    r = SurveyResponse.objects.get(invitation=inv)
    assert r.csi is not None and float(r.csi) == 93.8 and r.status == ResponseStatus.COUNTED and r.flags == []
    again = client.post(_url(inv), {**answers, "attitude": "1"})
    assert (again.status_code == 409 and "already" in again.content.decode().lower()) or again.status_code == 409
    r.refresh_from_db()
    assert r.scores["attitude"] == 5 and SurveyResponse.objects.filter(invitation=inv).count() == 1
    assert client.get(_url(inv)).status_code == 409
    assert client.get("/q/forged-token/").status_code == 404


def test_bad_answers_are_a_400_and_change_nothing(visit):
    _store, _customer, ro = visit
    inv = _invitation(ro, SurveyKind.NPS)
    client = Client()
    for data in ({"nps": "11"}, {"nps": ""}, {"nps": "1e999"}, {"nps": "5", "comment": "x\x00"}):
        assert client.post(_url(inv), data).status_code == 400
    assert not SurveyResponse.objects.exists()


def test_a_low_score_opens_a_care_call(visit):
    _store, customer, ro = visit
    inv = _invitation(ro, SurveyKind.NPS)
    r = services.survey_respond(token=services.survey_token(inv), data={"nps": "3", "comment": "等待时间太长"},
                                answering=services.Answering(ip="203.0.113.9", device="d1"))  # fmt: skip
    call = FollowUp.objects.get(kind=FollowUpKind.LOW_SCORE, source_id=r.pk)
    assert call.customer_id == customer.pk
    with pytest.raises(Conflict):
        services.survey_respond(token=services.survey_token(inv), data={"nps": "10"}, answering=services.Answering())


def test_honesty_flags_keep_an_answer_out_of_the_scores_until_reviewed(visit):
    store, _customer, ro = visit
    manager = actor_for("manager_a", "a")
    from autocrm.care.models import CareSettings

    CareSettings.objects.update_or_create(store=store, defaults={"store_networks": "10.8.0.0/16"})
    inv = _invitation(ro, SurveyKind.CSI)
    r = services.survey_respond(token=services.survey_token(inv),
                                data={"efficiency": 5, "attitude": 5, "environment": 5, "price": 5},
                                answering=services.Answering(ip="10.8.1.20", device="till-1", staff_session=True))  # fmt: skip
    assert set(r.flags) == {"staff_device", "store_network"} and r.status == ResponseStatus.FLAGGED
    start, end = timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(days=1)
    assert selectors.survey_scores(actor=manager, start=start, end=end) == []
    with pytest.raises(PermissionDenied):
        services.survey_review(actor=actor_for("agent_a1", "a"), response=r, accept=True)
    services.survey_review(actor=manager, response=r, accept=True)
    scores = selectors.survey_scores(actor=manager, start=start, end=end)
    assert scores[0]["csi"] == 100.0 and scores[0]["csi_count"] == 1
    with pytest.raises(Conflict):
        services.survey_review(actor=manager, response=r, accept=False)
    # another store's manager sees none of it
    other = actor_for("manager_b", "b")
    assert selectors.survey_scores(actor=other, start=start, end=end) == []
    with pytest.raises(NotFound):
        selectors.survey_get(actor=other, pk=r.pk)


def test_answered_in_seconds_and_a_changed_number_are_flagged(visit):
    _store, customer, ro = visit
    from autocrm.customers.services import customer_update

    customer_update(actor=actor_for("manager_a", "a"), customer=customer, data={"mobile": "13912345678"})
    inv = SurveyInvitation.objects.get(source_id=ro, template__kind=SurveyKind.NPS)
    token = services.survey_token(inv)
    services.survey_open(token)
    r = services.survey_respond(token=token, data={"nps": 10}, answering=services.Answering(device="x"))
    assert "fast" in r.flags and "number_changed" in r.flags


def test_the_nps_is_promoters_less_detractors():
    assert selectors.nps_of([10, 9, 8, 7, 6, 0]) == 0.0
    assert selectors.nps_of([10, 10, 9, 5]) == 50.0
    assert selectors.nps_of([]) is None
