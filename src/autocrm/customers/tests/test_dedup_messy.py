"""The duplicate finder and the on-entry check on messy data (issue 10, items 2–4): each kind of
variation a receptionist or a second spreadsheet brings is found, each hard non-duplicate is not."""

import datetime as dt
import random

import pytest
from django.test import Client
from django.urls import reverse

from autocrm.core.errors import Conflict
from autocrm.core.names import NameStats, name_keys
from autocrm.customers.dedup import Person, candidate_pairs, duplicates_find
from autocrm.customers.models import Customer, DuplicatePair, Household, HouseholdMember
from autocrm.customers.services import customer_create, customer_duplicates
from autocrm.vehicles.services import vehicle_create

from .factories import actor_for, make_customer, unique_mobile
from .test_dedup import urlpatterns  # noqa: F401  (the duplicates pages mounted)

pytestmark = pytest.mark.urls("autocrm.customers.tests.test_dedup")


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def found_pairs():
    return {
        frozenset(Customer.objects.get(pk=pk).name for pk in (p.customer_a_id, p.customer_b_id)): p
        for p in DuplicatePair.objects.order_by("id")
    }


def codes(pair):
    return {r["code"] for r in pair.reasons}


def test_names_normalise_traditional_spaces_full_width_and_dots():
    assert name_keys("劉 萍平").normal == name_keys("刘萍平").normal == "刘萍平"
    assert name_keys("刘\u3000萍平").normal == "刘萍平"  # an ideographic space
    assert name_keys("阿依古丽·买买提").normal == name_keys("阿依古丽买买提").normal
    assert name_keys("Ｔｏｍ  LI").ordered == name_keys("Li Tom").ordered
    assert name_keys("李静").pinyin == name_keys("李晶").pinyin == "lijing"  # homophones
    assert name_keys("单田芳").pinyin == "shantianfang" and name_keys("曾国藩").pinyin.startswith("zeng")
    assert name_keys("李静").fuzzy == name_keys("李金").fuzzy  # -ng / -n


def test_common_names_weigh_less_than_rare_ones():
    stats = NameStats(["张伟"] * 300 + ["覃嘉懿"] * 2 + [f"王{i}" for i in range(100_000)])
    assert stats.same_name_weight(name_keys("张伟")) < stats.same_name_weight(name_keys("覃嘉懿"))
    assert stats.is_common(name_keys("张伟")) and not stats.is_common(name_keys("覃嘉懿"))


# --- each variation is found ----------------------------------------------------------------------


def test_changed_mobile_kept_as_other_phone_is_found(manager):
    old = make_customer(manager, name="王建华", mobile="13811112222")
    make_customer(manager, name="王建华", mobile="13933334444", other_phones="138 1111 2222")
    duplicates_find(actor=manager)
    pair = found_pairs()[frozenset({"王建华"})]
    assert pair.reasons[0] == {"code": "mobile_is_other_phone", "side": "a"} and pair.customer_a_id == old.pk


def test_changed_mobile_not_kept_is_found_by_name_and_address(manager):
    make_customer(manager, name="赵立新", mobile="13811112222", address="成都市锦江区人民路208号")
    make_customer(manager, name="赵立新", mobile="13933334444", address="锦江区人民路208号3栋2单元501")
    duplicates_find(actor=manager)
    assert codes(found_pairs()[frozenset({"赵立新"})]) >= {"same_name", "same_address"}


def test_traditional_characters_and_spaces_are_one_name(manager):
    make_customer(manager, name="刘萍平", address="成都市锦江区人民路208号")
    make_customer(manager, name="劉 萍平", address="四川省成都市锦江区人民路２０８号")  # full-width digits
    duplicates_find(actor=manager)
    pair = found_pairs()[frozenset({"刘萍平", "劉 萍平"})]
    assert codes(pair) >= {"same_name", "same_address"}


