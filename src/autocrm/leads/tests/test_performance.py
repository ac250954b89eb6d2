"""What the intake and the consultant's pages cost, in queries, and the intake under concurrency
(issue 13 performance: ≥ 200 leads/s; the list and to-do p95 < 100 ms at 1,000,000 leads)."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.models import User
from autocrm.leads import selectors
from autocrm.leads.models import Lead, LeadActivity
from autocrm.leads.services import lead_create
from autocrm.messaging.models import StaffNotification

from .factories import actor_for, make_lead, mobile, on_duty, uid

# Statements a new lead takes: BEGIN, the repeat lookup (the external ID on leads or enquiries, one
# UNION ALL), open-lead lookup, customer lookup, duty list, duty booking, INSERT, its audit row,
# notify_staff (inbox and preference read, write), COMMIT — plus the advisory lock on PostgreSQL, or
# the savepoint around the INSERT (2) elsewhere. 25 before issue 13's performance work, 14 after
# its first pass, 13 after h/leadperf2 (the repeat lookups folded into one), 12 after h/intake
# (the preference read folded into notify_staff's inbox read).
PG = connection.vendor == "postgresql"
NEW_LEAD_QUERIES = 12 if PG else 13
LINKED_QUERIES = 11 if PG else 10  # the lookups, the enquiry activity and its audit, the update and its audit, the tell
REPEAT_QUERIES = 5 if PG else 4  # BEGIN, the lock, the repeat lookup, the lead it found, COMMIT


def intake(actor, **data):
    with CaptureQueriesContext(connection) as captured:
        result = lead_create(actor=actor, data=data, source="autohome")
    return result, len(captured)


@pytest.mark.django_db
def test_a_new_lead_a_linked_enquiry_and_a_repeat_take_a_fixed_few_queries(demo):
    on_duty("a", "sales_a1", "sales_a2")
    manager = actor_for("sales_manager_a", "a")
    make_lead(manager)  # warms the store's cached rules
    number = mobile()
    made, queries = intake(manager, name="王芳", mobile=number, external_id="ah-1")
    assert made.created and made.lead.consultant_id in (uid("sales_a1"), uid("sales_a2"))
    assert queries <= NEW_LEAD_QUERIES, queries
    again, queries = intake(manager, name="王芳", mobile=number, external_id="ah-2")
    assert again.linked and again.lead.pk == made.lead.pk and again.lead.enquiries == 2
    assert queries <= LINKED_QUERIES, queries
    repeat, queries = intake(manager, name="王芳", mobile=number, external_id="ah-2")
    assert repeat.repeated and repeat.lead.pk == made.lead.pk
    assert queries <= REPEAT_QUERIES, queries
    # The "enquired again" write keeps the instance true without reading it back.
    stored = Lead.objects.get(pk=made.lead.pk)
    assert stored.enquiries == 2 and stored.updated_at >= made.lead.updated_at


@pytest.mark.django_db
def test_a_flood_of_leads_folds_into_one_digest_with_its_count(demo):
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    for _ in range(8):
        make_lead(manager)
    inbox = StaffNotification.objects.filter(user_id=uid("sales_a1"), kind="leads.assigned")  # scoped: test
    digest = inbox.get(dedup_key="digest:leads.assigned")
    assert digest.digest_count == 8 and "8" in digest.title
    assert inbox.count() == 1


@pytest.mark.django_db
def test_selectors_of_the_consultants_pages_are_one_query_each(demo, django_assert_num_queries):
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    for _ in range(30):
        make_lead(manager, consultant_id=uid("sales_a1"))
    consultant = actor_for("sales_a1", "a")
    with django_assert_num_queries(1):
        page = selectors.lead_page(actor=consultant, limit=10)
    assert len(page.items) == 10 and page.next_cursor
    with django_assert_num_queries(1):
        nxt = selectors.lead_page(actor=consultant, limit=10, cursor=page.next_cursor)
    assert not {lead.pk for lead in page.items} & {lead.pk for lead in nxt.items}
    with django_assert_num_queries(1):
        todo = selectors.lead_todo(actor=consultant)
    assert len(todo["new"]) == 20  # the limit, soonest deadline first


def _page_queries(client, path):
    client.get(path)  # warms per-process caches (rules, menus)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_list_and_to_do_pages_cost_the_same_queries_for_3_or_40_leads(demo):
    on_duty("a", "sales_a1")
    manager = actor_for("sales_manager_a", "a")
    client = Client()
    client.force_login(User.objects.get(username="sales_a1"))
    for _ in range(3):
        make_lead(manager, consultant_id=uid("sales_a1"))
    few = {path: _page_queries(client, path) for path in ("/leads/", "/leads/?status=open", "/")}
    for _ in range(37):
        make_lead(manager, consultant_id=uid("sales_a1"))
    many = {path: _page_queries(client, path) for path in ("/leads/", "/leads/?status=open", "/")}
    assert few == many, (few, many)
    # The request path's (session, user) and the shell's store, then the page: the list's one
    # read of the rows and the consultants of the filter; the home page's panels one read each.
    assert many["/leads/"] <= 4 and many["/leads/?status=open"] <= 4, many
    assert many["/"] <= 9, many


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: PostgreSQL")
@pytest.mark.parametrize("same_external_id", [True, False])
def test_two_identical_enquiries_at_once_make_one_lead(committed_db, same_external_id):
    from autocrm.demo.services import demo_create

    demo_create()
    on_duty("a", "sales_a1", "sales_a2")
    number = mobile()
    barrier, results, errors = threading.Barrier(2), [], []

    def run(n):
        from django.db import connections

        try:
            actor = actor_for("sales_manager_a", "a")
            barrier.wait()
            ext = "dup-1" if same_external_id else f"dup-{n}"
            results.append(lead_create(actor=actor, data={"name": "并发", "mobile": number, "external_id": ext},
                                       source="autohome"))  # fmt: skip
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    leads = Lead.objects.filter(name="并发")  # scoped: test
    assert leads.count() == 1
    assert sorted(r.created for r in results) == [False, True]
    other = next(r for r in results if not r.created)
    assert other.lead.pk == leads.get().pk
    if same_external_id:
        assert other.repeated
    else:
        assert other.linked and LeadActivity.objects.filter(lead=leads.get(), kind="enquiry").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions: PostgreSQL")
def test_the_last_slot_of_a_capacity_is_taken_once_under_concurrency(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    on_duty("a", "sales_a1", daily_capacity=1)
    barrier, results = threading.Barrier(4), []

    def run(n):
        from django.db import connections

        try:
            actor = actor_for("sales_manager_a", "a")
            barrier.wait()
            results.append(lead_create(actor=actor, data={"name": f"容量{n}", "mobile": mobile()}, source="api"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    consultants = sorted((r.lead.consultant_id or 0) for r in results)
    assert consultants.count(uid("sales_a1")) == 1 and consultants.count(0) == 3  # the rest: the manager's queue
