"""notify_staff: the inbox, dedup, preferences, digests instead of floods, and WeCom through
the outbox when the person linked WeCom and the store has a WeCom account."""

from __future__ import annotations

import pytest
from django.db import transaction

from autocrm.core.errors import NotFound, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.messaging import notifications
from autocrm.messaging.models import StaffNotification
from autocrm.messaging.notifications import notify_staff


@pytest.fixture
def sales(demo):
    return actor_for("sales_a1")


def _notify(actor, n=1, kind="leads.assigned", **kw):
    return [
        notify_staff(user=actor.user, kind=kind, title=f"新线索 {i}", store=actor.store_id, link=f"/x/{i}", **kw)
        for i in range(n)
    ]


def test_inbox_entry_and_unread_count(sales):
    _notify(sales, 2)
    assert notifications.unread_count(actor=sales) == 2
    assert notifications.unread_count(actor=actor_for("sales_a2")) == 0
    page = notifications.notification_page(actor=sales)
    assert [n.title for n in page.items] == ["新线索 1", "新线索 0"]


def test_rolled_back_cause_leaves_no_notification(sales):
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify(sales)
        raise RuntimeError
    assert not StaffNotification.objects.exists()


def test_dedup_key_twice_is_one_notification(sales):
    first = notify_staff(user=sales.user, kind="sla.breach", title="超时", store=sales.store_id, dedup_key="lead:1")
    again = notify_staff(user=sales.user, kind="sla.breach", title="超时", store=sales.store_id, dedup_key="lead:1")
    assert first.pk == again.pk and StaffNotification.objects.count() == 1


def test_a_flood_folds_into_one_digest_with_a_count(sales):
    _notify(sales, notifications.DIGEST_AFTER)
    assert StaffNotification.objects.count() == notifications.DIGEST_AFTER
    _notify(sales, 7)
    rows = list(StaffNotification.objects.filter(user=sales.user))
    assert len(rows) == 1
    digest = rows[0]
    assert digest.digest_count == notifications.DIGEST_AFTER + 7 == 12
    assert digest.title in ("12 new leads assigned to you", "12 条新线索分配给您")  # in the language of the moment
    assert notifications.unread_count(actor=sales) == 1
    # another kind is not folded into it
    _notify(sales, 1, kind="escalated")
    assert StaffNotification.objects.filter(user=sales.user).count() == 2


def test_after_reading_the_digest_a_new_one_starts(sales):
    _notify(sales, notifications.DIGEST_AFTER + 1)
    notifications.notification_mark_all_read(actor=sales)
    _notify(sales, 1)
    assert StaffNotification.objects.filter(user=sales.user, read_at__isnull=True).count() == 1


def test_digest_preference_folds_from_the_first(sales):
    notifications.preference_save(actor=sales, kind="leads.assigned", inbox=True, wecom=False, digest=True)
    _notify(sales, 3)
    (digest,) = StaffNotification.objects.filter(user=sales.user)
    assert digest.digest_count == 3


def test_inbox_off_writes_nothing_to_read(sales):
    notifications.preference_save(actor=sales, kind="*", inbox=False, wecom=True, digest=False)
    assert _notify(sales) == [None]
    assert notifications.unread_count(actor=sales) == 0


def test_preference_bad_input(sales):
    with pytest.raises(ValidationError) as exc:
        notifications.preference_save(actor=sales, kind="nope", inbox=True, wecom=True, digest=False)
    assert "kind" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        notifications.preference_save(actor=sales, kind="*", inbox=False, wecom=False, digest=False)
    assert "inbox" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        notifications.preference_save(actor=sales, kind="*", inbox=True, wecom=True, digest=False, wecom_userid="a b")
    assert "wecom_userid" in exc.value.fields


def test_mark_read_only_ones_own(sales):
    (note,) = _notify(sales)
    other = actor_for("sales_a2")
    with pytest.raises(NotFound):
        notifications.notification_get(actor=other, pk=note.pk)
    notifications.notification_mark_read(
        actor=sales, notification=notifications.notification_get(actor=sales, pk=note.pk)
    )
    assert notifications.unread_count(actor=sales) == 0


def test_bell_is_one_query(sales, django_assert_num_queries):
    _notify(sales, 3)
    with django_assert_num_queries(1):
        assert notifications.unread_count(actor=sales) == 3


def test_hostile_title_and_link(sales):
    note = notify_staff(user=sales.user, kind="escalated", title="x" * 500 + "\n<script>", store=sales.store_id,
                        link="https://evil.example/")  # fmt: skip
    assert len(note.title) == 200 and note.link == ""


def test_wecom_queued_through_the_outbox_when_linked(sales):
    services = pytest.importorskip("autocrm.messaging.services")
    if not hasattr(services, "message_queue"):
        pytest.skip("h/msgcore's message_queue is not merged")
    from autocrm.messaging.models import Message
    from autocrm.messaging.services_accounts import channel_account_save
    from autocrm.messaging.tests import fakes_settings  # noqa: F401  (the test WeCom provider)

    (note,) = _notify(sales)  # no WeCom account in the store yet: the inbox only
    assert not Message.objects.exists()
    StaffNotification.objects.all().delete()
    channel_account_save(actor=actor_for("manager_a"), provider="settings_test_wecom",
                         data={"corp_id": "ww1", "corp_secret": "s"})  # fmt: skip
    notifications.preference_save(actor=sales, kind="*", inbox=True, wecom=True, digest=False, wecom_userid="zhangwei")
    (note,) = _notify(sales)
    msg = Message.objects.get(idempotency_key=f"staff-notification:{note.pk}")
    assert (msg.channel, msg.purpose, msg.user_id) == ("wecom", "staff", sales.user_id)
    # a flood: the first N go one by one, the rest wait for the digest task
    _notify(sales, notifications.DIGEST_AFTER + 3)
    assert Message.objects.filter(channel="wecom").count() == notifications.DIGEST_AFTER
    assert notifications.digests_send() == 1
    assert notifications.digests_send() == 1  # idempotent: the same count is the same message
    assert Message.objects.filter(channel="wecom").count() == notifications.DIGEST_AFTER + 1


def test_digest_task_runs(sales):
    from autocrm.messaging.notification_tasks import notification_digests_task

    _notify(sales, notifications.DIGEST_AFTER + 2)
    assert notification_digests_task.call_local() == 0  # nobody linked WeCom: nothing to send


def test_a_notification_is_two_statements_and_reads_the_choice_made_a_moment_ago(sales, django_assert_num_queries):
    """The inbox read carries the person's preferences (one statement), then the INSERT: a choice
    saved just before applies to the very next notification."""
    _notify(sales)  # warms the statement texts
    with django_assert_num_queries(2):
        note = notify_staff(user=sales.user_id, kind="escalated", title="升级", store=sales.store_id)
    assert note is not None and note.pk and note.read_at is None and note.kind == "escalated"
    stored = StaffNotification.objects.get(pk=note.pk)  # scoped: test
    assert (stored.title, stored.user_id, stored.store_id) == ("升级", sales.user_id, sales.store_id)
    assert stored.created_at is not None and stored.created_at == note.created_at
    notifications.preference_save(actor=sales, kind="escalated", inbox=False, wecom=True, digest=False)
    assert notify_staff(user=sales.user_id, kind="escalated", title="再升级", store=sales.store_id) is None
    notifications.preference_save(actor=sales, kind="*", inbox=True, wecom=False, digest=True)
    folded = notify_staff(user=sales.user_id, kind="leads.assigned", title="新线索", store=sales.store_id)
    assert folded is not None and folded.dedup_key == "digest:leads.assigned"  # the * row's digest applies
