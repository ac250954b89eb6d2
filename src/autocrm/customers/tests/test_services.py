import datetime as dt

import pytest
from django.db import connection

from autocrm.audit.models import AuditEvent
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.models import Consent, Customer, TimelineEvent
from autocrm.customers.selectors import consents_in_force
from autocrm.customers.services import (
    consent_allows,
    consent_record,
    consent_withdraw,
    customer_create,
    customer_update,
    household_link,
)

from .factories import actor_for, make_customer


@pytest.fixture
def sales(demo):
    return actor_for("sales_a1")


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def test_create_normalises_and_encrypts(sales):
    c = customer_create(
        actor=sales, data={"name": "王芳", "mobile": "+86 139-1234-5678", "id_number": "11010519491231002x"}
    )
    c.refresh_from_db()
    assert c.mobile == "+8613912345678"
    assert c.id_number == "11010519491231002X"
    assert c.birthday == dt.date(1949, 12, 31)
    assert c.gender == "female"
    assert (c.name_pinyin, c.name_initials, c.mobile_last4) == ("wangfang", "wf", "5678")
    assert c.consultant_id == sales.user_id  # a consultant's new customer is theirs
    with connection.cursor() as cur:
        cur.execute("SELECT mobile, id_number FROM customers_customer WHERE id = %s", [c.pk])
        raw = cur.fetchone()
    assert all(v.startswith("enc:v1:") for v in raw)
    assert "13912345678" not in "".join(raw)
    assert TimelineEvent.objects.filter(customer=c, kind="customer.created").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("mobile", "1391234567"), ("mobile", "23912345678"), ("id_number", "11010519491231002Y"), ("email", "x@"),
     ("uscc", "91110000600037341M"), ("gender", "robot"), ("birthday", "31/12/1990")],
)  # fmt: skip
def test_bad_input_names_the_field_and_saves_nothing(sales, field, value):
    before = Customer.objects.count()
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=sales, data={"name": "李雷", "mobile": "13912345670", field: value})
    assert field in exc.value.fields
    assert Customer.objects.count() == before


def test_same_mobile_in_store_is_a_conflict_even_when_not_visible(demo):
    sales1, sales2 = actor_for("sales_a1"), actor_for("sales_a2")
    make_customer(sales1, name="赵磊", mobile="13900001111")
    with pytest.raises(Conflict) as exc:
        customer_create(actor=sales2, data={"name": "赵磊", "mobile": "139 0000 1111"})
    assert exc.value.duplicates[0]["id"] is None  # another consultant's customer stays hidden
    # another store may hold its own record of the same person
    other = customer_create(actor=actor_for("sales_b1"), data={"name": "赵磊", "mobile": "13900001111"})
    assert other.store.code == "b"


def test_similar_name_in_district_needs_confirmation(sales):
    make_customer(sales, name="孙丽", district="浦东新区")
    with pytest.raises(Conflict):
        customer_create(actor=sales, data={"name": "孙丽", "district": "浦东新区", "mobile": "13900002222"})
    c = customer_create(
        actor=sales, data={"name": "孙丽", "district": "浦东新区", "mobile": "13900002222"}, confirm_new=True
    )
    assert c.pk


def test_minor_is_flagged(sales):
    today = dt.date.today()
    born = today.replace(year=today.year - 10)
    from stdnum.cn import ric

    body = f"110105{born:%Y%m%d}002"
    number = body + ric.calc_check_digit(body + "0")  # the function reads the first 17 of 18
    c = make_customer(sales, name="小明", id_number=number)
    assert c.is_minor


def test_update_audits_before_and_after_masked(sales):
    c = make_customer(sales, name="周杰", mobile="13900003333")
    customer_update(actor=sales, customer=c, data={"mobile": "13900004444", "occupation": "教师"})
    event = AuditEvent.objects.filter(object_type="customers.customer", object_id=str(c.pk), action="update").get()
    assert event.changes["occupation"] == ["", "教师"]
    assert event.changes["mobile"] == ["139****3333", "139****4444"]
    assert "13900004444" not in str(event.changes)


def test_consultant_cannot_change_colleagues_customer(demo):
    c = make_customer(actor_for("sales_a2"), name="钱多")
    with pytest.raises(PermissionDenied):
        customer_update(actor=actor_for("sales_a1"), customer=c, data={"name": "钱少"})
    c.refresh_from_db()
    assert c.name == "钱多"


def test_marketing_cannot_create(demo):
    with pytest.raises(PermissionDenied):
        customer_create(actor=actor_for("marketing_a1"), data={"name": "吴用", "mobile": "13900005555"})


def test_consent_grant_and_withdraw(sales):
    c = make_customer(sales)
    consent_record(actor=sales, customer=c, purpose="marketing", channel="sms", source="展厅登记表")
    assert consent_allows(customer=c, purpose="marketing", channel="sms")
    assert not consent_allows(customer=c, purpose="marketing", channel="wechat")
    consent_withdraw(actor=sales, customer=c, purpose="marketing", channel="sms")
    assert not consent_allows(customer=c, purpose="marketing", channel="sms")
    [current] = consents_in_force(customer=c)
    assert current.withdrawn_at is not None and current.source == "展厅登记表"
    assert Consent.objects.filter(customer=c).count() == 1  # history kept, not deleted
    with pytest.raises(ValidationError) as exc:
        consent_record(actor=sales, customer=c, purpose="spam", channel="sms")
    assert "purpose" in exc.value.fields


