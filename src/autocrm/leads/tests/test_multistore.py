"""Lead pages and /api/v1/leads, /api/v1/lost-requests in the inherited role × scope matrix
(autocrm.core.testing): every role, on its own lead, a colleague's, another store's and a missing one."""

from __future__ import annotations

import itertools

from autocrm.accounts.models import User
from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.leads.models import Lead, LostRequest

L, LR, LS = "leads.lead", "leads.lostrequest", "leads.leadsettings"
_mobiles = itertools.count(1)


def build_lead(store, owner):
    return Lead.objects.create(store=store, name="矩阵线索", consultant=owner, mobile=f"1360{next(_mobiles):07d}")


def build_lost(store, owner):
    lead = build_lead(store, owner)
    lead.status = "lost_requested"
    lead.save()
    return LostRequest.objects.create(store=store, lead=lead, reason="price", requested_by=owner, prior_status="new")


def new_lead(world, role):
    return {"name": "矩阵新线索", "mobile": f"1361{next(_mobiles):07d}"}


def browsing_events(world, role):
    from django.utils import timezone

    return {"events": [{"visitor_id": "matrix-1", "model": "汉", "page": "config",
                        "occurred_at": timezone.now().isoformat()}]}  # fmt: skip


def assign_to(world, role):
    return {"consultant": User.objects.get(username="sales_a2").pk, "reason": "矩阵"}


class TestLeadsMultistore(MultistoreMatrix):
    builders = {L: build_lead, LR: build_lost}
    namespaces = ["leads"]
    api_prefixes = ["/leads", "/lost-requests", "/lead-events", "/lead-settings"]
    ops = [
        Op("leads:lead_list", L, "view", record=False),
        Op("leads:lead_create", L, "add", record=False),
        Op("leads:lead_detail", L, "view"),
        Op("leads:lead_activity", L, "change", method="POST", data={"kind": "call", "note": "矩阵"}, ok=302),
        Op("leads:lead_assign", L, "assign", method="POST", data=assign_to, ok=302, fresh=True),
        Op("leads:lead_lost", L, "lost", method="POST", data={"reason": "price"}, ok=302, fresh=True),
        Op("leads:lost_decide", LR, "approve", method="POST", data={"decision": "approve"}, ok=302, fresh=True),
        Op("/leads", L, "view", api=True, record=False),
        Op("/leads", L, "add", api=True, record=False, method="POST", data=new_lead, ok=201),
        Op("/leads/{pk}", L, "view", api=True),
        Op("/leads/{pk}/assign", L, "assign", api=True, method="POST", data=assign_to, fresh=True),
        Op(
            "/leads/{pk}/activities",
            L,
            "change",
            api=True,
            method="POST",
            data={"kind": "note", "note": "矩阵"},
            ok=201,
        ),
        Op(
            "/leads/{pk}/lost-request", L, "lost", api=True, method="POST", data={"reason": "price"}, ok=201, fresh=True
        ),
        Op("/lost-requests/{pk}/approve", LR, "approve", api=True, method="POST", data={}, fresh=True),
        Op("/lost-requests/{pk}/return", LR, "approve", api=True, method="POST", data={"note": "再跟"}, fresh=True),
        Op("/lost-requests/report", LR, "view", api=True, record=False),
        Op("/lead-events", "leads.leadevent", "add", api=True, record=False, method="POST", data=browsing_events),
        # the store's lead rules (leads.rules): the current store's own row, no record to address
        Op("leads:lead_rules", LS, "view", record=False),
        Op("leads:lead_rules", LS, "change", record=False, method="POST", data={"sleeping_days": "20"}, ok=302),
        Op("leads:lead_rescore", LS, "change", record=False, method="POST", data={}, ok=302),
        Op("/lead-settings", LS, "view", api=True, record=False),
        Op("/lead-settings", LS, "change", api=True, record=False, method="PATCH", data={"sleeping_days": 20}),
        Op("/lead-settings/rescore", LS, "change", api=True, record=False, method="POST", data={}, ok=202),
    ]
    exempt = {
        "leads:record_add": "multipart upload; roles and scope in test_conversations",
        "leads:record_file": "two records per call (lead, record); test_conversations",
        "POST /api/v1/leads/{lead_id}/conversation-records": "multipart upload; roles and scope in test_conversations",
        "leads:rescore_progress": "a run of the current store's settings; another store's → 404 in test_rules",
        "GET /api/v1/lead-settings/rescores/{run_id}": "as leads:rescore_progress; test_rules",
    }