def test_homophone_at_the_same_address_is_found(manager):
    make_customer(manager, name="李静", address="成都市锦江区人民路208号", birthday="1988-04-02")
    make_customer(manager, name="李晶", address="锦江区人民路208号", birthday="1988-04-02")
    duplicates_find(actor=manager)
    assert "same_pinyin" in codes(found_pairs()[frozenset({"李静", "李晶"})])


def test_address_as_one_string_or_split_and_without_city_is_one_address(manager):
    one = make_customer(manager, name="周海波", address="成都锦江区人民路208号")
    split = make_customer(manager, name="周海波", city="成都市", district="锦江区", address="人民路208号")
    no_city = make_customer(manager, name="周海波", address="锦江区人民路208号")
    assert one.address_key == split.address_key == no_city.address_key != ""
    duplicates_find(actor=manager)
    assert DuplicatePair.objects.count() == 3


def test_plate_with_other_spacing_and_case_is_found_and_shown(manager):
    a = make_customer(manager, name="孙国庆", district="锦江区")
    b = make_customer(manager, name="孫國慶", district="锦江区")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "川AB724E"}, customer=a)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "川a b724e"}, customer=b)
    duplicates_find(actor=manager)
    pair = DuplicatePair.objects.get()
    assert {"code": "same_plate", "value": "川AB724E"} in pair.reasons


def test_combined_variations_are_found(manager):
    """Traditional + space in the name, a new mobile not kept, the address as one string without
    the city on one side and split on the other."""
    make_customer(manager, name="刘萍平", mobile="13811112222", city="成都市", district="锦江区", address="人民路208号")
    make_customer(manager, name="劉 萍平", mobile="13700009999", address="锦江区人民路208号")
    duplicates_find(actor=manager)
    assert frozenset({"刘萍平", "劉 萍平"}) in found_pairs()


# --- hard non-duplicates are not queued ------------------------------------------------------------


def test_family_at_one_address_is_not_paired(manager):
    home = {"city": "成都市", "district": "锦江区", "address": "人民路208号3栋2单元501", "community": "锦华苑"}
    father = make_customer(manager, name="刘建国", birthday="1962-03-01", gender="male", **home)
    make_customer(manager, name="王秀英", birthday="1964-07-12", gender="female", **home)
    make_customer(manager, name="刘萍平", birthday="1990-11-20", gender="female",
                  other_phones=father.mobile, **home)  # fmt: skip
    duplicates_find(actor=manager)
    assert not DuplicatePair.objects.exists()


def test_household_members_under_different_relations_are_two_people(manager):
    home = {"district": "锦江区", "address": "成都市锦江区人民路208号"}
    a = make_customer(manager, name="李静", **home)
    b = make_customer(manager, name="李晶", **home)
    duplicates_find(actor=manager)
    assert DuplicatePair.objects.count() == 1  # alike enough without the household
    DuplicatePair.objects.all().delete()
    household = Household.objects.create(store_id=manager.store_id, name="李家")
    HouseholdMember.objects.create(store_id=manager.store_id, household=household, customer=a, relation="spouse")
    HouseholdMember.objects.create(store_id=manager.store_id, household=household, customer=b, relation="child")
    duplicates_find(actor=manager)
    assert not DuplicatePair.objects.exists()


def test_father_and_son_sharing_a_car_are_not_paired(manager):
    home = {"district": "锦江区", "address": "成都市锦江区人民路208号"}
    father = make_customer(manager, name="张建国", birthday="1960-01-01", **home)
    son = make_customer(manager, name="张子豪", birthday="1992-05-05", **home)
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "川AB724E"}, customer=father)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "川AB724E"}, customer=son)
    duplicates_find(actor=manager)
    assert not DuplicatePair.objects.exists()


def test_two_zhang_wei_in_one_district_are_not_paired(manager):
    make_customer(manager, name="张伟", district="锦江区", address="成都市锦江区人民路208号")
    make_customer(manager, name="张伟", district="锦江区", address="成都市锦江区春熙路12号")
    make_customer(manager, name="张伟", district="锦江区", birthday="1980-01-01")
    make_customer(manager, name="张伟", district="锦江区", birthday="1991-02-03")
    duplicates_find(actor=manager)
    assert not DuplicatePair.objects.exists()