def test_household_links_family(sales):
    head = make_customer(sales, name="刘强")
    spouse = make_customer(sales, name="陈静")
    household = household_link(actor=sales, customer=head, member=spouse, relation="spouse")
    assert {m.customer_id for m in household.members.all()} == {head.pk, spouse.pk}
    with pytest.raises(ValidationError):
        household_link(actor=sales, customer=head, member=spouse, relation="cousin-ish")


def test_optional_choice_can_be_cleared(sales):
    c = make_customer(sales, preferred_channel="wechat")
    customer_update(actor=sales, customer=c, data={"preferred_channel": ""})
    c.refresh_from_db()
    assert c.preferred_channel == ""
    with pytest.raises(ValidationError) as exc:
        customer_update(actor=sales, customer=c, data={"kind": ""})
    assert "kind" in exc.value.fields


def test_timeline_follows_its_customer_without_database_keys(sales, demo):
    """The timeline has no foreign keys in the database (a cheap write); the service still refuses
    an event for a customer that does not exist, and a deleted customer takes its events along."""
    from django.core.exceptions import ObjectDoesNotExist

    from autocrm.customers.services import timeline_record

    c = customer_create(actor=sales, data={"name": "周敏", "mobile": "13912345671"})
    timeline_record(customer=c.pk, kind="note", summary="来电")
    assert TimelineEvent.objects.filter(customer_id=c.pk).count() == 2  # created + note
    with pytest.raises(ObjectDoesNotExist):
        timeline_record(customer=c.pk + 10_000, kind="note", summary="无此客户")
    Customer.objects.filter(pk=c.pk).delete()
    assert not TimelineEvent.objects.filter(customer_id=c.pk).exists()


def test_update_and_reassign_are_one_transaction(demo):
    """The edit page's save: a refused reassignment leaves the changed fields unsaved too."""
    from autocrm.accounts.models import User

    manager = actor_for("manager_a", "a")
    customer = make_customer(actor_for("sales_a1", "a"), name="张伟")
    advisor = User.objects.get(username="advisor_a1")  # not a consultant: may not be assigned
    with pytest.raises(ValidationError) as refused:
        customer_update(actor=manager, customer=customer, data={"name": "张伟伟"}, consultant_id=advisor.pk)
    assert "consultant" in refused.value.fields
    customer.refresh_from_db()
    assert customer.name == "张伟" and customer.consultant.username == "sales_a1"
    sales2 = User.objects.get(username="sales_a2")
    customer_update(actor=manager, customer=customer, data={"name": "张伟伟"}, consultant_id=sales2.pk)
    customer.refresh_from_db()
    assert (customer.name, customer.consultant_id) == ("张伟伟", sales2.pk)
    assert customer.timeline.filter(kind="customer.assigned").exists()


def test_create_check_reports_the_customer_and_every_extra_together(demo):
    from autocrm.customers.services import customer_create_check

    actor = actor_for("sales_a1", "a")
    with pytest.raises(ValidationError) as refused:
        customer_create_check(
            actor=actor, data={"name": "", "mobile": "12345"}, extras={"vehicle": {"vin": "LSJA24U62JG269226"}}
        )
    assert {"name", "mobile", "vehicle-vin"} <= set(refused.value.fields)
    cleaned, checked = customer_create_check(
        actor=actor, data={"name": "张伟"}, extras={"vehicle": {"vin": "", "plate": "", "mileage_km": None}}
    )
    assert cleaned["name"] == "张伟" and checked == {}  # an empty extra is no extra


def test_a_sales_manager_or_service_manager_may_own_customers_a_technician_may_not(demo):
    """Sales managers keep a book of their own, service managers look after their own owners:
    both are offered and accepted as consultant / advisor; a technician or a consultant of
    another store is refused with the field named."""
    from autocrm.customers.forms import CustomerForm
    from autocrm.customers.services import customer_assign

    manager = actor_for("manager_a")
    sales_manager = actor_for("sales_manager_a")
    service_manager = actor_for("service_manager_a")
    form = CustomerForm(actor=manager)
    assert sales_manager.user_id in {v for v, _label in form.fields["consultant"].choices}
    assert service_manager.user_id in {v for v, _label in form.fields["advisor"].choices}
    customer = customer_create(
        actor=manager,
        data={"name": "邓超", "mobile": "13900004444"},
        consultant_id=sales_manager.user_id,
        advisor_id=service_manager.user_id,
    )
    assert (customer.consultant_id, customer.advisor_id) == (sales_manager.user_id, service_manager.user_id)
    for bad in (actor_for("tech_a1").user_id, actor_for("sales_b1", "b").user_id):
        with pytest.raises(ValidationError) as caught:
            customer_assign(actor=manager, customer=customer, consultant_id=bad)
        assert "consultant" in caught.value.fields
    customer.refresh_from_db()
    assert customer.consultant_id == sales_manager.user_id
