"""The consultant's home on a phone (issue 13 item 10): the to-do sorted by score with one tap —
htmx swaps the panel alone and the URL keeps the choice (a reload shows the same order) — and
the panels that are not the first screen load when scrolled to; no sideways scroll at 390 px."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from autocrm.demo.services import demo_create
from autocrm.leads.models import Lead
from autocrm.leads.tests.factories import actor_for, make_lead, on_duty, uid

from .test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_consultant_sorts_the_to_do_on_a_phone(e2e_db: None, live_server: Any, page: Any, screenshot: Any) -> None:
    demo_create()
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    now = timezone.now()
    for name, minutes, score in (("冷线索", 5, 10), ("热线索", 50, 95), ("温线索", 20, 55)):
        lead = make_lead(manager, name=name, consultant_id=uid("sales_a1"))
        Lead.objects.filter(pk=lead.pk).update(  # scoped: test
            first_contact_due=now + dt.timedelta(minutes=minutes), score=score
        )
    base = live_server.url
    sign_in(page, base, "sales_a1")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/")
    todo = page.locator("#panel-leads-todo")
    todo.wait_for()

    def order() -> list[str]:
        names = page.locator("#panel-leads-todo .text-truncate").all_inner_texts()
        return [n for n in names if n.endswith("线索")]

    assert order()[:3] == ["冷线索", "温线索", "热线索"]  # the least time left first
    page.click("#panel-leads-todo [data-sort=score]")
    page.wait_for_url("**/?todo=score")
    page.wait_for_selector("#panel-leads-todo [data-sort=score][aria-current=true]")
    assert order()[:3] == ["热线索", "温线索", "冷线索"]
    assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
    screenshot("home-todo-phone-by-score")
    page.reload()
    page.wait_for_selector("#panel-leads-todo [data-sort=score][aria-current=true]")
    assert order()[:3] == ["热线索", "温线索", "冷线索"]  # kept in the URL
    # the recent activity is not the first screen: it loads when scrolled to
    page.locator("[data-home-panel=activity]").scroll_into_view_if_needed()
    page.wait_for_selector("#panel-activity")
    assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