# --- blocking stays near-linear -----------------------------------------------------------------


def _generated_people(n, seed=3):
    rng = random.Random(seed)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
             "华", "建国", "子豪", "欣怡", "浩然", "梓涵"]  # fmt: skip
    districts = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]
    people = {}
    for i in range(1, n + 1):
        name = rng.choice(surnames[:5] if rng.random() < 0.5 else surnames) + rng.choice(given)
        birthday = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000)) if rng.random() < 0.6 else None
        phone = "switchboard" if rng.random() < 0.02 else f"m{i}"  # a company number many rows share
        street = f"s{rng.randrange(n // 3)}"  # ~3 residents a house number
        people[i] = Person(i, name, "person", rng.choice(districts), "成都市", "", birthday, "", phone, "", "", "", "",
                           street, "")  # fmt: skip
    return people


def test_blocking_keeps_candidate_pairs_near_linear():
    counts = {}
    for n in (2_000, 8_000):
        pairs, _split = candidate_pairs(_generated_people(n), [])
        counts[n] = len(pairs)
        assert len(pairs) <= 10 * n  # never the n² of a block of common names or a shared phone
    # four times the customers, not sixteen times the pairs
    assert counts[8_000] <= 6 * counts[2_000]


# --- the review page shows the reasons with their values -----------------------------------------


def test_review_page_shows_reasons_with_values(manager, client: Client):
    a = make_customer(manager, name="刘萍平", address="成都市锦江区人民路208号")
    b = make_customer(manager, name="劉萍平", address="锦江区人民路208号")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "川AB724E"}, customer=a)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "川A B724E"}, customer=b)
    duplicates_find(actor=manager)
    pair = DuplicatePair.objects.get()
    stored = str(pair.reasons)
    assert "人民路" not in stored and "208" not in stored  # no address in the stored reasons
    client.force_login(manager.user)
    body = client.get(reverse("duplicates:duplicate_list")).content.decode()
    assert "川AB724E" in body
    assert "刘萍平 = 劉萍平" in body
    assert "人民路***号" in body and "人民路208号" not in body  # a manager sees addresses masked
    body = client.get(reverse("duplicates:duplicate_compare", args=[pair.pk])).content.decode()
    assert "川AB724E" in body and "刘萍平 = 劉萍平" in body


def test_api_reasons_carry_values_masked_for_the_caller(manager):
    from .test_api import bearer

    make_customer(manager, name="孙丽", mobile="13600001234")
    copy = make_customer(manager, name="孙莉")
    Customer.objects.filter(pk=copy.pk).update(mobile_index=Customer.objects.get(name="孙丽").mobile_index)
    duplicates_find(actor=manager)
    response = Client().get("/api/v1/customers/duplicates", **bearer("manager_a"))
    reasons = response.json()["items"][0]["reasons"]
    assert {"code": "same_mobile", "value": "136****1234"}.items() <= reasons[0].items()


# --- the on-entry check --------------------------------------------------------------------------


def test_entry_offers_the_existing_record_for_a_retyped_variant(manager):
    existing = make_customer(manager, name="刘萍平", mobile="13811112222", address="成都市锦江区人民路208号")
    with pytest.raises(Conflict) as exc:
        customer_create(actor=manager, data={"name": "劉 萍平", "mobile": "13700009999",
                                             "address": "锦江区人民路208号"})  # fmt: skip
    assert exc.value.duplicates[0]["id"] == existing.pk
    assert not exc.value.strong  # a new mobile: confirmable, not refused
    again = customer_create(actor=manager, data={"name": "劉 萍平", "mobile": "13700009999",
                                                 "address": "锦江区人民路208号"}, confirm_new=True)  # fmt: skip
    assert again.pk != existing.pk


