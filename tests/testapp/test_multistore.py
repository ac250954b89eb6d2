"""The test app's tickets in the inherited role × scope matrix: the platform's own check that
the matrix catches what it should (an owner-scoped model with reveal and a cost price)."""

from decimal import Decimal

from autocrm.core.testing import MultistoreMatrix, Op
from testapp.models import Ticket

T = "testapp.ticket"


def build_ticket(store, owner):
    return Ticket.objects.create(
        store=store, owner=owner, title="matrix", mobile="13812345678", id_number="11010519491231002X",
        cost_price=Decimal("88000.00"),
    )  # fmt: skip


class TestTestappMultistore(MultistoreMatrix):
    builders = {T: build_ticket}
    ops = [
        Op("testapp_ticket_detail", T, "view"),
        Op("testapp_ticket_reveal", T, "reveal", data={"field": "mobile"}),
        Op("/testapp/tickets/{pk}", T, "view", api=True),
        Op("/testapp/tickets/{pk}/reveal?field=mobile", T, "reveal", api=True),
        Op("/testapp/tickets", T, "add", method="POST", api=True, record=False, data={"title": "new"}, ok=201),
    ]
    api_prefixes = ["/testapp"]
