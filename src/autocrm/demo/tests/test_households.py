"""The demo creates households: spouses and children linked as family members, companies with
their driver, each sharing an address, so the 360 page's household panel shows real data."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.test import Client
from stdnum.cn import uscc

from autocrm.accounts.models import User
from autocrm.core import identifiers
from autocrm.customers.choices import CustomerKind, Relation
from autocrm.customers.models import Customer, Household, HouseholdMember
from autocrm.demo.households import _surname, demo_households_load
from autocrm.demo.loader import demo_customers_load

TODAY = datetime.date(2026, 6, 1)


def load(demo, n=60, seed=7):
    demo_customers_load(organization=demo["organization"], stores=demo["stores"], customers=n, seed=seed, today=TODAY)
    return demo_households_load(stores=demo["stores"], seed=seed, today=TODAY)


def members_of(household):
    return {m.relation: m.customer for m in household.members.select_related("customer")}


def test_families_and_companies_share_an_address_and_an_owner(demo):
    stats = load(demo)
    assert stats.families >= 8 and stats.companies >= 1
    assert Household.objects.count() == stats.families + stats.companies
    spouses = children = 0
    for household in Household.objects.all():
        members = members_of(household)
        head = members[Relation.SELF]
        others = [c for r, c in members.items() if r != Relation.SELF]
        assert others and all(c.store_id == head.store_id == household.store_id for c in others)
        for other in others:
            assert (other.district, other.address, other.community) == (head.district, head.address, head.community)
            assert other.consultant_id == head.consultant_id  # whoever sees the head sees the household
        if head.kind == CustomerKind.COMPANY:
            assert set(members) == {Relation.SELF, Relation.DRIVER}
            assert head.name.endswith("有限公司") and uscc.is_valid(head.uscc)
            assert members[Relation.DRIVER].vehicles.exists()
            continue
        assert household.name == f"{head.name}家"
        spouse = members[Relation.SPOUSE]
        spouses += 1
        assert spouse.gender != head.gender and spouse.kind == CustomerKind.PERSON
        child = members.get(Relation.CHILD)
        if child is not None:
            children += 1
            father = head if head.gender == "male" else spouse
            assert _surname(child.name) == _surname(father.name)
            assert child.birthday > max(b for b in (head.birthday, spouse.birthday) if b)
            assert child.is_minor == (child.birthday > datetime.date(TODAY.year - 14, TODAY.month, TODAY.day))
            assert bool(child.mobile) == (child.birthday <= datetime.date(TODAY.year - 18, TODAY.month, TODAY.day))
    assert spouses == stats.families and 0 < children <= spouses


def test_new_members_have_valid_distinct_mobiles_and_search_keys(demo):
    load(demo)
    members = Customer.objects.filter(external_id__contains=":hh:") | Customer.objects.filter(
        external_id__contains=":co:"
    )
    assert members.exists()
    mobile_index = Customer._meta.get_field("mobile_index")
    for c in members:
        assert c.name_pinyin and c.name_initials
        if c.mobile:
            assert identifiers.normalize_mobile(c.mobile) == c.mobile
            assert c.mobile_index == mobile_index.compute(c.mobile)
            assert Customer.objects.filter(store=c.store, mobile_index=c.mobile_index).count() == 1
        assert c.id_number == ""


def test_households_are_deterministic_and_idempotent(demo):
    load(demo)
    first = sorted(HouseholdMember.objects.values_list("household__name", "customer__name", "relation"))
    again = demo_households_load(stores=demo["stores"], seed=7, today=TODAY)
    assert again.families == again.companies == 0 and sorted(again.skipped_stores) == ["a", "b"]
    assert sorted(HouseholdMember.objects.values_list("household__name", "customer__name", "relation")) == first


def test_the_360_page_shows_the_household(demo):
    load(demo)
    household = Household.objects.filter(store=demo["stores"]["a"], name__endswith="家").first()
    members = members_of(household)
    head, spouse = members[Relation.SELF], members[Relation.SPOUSE]
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(head.consultant)
    body = client.get(f"/customers/{head.pk}/").content.decode()
    panel = body[body.index('id="household"') :]
    panel = panel[: panel.index('id="insights"')]
    assert spouse.name in panel and "配偶" in panel
    assert "No household members" not in panel and "暂无" not in panel
    # And from the spouse's page, the head.
    body = client.get(f"/customers/{spouse.pk}/").content.decode()
    assert head.name in body[body.index('id="household"') :]


def test_the_demo_command_creates_households(db):
    from autocrm.demo.services import demo_create

    demo_create(customers=30, seed=5)
    assert Household.objects.filter(name__endswith="家").exists()
    assert Household.objects.filter(name__endswith="有限公司").exists()
    assert User.objects.filter(username="admin").exists()
