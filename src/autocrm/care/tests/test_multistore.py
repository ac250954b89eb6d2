"""The care pages and API in the inherited role × scope matrix (autocrm.core.testing): every role
on its own record, a colleague's, another store's and a missing one."""

from __future__ import annotations

import itertools

from django.utils import timezone

from autocrm.care.models import Complaint, FollowUp
from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.tests.test_multistore import build_customer

FU, C, SR, WB, CS = "care.followup", "care.complaint", "care.surveyresponse", "care.winback", "care.caresettings"
_src = itertools.count(1)


def build_followup(store, owner):
    customer = build_customer(store, owner)
    return FollowUp.objects.create(store=store, kind="service", source_id=next(_src), customer=customer, agent=owner,
                                   due_at=timezone.now())  # fmt: skip


def build_complaint(store, owner):
    customer = build_customer(store, owner)
    now = timezone.now()
    return Complaint.objects.create(store=store, number=f"TSM{next(_src):05d}", customer=customer, category="price",
                                    department="aftersales", description="矩阵投诉", assignee=owner,
                                    status="handling", received_at=now, step_due_at=now)  # fmt: skip


def build_response(store, owner):
    from autocrm.care.models import SurveyInvitation, SurveyResponse
    from autocrm.care.services import survey_template_for

    customer = build_customer(store, owner)
    now = timezone.now()
    template = survey_template_for(store.pk, "service", "nps")
    inv = SurveyInvitation.objects.create(store=store, template=template, moment="service", source_id=next(_src),
                                          customer=customer, staff=owner, nonce="n", expires_at=now, responded_at=now)  # fmt: skip
    return SurveyResponse.objects.create(store=store, invitation=inv, kind="nps", moment="service", customer=customer,
                                         staff=owner, nps=9, answered_at=now, flags=["fast"], status="flagged")  # fmt: skip


def build_winback(store, owner):
    from autocrm.care.models import WinBack

    customer = build_customer(store, owner)
    now = timezone.now()
    return WinBack.objects.create(store=store, customer=customer, last_visit_at=now, flagged_at=now, nonce="n",
                                  expires_at=now, answered_at=now, reason="price", flags=["fast"], status="flagged")  # fmt: skip


def new_complaint(world, role):
    customer = build_customer(world.store_of("own"), world.owner(role, "own"))
    return {"customer": customer.pk, "description": "矩阵投诉", "category": "price", "department": "sales"}


class TestCareMultistore(MultistoreMatrix):
    builders = {FU: build_followup, C: build_complaint, SR: build_response, WB: build_winback}
    namespaces = ["care"]
    api_prefixes = ["/follow-ups", "/complaints", "/surveys", "/win-backs"]
    exempt = {
        "care:customer_part": "keyed by a customer: scope and roles in test_customer_part",
        "GET /api/v1/surveys/public/{token}": "no login: the signed link is the permission (test_surveys)",
        "POST /api/v1/surveys/public/{token}": "no login: the signed link is the permission (test_surveys)",
    }
    ops = [
        Op("care:followup_list", FU, "view", record=False),
        Op("care:followup_detail", FU, "view"),
        Op("care:followup_detail", FU, "change", method="POST", data={"outcome": "satisfied"}, ok=302, fresh=True),
        Op("care:complaint_list", C, "view", record=False),
        Op("care:complaint_create", C, "add", record=False),
        Op("care:complaint_report", C, "escalate", record=False),
        Op("care:complaint_detail", C, "view"),
        Op("care:complaint_advance", C, "change", method="POST", data={"resolution": "已处理"}, ok=302, fresh=True),
        Op("care:complaint_escalate", C, "escalate", method="POST", ok=302, fresh=True),
        Op("care:survey_list", SR, "view", record=False),
        Op("care:survey_review", SR, "review", method="POST", data={"accept": "1"}, ok=302, fresh=True),
        Op("care:winback_list", WB, "view", record=False),
        Op("care:winback_review", WB, "review", method="POST", data={"accept": "0"}, ok=302, fresh=True),
        Op("care:settings", CS, "change", record=False),
        Op("/win-backs", WB, "view", api=True, record=False),
        Op("/win-backs/report", WB, "view", api=True, record=False),
        Op("/win-backs/{pk}/review", WB, "review", api=True, method="POST", data={"accept": False}, fresh=True),
        Op("/surveys", SR, "view", api=True, record=False),
        Op("/surveys/scores", SR, "view", api=True, record=False),
        Op("/surveys/{pk}/review", SR, "review", api=True, method="POST", data={"accept": True}, fresh=True),
        Op("/follow-ups", FU, "view", api=True, record=False),
        Op("/follow-ups/{pk}", FU, "view", api=True),
        Op(
            "/follow-ups/{pk}/outcome", FU, "change", api=True, method="POST", data={"outcome": "satisfied"}, fresh=True
        ),
        Op("/complaints", C, "view", api=True, record=False),
        Op("/complaints", C, "add", api=True, method="POST", record=False, data=new_complaint, ok=201),
        Op("/complaints/{pk}", C, "view", api=True),
        Op("/complaints/{pk}/advance", C, "change", api=True, method="POST", data={"resolution": "已处理"}, fresh=True),
        Op("/complaints/{pk}/escalate", C, "escalate", api=True, method="POST", data={}, fresh=True),
    ]
