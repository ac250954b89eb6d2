"""The moments pages and API in the inherited role × scope matrix (autocrm.core.testing): every
role on its own record, a colleague's, another store's and a missing one."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.tests.test_multistore import build_customer
from autocrm.moments.models import ClubEvent, ClubRegistration, MomentSend

MT, MS = "moments.momenttrigger", "moments.momentsend"
EV, REG = "moments.clubevent", "moments.clubregistration"
MSG = "messaging.message"


def build_event(store, owner):
    return ClubEvent.objects.create(store=store, title="矩阵活动", place="门店", capacity=5,
                                    starts_at=timezone.now() + dt.timedelta(hours=1))  # fmt: skip


def build_registration(store, owner):
    event = build_event(store, owner)
    return ClubRegistration.objects.create(store=store, event=event, customer=build_customer(store, owner),
                                           status="registered", source="staff")  # fmt: skip


def build_send(store, owner):
    return MomentSend.objects.create(store=store, kind="birthday", occasion="2026", customer=build_customer(store, owner),
                                     due_on=timezone.localdate(), purpose="marketing")  # fmt: skip


def _future():
    return (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def event_form(world, role):
    return {"title": "矩阵新活动", "place": "门店", "capacity": "10", "starts_at": _future()}


def event_json(world, role):
    return {"title": "矩阵新活动", "place": "门店", "capacity": 10,
            "starts_at": (timezone.now() + dt.timedelta(days=3)).isoformat()}  # fmt: skip


TRIGGER = {"kind": "birthday", "birthday-is_active": "on", "birthday-days_before": "0",
           "birthday-template_code": "moment_birthday"}  # fmt: skip


class TestMomentsMultistore(MultistoreMatrix):
    builders = {EV: build_event, REG: build_registration, MS: build_send}
    namespaces = ["moments"]
    api_prefixes = ["/events"]
    ops = [
        Op("moments:moment_log", MS, "view", record=False),
        Op("moments:moment_settings", MT, "view", record=False),
        Op("moments:moment_settings", MT, "change", method="POST", record=False, data=TRIGGER, ok=302),
        Op("moments:event_list", EV, "view", record=False),
        Op("moments:event_list", EV, "add", method="POST", record=False, data=event_form, ok=302),
        Op("moments:event_detail", EV, "view"),
        # allowed: past the checks, an unknown customer is refused on the form (the page again)
        Op("moments:event_register", EV, "change", method="POST", data={"customer": "999999999"}),
        Op("moments:registration_check_in", REG, "change", method="POST", ok=302, fresh=True),
        Op("moments:registration_cancel", REG, "change", method="POST", ok=302, fresh=True),
        Op("/events", EV, "view", api=True, record=False),
        Op("/events", EV, "add", api=True, method="POST", record=False, data=event_json, ok=201),
        Op("/events/{pk}", EV, "view", api=True),
        Op("/events/{pk}/registrations", EV, "view", api=True),
        Op("/events/{pk}/registrations", EV, "change", api=True, method="POST", data={"customer": 999999999}, ok=400),
        Op(
            "/events/{pk}/invitations",
            EV,
            "change",
            api=True,
            method="POST",
            data={"customer": 999999999},
            ok=400,
            also_needs=((MSG, "send_marketing"),),
        ),
        Op("/events/registrations/{pk}/check-in", REG, "change", api=True, method="POST", fresh=True),
        Op("/events/registrations/{pk}/cancel", REG, "change", api=True, method="POST", fresh=True),
    ]
