import pytest
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.parts import services
from autocrm.parts.models import Part, PurchaseOrder

from .factories import actor_for, make_part, make_supplier

pytestmark = pytest.mark.django_db


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_catalogue_search_low_filter_and_cost_by_role(demo):
    make_part(part_number="SP-ILKR7", name="火花塞", cost="33.33", on_hand=20, reorder_point=4)
    make_part(part_number="WIP-26", name="雨刮片", cost="52.00", on_hand=1, reorder_point=4)
    keeper = login("service_manager_a").get(reverse("parts:part_list"))
    assert keeper.status_code == 200 and "¥33.33" in keeper.content.decode()
    advisor = login("advisor_a1").get(reverse("parts:part_list"))
    text = advisor.content.decode()
    assert (
        advisor.status_code == 200 and "SP-ILKR7" in text and "¥33.33" not in text and 'data-testid="cost"' not in text
    )
    low = login("advisor_a1").get(reverse("parts:part_list") + "?low=1").content.decode()
    assert "WIP-26" in low and "SP-ILKR7" not in low
    found = login("advisor_a1").get(reverse("parts:part_list") + "?q=雨刮").content.decode()
    assert "WIP-26" in found and "SP-ILKR7" not in found
    assert login("sales_a1").get(reverse("parts:part_list")).status_code == 403


def test_part_page_movements_and_keeper_forms(demo):
    part = make_part(on_hand=10, cost="20.00")
    client = login("service_manager_a")
    url = reverse("parts:part_detail", args=[part.pk])
    r = client.post(reverse("parts:part_move", args=[part.pk]), {"kind": "adjust", "quantity": "-3", "reason": "盘点"})
    assert r.status_code == 302 and Part.objects.get(pk=part.pk).on_hand == 7
    r = client.post(reverse("parts:part_move", args=[part.pk]), {"kind": "adjust", "quantity": "-30", "reason": "x"},
                    follow=True)  # fmt: skip
    assert r.status_code == 200 and Part.objects.get(pk=part.pk).on_hand == 7  # refused: a message, nothing saved
    page = client.get(url).content.decode()
    assert page.count('data-testid="movement"') == 2 and "¥20.00" in page
    advisor_page = login("advisor_a1").get(url).content.decode()
    assert "¥20.00" not in advisor_page and 'name="kind"' not in advisor_page
    # another store's part is the same 404 as a missing one
    other = make_part("b")
    assert login("service_manager_a").get(reverse("parts:part_detail", args=[other.pk])).status_code == 404
    assert login("service_manager_a").post(reverse("parts:part_move", args=[other.pk]),
                                           {"kind": "receive", "quantity": 1}).status_code == 404  # fmt: skip


def test_movement_history_is_keyset_paginated(demo):
    keeper = actor_for("service_manager_a", "a")
    part = make_part()
    for _ in range(35):
        services.stock_receive(actor=keeper, part=part, qty=1)
    client = login("service_manager_a")
    first = client.get(reverse("parts:part_detail", args=[part.pk]))
    assert first.content.decode().count('data-testid="movement"') == 30
    cursor = first.context["next_cursor"]
    second = client.get(reverse("parts:part_detail", args=[part.pk]) + f"?cursor={cursor}")
    assert second.content.decode().count('data-testid="movement"') == 5
    assert client.get(reverse("parts:part_detail", args=[part.pk]) + "?cursor=bogus").status_code == 400


def test_orders_from_alerts_send_and_receive_on_the_pages(demo):
    supplier = make_supplier()
    part = make_part(on_hand=1, reorder_point=3, reorder_qty=10, supplier=supplier.pk)
    client = login("service_manager_a")
    r = client.post(reverse("parts:po_from_alerts"), {"supplier": supplier.pk})
    order = PurchaseOrder.objects.get(supplier=supplier)
    assert r.status_code == 302 and r["Location"] == reverse("parts:po_detail", args=[order.pk])
    action = reverse("parts:po_action", args=[order.pk])
    client.post(action, {"action": "send"})
    line = order.lines.get()
    client.post(action, {"action": "receive", f"line_{line.pk}": "10"})
    order.refresh_from_db()
    assert order.status == "received" and Part.objects.get(pk=part.pk).on_hand == 11
    assert client.get(reverse("parts:po_list")).status_code == 200
    assert "PO" in client.get(reverse("parts:po_detail", args=[order.pk])).content.decode()
    assert login("advisor_a1").get(reverse("parts:po_list")).status_code == 403
    assert login("advisor_a1").post(reverse("parts:po_from_alerts"), {"supplier": supplier.pk}).status_code == 403
    assert PurchaseOrder.objects.count() == 1  # the advisor's attempt was refused
    assert (
        login("service_manager_b").post(reverse("parts:po_from_alerts"), {"supplier": supplier.pk}).status_code == 404
    )
