"""The audit trail in the inherited role × scope matrix (autocrm.core.testing): the event list as
every role, and a customer's history on the actor's own customer, a colleague's, another store's
and a missing one (the record must be visible; reading its history needs the audit trail)."""

from __future__ import annotations

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.tests.test_multistore import build_customer

C, EVENTS = "customers.customer", "audit.auditevent"
READS_THE_TRAIL = ((EVENTS, "view"),)


class TestAuditMultistore(MultistoreMatrix):
    builders = {C: build_customer}
    namespaces = ["audit"]
    api_prefixes = ["/audit-events"]
    ops = [
        Op("audit:event_list", EVENTS, "view", record=False),
        Op("audit:history", C, "audit", args=(C,), any_of=READS_THE_TRAIL),
        Op("/audit-events", EVENTS, "view", api=True, record=False),
        Op(
            "/audit-events/history?object_type=customers.customer&object_id={pk}",
            C,
            "audit",
            api=True,
            any_of=READS_THE_TRAIL,
        ),
    ]