def test_entry_offers_the_record_whose_other_phone_is_the_typed_mobile(manager):
    existing = make_customer(manager, name="王建华", mobile="13933334444", other_phones="13811112222")
    matches = customer_duplicates(actor=manager, cleaned={"name": "王建华", "mobile": "+8613811112222"})
    assert [m.pk for m in matches] == [existing.pk]


def test_entry_does_not_warn_about_a_new_distinct_person(manager):
    make_customer(manager, name="刘萍平", address="成都市锦江区人民路208号", district="锦江区")
    make_customer(manager, name="陈晓东", address="成都市青羊区西御街8号")
    created = customer_create(actor=manager, data={"name": "黄志明", "mobile": unique_mobile(),
                                                   "address": "成都市武侯区科华北路65号"})  # fmt: skip
    assert created.pk
    # a family member at the same address is not warned about either
    assert not customer_duplicates(actor=manager, cleaned={"name": "王秀英", "address": "锦江区人民路208号"})


def test_entry_does_not_warn_about_a_namesake_with_a_common_name(manager):
    for _i in range(6):
        make_customer(manager, name="张伟", district="锦江区")
    assert not customer_duplicates(actor=manager, cleaned={"name": "张伟", "district": "锦江区",
                                                           "mobile": unique_mobile()})  # fmt: skip


def test_the_quick_score_is_the_explained_score():
    """The finder filters candidates with quick_logit and explains only the survivors: both must
    agree on every pair, or pairs would be lost (or scored differently) silently."""
    import math

    from autocrm.customers.dedup import quick_logit, score_pair

    people = _generated_people(1_500, seed=5)
    rng = random.Random(9)
    for p in rng.sample(list(people.values()), 300):  # give some of them more evidence
        p.other_phone = f"m{rng.randrange(1, 1_500)}"
        p.community = rng.choice(["", "锦华苑", "万科城"])
        p.gender = rng.choice(["", "male", "female"])
        p.households = {1: rng.choice(["self", "child"])} if rng.random() < 0.3 else None
    stats = NameStats(p.name for p in people.values())
    pairs, _split = candidate_pairs(people, [(1, "same_plate", "川AB724E"), (2, "same_plate", "川AB724E")])
    assert pairs
    for (left, right), shared in pairs.items():
        score, _reasons = score_pair(people[left], people[right], shared, stats)
        logit = quick_logit(people[left], people[right], shared, stats)
        assert math.isclose(score, 1 / (1 + math.exp(-logit)), rel_tol=1e-9)


def test_abbreviated_district_and_a_birthday_typo_do_not_count_against(manager):
    make_customer(manager, name="蔡玲薇", district="静安区", address="上海市静安区南京西路1038号",
                  birthday="1982-05-07")  # fmt: skip
    make_customer(manager, name="蔡 玲薇", district="静安", address="南京西路1038号", birthday="1982-07-05")
    duplicates_find(actor=manager)
    pair = DuplicatePair.objects.get()
    assert {"similar_birthday", "same_district"} <= codes(pair) and "other_district" not in codes(pair)


def test_entry_does_not_warn_about_a_namesake_born_another_day(manager):
    make_customer(manager, name="王琪", district="静安区", birthday="1970-03-03")
    assert not customer_duplicates(actor=manager, cleaned={"name": "王琪", "district": "静安区",
                                                           "birthday": dt.date(1991, 8, 9)})  # fmt: skip
    assert customer_duplicates(actor=manager, cleaned={"name": "王琪", "district": "静安区"})  # as before


def test_entry_finds_the_same_mobile_among_many_namesakes(manager):
    own = make_customer(manager, name="李娜", mobile="13811112222", district="闵行区")
    for _i in range(55):  # more holders of the name than the check reads by name
        make_customer(manager, name="李娜", district="闵行区")
    matches = customer_duplicates(actor=manager, cleaned={"name": "李娜", "mobile": "+8613811112222"})
    assert matches[0].pk == own.pk
