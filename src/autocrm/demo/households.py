"""Demo households, so the 360 page's household panel shows real data.

One demo customer in ``FAMILY_EVERY`` heads a family: a spouse and (mostly) a child are added
as new customers of the same store, at the head's address, with the head's consultant and
advisor (whoever sees the head sees the family), the child with the father's surname. One in
``COMPANY_EVERY`` drives for a company: a company customer at the driver's address is added, the
driver linked to it as its company driver. Family members carry no ID number (the buyer gave
theirs; a spouse at the counter rarely does), so no ID can collide with a generated one; their
mobiles come from the generator's own key space above every customer's, so none collides either.

Written in bulk like the rest of the demo (``loader``), deterministic for a seed, idempotent: a
store that already has households gets none. External ids ``demo:hh:<key>`` (members) and
``demo:co:<key>`` (companies) keep them apart from the duplicate finder's truth (``demo:<key>``)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc as uscc_number

from autocrm.core.bulk import insert_instances
from autocrm.customers.choices import CustomerKind, LifecycleStage, Relation, SourceChannel
from autocrm.customers.models import Customer, Household, HouseholdMember, TimelineEvent
from autocrm.customers.search import refresh_search_keys
from autocrm.tenancy.models import Store

from .data.names import SURNAMES
from .generators import CITIES, DemoGenerator
from .loader import EXTERNAL_PREFIX, STORE_CITIES, STORE_KEY_STRIDE, clean_mobile

FAMILY_EVERY, FAMILY_AT = 10, 3  # customer key % 10 == 3 heads a family
COMPANY_EVERY, COMPANY_AT = 50, 21  # key % 50 == 21 drives for a company (never a family head: 21 % 10 == 1)
CHILD_SHARE = 0.7  # families with a child on record
MEMBER_KEY_BASE = 9_000_000  # generator keys of new members: above any store's customers (stride 10,000,000)
BATCH = 1000
COMPOUND_SURNAMES = tuple(s for s, _w in SURNAMES if len(s) > 1)
COMPANY_WORDS = ("恒通", "华信", "安达", "瑞丰", "金桥", "宏远", "新纪元", "东方", "同创", "嘉禾", "联合", "博远")
COMPANY_TRADES = ("贸易", "物流", "建设工程", "科技", "餐饮管理", "医药", "电子", "文化传媒", "汽车租赁", "实业")


@dataclass
class HouseholdStats:
    families: int = 0
    companies: int = 0
    members: int = 0
    skipped_stores: list[str] = field(default_factory=list)


def _key(external_id: str) -> int | None:
    """The generator key of an original demo customer (``demo:<key>``), None for anything else."""
    rest = external_id[len(EXTERNAL_PREFIX) :] if external_id.startswith(EXTERNAL_PREFIX) else ""
    return int(rest) if rest.isdigit() else None


def _surname(name: str) -> str:
    return next((s for s in COMPOUND_SURNAMES if name.startswith(s)), name[:1])


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _uscc(rng: random.Random, district_code: str) -> str:
    body = "91" + district_code + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


class _Builder:
    """New customers, households and links of one store."""

    def __init__(self, *, store: Store, index: int, seed: int, today: dt.date) -> None:
        self.store, self.today = store, today
        self.gen = DemoGenerator(seed, city=STORE_CITIES[store.code], today=today)
        self.rng = random.Random(f"{seed}:{store.code}:households")
        self.next_key = index * STORE_KEY_STRIDE + MEMBER_KEY_BASE
        self.districts = {d[0]: d[1] for d in CITIES[STORE_CITIES[store.code]]["districts"]}
        self.mobile_index = Customer._meta.get_field("mobile_index")
        self.id_index = Customer._meta.get_field("id_number_index")

    def _person(self, head: Customer, *, name: str, gender: str, birthday: dt.date, tag: str) -> Customer:
        key = self.next_key
        self.next_key += 1
        adult = birthday <= _years_before(self.today, 18)
        c = Customer(
            store=self.store,
            kind=CustomerKind.PERSON,
            name=name,
            mobile="+86" + clean_mobile(self.gen.mobile(key)) if adult else "",
            gender=gender,
            birthday=birthday,
            province=head.province,
            city=head.city,
            district=head.district,
            address=head.address,
            community=head.community,
            preferred_channel=head.preferred_channel,
            source_channel=SourceChannel.REFERRAL,
            consultant_id=head.consultant_id,
            advisor_id=head.advisor_id,
            lifecycle_stage=LifecycleStage.PROSPECT,
            external_id=f"{EXTERNAL_PREFIX}{tag}:{key}",
            is_minor=birthday > _years_before(self.today, 14),
        )
        self._keys(c)
        return c

    def _keys(self, c: Customer) -> None:
        c.mobile_index = self.mobile_index.compute(c.mobile)
        c.id_number_index = self.id_index.compute(c.id_number)
        c.address_key = Customer._meta.get_field("address_key").compute(c.address)
        refresh_search_keys(c)

    def family(self, head: Customer) -> list[tuple[Customer, str]]:
        """The head's spouse and maybe a child, each with its relation."""
        rng = self.rng
        head_birth = head.birthday or _years_before(self.today, 40)
        spouse_gender = "female" if head.gender != "female" else "male"
        spouse_birth = head_birth + dt.timedelta(days=rng.randint(-6 * 365, 4 * 365))
        spouse_birth = min(spouse_birth, _years_before(self.today, 20))
        spouse = self._person(
            head, name=self.gen.name(spouse_gender), gender=spouse_gender, birthday=spouse_birth, tag="hh"
        )
        members: list[tuple[Customer, str]] = [(spouse, Relation.SPOUSE)]
        younger = max(head_birth, spouse_birth)
        child_birth = younger + dt.timedelta(days=rng.randint(23 * 365, 33 * 365))
        if rng.random() < CHILD_SHARE and child_birth < self.today:
            child_gender = "male" if rng.random() < 0.52 else "female"
            father = head if head.gender != "female" else spouse
            given = _given(self.gen.name(child_gender))
            child = self._person(
                head, name=_surname(father.name) + given, gender=child_gender, birthday=child_birth, tag="hh"
            )
            members.append((child, Relation.CHILD))
        return members

    def company(self, driver: Customer) -> Customer:
        rng = self.rng
        key = self.next_key
        self.next_key += 1
        city = (driver.city or "").removesuffix("市")
        name = f"{city}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_TRADES)}有限公司"
        c = Customer(
            store=self.store,
            kind=CustomerKind.COMPANY,
            name=name,
            mobile="+86" + clean_mobile(self.gen.mobile(key)),
            uscc=_uscc(rng, self.districts.get(driver.district, "310115")),
            province=driver.province,
            city=driver.city,
            district=driver.district,
            address=driver.address,
            community=driver.community,
            source_channel=SourceChannel.WALK_IN,
            consultant_id=driver.consultant_id,
            advisor_id=driver.advisor_id,
            lifecycle_stage=LifecycleStage.PROSPECT,
            external_id=f"{EXTERNAL_PREFIX}co:{key}",
        )
        self._keys(c)
        return c


