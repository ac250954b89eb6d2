"""The voice-of-customer demo: a few hundred texts per store through record_text, each store's
trouble at the top of its complaints, once (a second run adds nothing)."""

from __future__ import annotations

import pytest

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core.periods import period_parse
from autocrm.demo.voc import TEXTS_PER_STORE, demo_voc_store
from autocrm.tenancy.models import Store
from autocrm.voc import selectors
from autocrm.voc.models import VocText

pytestmark = pytest.mark.django_db


def test_demo_texts_make_real_charts(demo):
    store = Store.objects.get(code="a")
    assert demo_voc_store(store) == TEXTS_PER_STORE
    assert demo_voc_store(store) == 0
    assert VocText.objects.filter(store=store, staff__isnull=False).count() > TEXTS_PER_STORE * 0.9
    manager = actor_build(user=User.objects.get(username="manager_a"), store_id=store.pk)
    summary = selectors.voc_summary(actor=manager, period=period_parse("this_year"))
    assert summary["totals"]["negative"] and summary["totals"]["positive"]
    assert "parts-" in [p["code"] for p in summary["top_negative"][:3]]
    assert summary["staff"] and summary["top_positive"]