def _given(full: str) -> str:
    return full[len(_surname(full)) :]


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


HEAD_FIELDS = (
    "pk", "store_id", "kind", "name", "gender", "birthday", "province", "city", "district", "address", "community",
    "preferred_channel", "consultant_id", "advisor_id", "external_id",
)  # fmt: skip


def demo_households_load(*, stores: dict[str, Store], seed: int = 42, today: dt.date | None = None) -> HouseholdStats:
    """Families and company drivers among each demo store's generated customers (see above)."""
    stats = HouseholdStats()
    today = today or timezone.localdate()
    for index, code in enumerate(sorted(stores)):
        store = stores[code]
        if code not in STORE_CITIES:
            continue
        if Household.objects.filter(store=store).exists():
            stats.skipped_stores.append(code)
            continue
        originals = Customer.objects.filter(
            store=store, kind=CustomerKind.PERSON, external_id__startswith=EXTERNAL_PREFIX
        ).values_list("pk", "external_id")
        families, drivers = [], []
        for pk, external_id in originals.iterator(chunk_size=5000):
            key = _key(external_id)
            if key is None:
                continue
            if key % FAMILY_EVERY == FAMILY_AT:
                families.append(pk)
            elif key % COMPANY_EVERY == COMPANY_AT:
                drivers.append(pk)
        builder = _Builder(store=store, index=index, seed=seed, today=today)
        chosen = sorted(families + drivers)
        family_set = set(families)
        for batch in _chunks(chosen, BATCH):
            with transaction.atomic():
                _load_batch(builder, batch, family_set, stats)
    return stats


def _load_batch(builder: _Builder, pks: list[int], families: set[int], stats: HouseholdStats) -> None:
    store = builder.store
    people = {c.pk: c for c in Customer.objects.filter(pk__in=pks).only(*HEAD_FIELDS)}
    groups: list[tuple[Customer, str, list[tuple[Customer, str]]]] = []  # (anchor, name, [(member, relation)])
    for pk in pks:
        person = people[pk]
        if pk in families:
            groups.append((person, f"{person.name}家", builder.family(person)))
            stats.families += 1
        else:
            company = builder.company(person)
            groups.append((company, company.name, [(person, Relation.DRIVER)]))
            stats.companies += 1
    new = [c for anchor, _n, members in groups for c in [anchor, *(m for m, _r in members)] if c.pk is None]
    insert_instances(Customer, new)
    stats.members += sum(1 for c in new if c.kind == CustomerKind.PERSON)
    households = Household.objects.bulk_create([Household(store=store, name=name[:100]) for _a, name, _m in groups])
    links, events = [], []
    at = timezone.now()
    for household, (anchor, _name, members) in zip(households, groups, strict=True):
        links.append(HouseholdMember(store=store, household=household, customer=anchor, relation=Relation.SELF))
        for member, relation in members:
            links.append(HouseholdMember(store=store, household=household, customer=member, relation=relation))
            events.append(
                TimelineEvent(store=store, customer=anchor, kind="household.linked", at=at, summary=member.name)
            )
    HouseholdMember.objects.bulk_create(links)
    TimelineEvent.objects.bulk_create(events)


def demo_households_hook(*, organization: Any, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook, after the customers: households when customers were asked for."""
    if int(options.get("customers") or 0) > 0:
        demo_households_load(stores=stores, seed=int(options.get("seed") or 42))
