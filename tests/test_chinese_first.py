"""Chinese first, checked: every role reads its pages in zh-Hans without English UI words, and
in English without Chinese UI text — names and data excepted.

For every role of ``core.roles.Role`` with a demo login, the test renders every page of that
role's navigation and the pages it reaches daily one click away (a customer's 360 page, a
vehicle, an import, a merge, the audit history), in both languages. The visible text is taken
from the parsed HTML (``uitext``): text nodes, the ``<title>``, and the title / placeholder /
aria-label / alt attributes; scripts and styles are skipped.

What is allowed is short and explained:

- in zh-Hans, the words of ``ALLOWED_LATIN`` (the product's name, standard abbreviations and
  units that Chinese UIs write in Latin letters), and any word that is data (a user name, an
  email, a VIN, a plate, a catalogue model name: every string stored in the database);
- in English, Chinese text that is data (names, addresses, stores, stored summaries) — but never
  a string that is itself a translation in the zh-Hans catalogue.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse
from uitext import visible_text

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.navigation import menu_for
from autocrm.core.permissions import can
from autocrm.core.roles import Role

pytestmark = pytest.mark.django_db

# Latin words a Chinese UI may show, and why.
ALLOWED_LATIN = {
    "autocrm",  # the product's name
    "vin",  # 车架号（VIN）: the code printed on the car and its papers
    "api",  # integrations are configured by people who call it the API
    "ip",  # IP 地址
    "pdf", "csv", "excel", "xlsx", "utf-8", "gbk",  # file formats and encodings people pick
    "km",  # kilometres
    "totp",  # the authenticator standard staff look for in their phone's app
    "id",  # 外部 ID / WeChat ID as the DMS and WeChat spell them
    "s",  # 4S店
    "dms",  # the dealer management system: what every 4S store calls the OEM's system
    "zw",  # the example of pinyin initials in the search hint (zw → 张伟)
    "smtp",  # 电子邮件（SMTP）: the mail server's settings come from the mail provider under this name
    "openid",  # a WeChat follower's id, as WeChat's own consoles spell it
    "csi", "nps",  # 客户满意度 (CSI) and 净推荐值 (NPS): the names OEMs and dealers give these scores
}  # fmt: skip
# Whole texts allowed as they are, and why.
ALLOWED_TEXT = {
    "English", "简体中文",  # the language switch names each language in itself, for those who cannot read the other
}  # fmt: skip
# Proper names that English labels show next to their English name so staff recognise them.
ALLOWED_CHINESE_NAMES = {"汽车之家", "懂车帝", "易车"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.@'’-]*")
CJK_RUN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
CJK = re.compile(r"[\u4e00-\u9fff]")
PO = Path(__file__).resolve().parents[1] / "src" / "autocrm" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@cache
def catalogue_translations() -> frozenset[str]:
    """Every Chinese string of the catalogue: seeing one of them on an English page is a leak."""
    import sys

    sys.path.insert(0, str(PO.parents[5] / "scripts"))
    from check_messages import parse_po

    return frozenset(v for v in parse_po(PO).values() if v and "%" not in v and "{" not in v)


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings_in(v)]
    return [str(value)] if isinstance(value, str) and value else []


def data_strings() -> tuple[set[str], set[str]]:
    """Every string stored in the database (decrypted; inside JSON too), and the Latin words of
    the text columns (not of JSON: reports and recorded changes hold keys like ``rows``, which
    must not excuse an untranslated word)."""
    strings: set[str] = set()
    words: set[str] = set()
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if not f.choices]
        text = [f.attname for f in fields if isinstance(f, (models.CharField, models.TextField))]
        json = [f.attname for f in fields if isinstance(f, models.JSONField)]
        if not text and not json:
            continue
        for row in model._default_manager.all().values_list(*text, *json):
            for i, value in enumerate(row):
                found = _strings_in(value)
                strings.update(found)
                if i < len(text):
                    words.update(w.lower() for s in found for w in LATIN_WORD.findall(s))
    return strings, words


def setup_data() -> None:
    """Something on every page: customers with vehicles, an import, a merge, an export."""
    from autocrm.core.sensitive import export_logged
    from autocrm.customers.merging import customer_merge
    from autocrm.customers.models import Customer
    from autocrm.customers.services import customer_tag
    from autocrm.customers.tests.factories import actor_for, make_customer
    from autocrm.imports.importing import import_job_commit, import_job_create
    from autocrm.vehicles.services import vehicle_create

    manager = actor_for("manager_a")
    for username in ("sales_a1", "sales_a2"):
        sales = actor_for(username)
        customer = make_customer(sales, name="王伟" if username == "sales_a1" else "赵丽", district="浦东新区")
        customer_tag(actor=manager, customer=customer, add=["golf"])
        advisor = User.objects.filter(username="advisor_a1").values_list("pk", flat=True).first()
        if advisor:
            Customer.objects.filter(pk=customer.pk).update(advisor_id=advisor)
    first, second = Customer.objects.order_by("pk")[:2]
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=first)
    vehicle_create(actor=manager, data={"vin": "LGXC16AF1K0123456", "plate": "沪B12345"}, customer=second)
    dup = make_customer(actor_for("sales_a1"), name="王玮", district="浦东新区")
    customer_tag(actor=manager, customer=dup, add=["自驾游"])  # the tag moves: a many-to-many row
    vehicle_create(actor=manager, data={"vin": "LFV2A21K8K3040077", "plate": "沪C12345"}, customer=dup)
    with audit.acting_as(manager):
        customer_merge(actor=manager, survivor=first, merged=dup)
        text = "客户姓名,手机号,外部编号\n张三,13812345671,X1\n王五,123,X3\n"
        upload = SimpleUploadedFile("客户.csv", text.encode(), content_type="text/csv")
        job = import_job_create(actor=manager, upload=upload, kind="customers", mode="valid_only")
        import_job_commit(actor=manager, job=job, mode="valid_only", background=False)
        export_logged(actor=manager, model=Customer, count=2, filters={"q": "王"})


def daily_pages(actor: Any) -> list[str]:
    """A role's navigation, and the pages one click away that it opens every day."""
    from autocrm.customers.models import CustomerMerge
    from autocrm.imports.models import ImportJob
    from autocrm.vehicles.models import Vehicle

    urls = [item["url"] for item in menu_for(actor)]
    customers = apps.get_model("customers", "Customer").objects.for_actor(actor, "view")
    customer = customers.filter(merged_into__isnull=True).order_by("pk").first()
    if customer is not None:
        urls.append(reverse("customers:customer_detail", args=[customer.pk]))
        if can(actor, "change", customer):
            urls.append(reverse("customers:customer_edit", args=[customer.pk]))
        if can(actor, "audit", customer) or can(actor, "view", apps.get_model("audit", "AuditEvent")):
            urls.append(reverse("audit:history", args=["customers.customer", customer.pk]))
    if can(actor, "add", customers.model):
        urls.append(reverse("customers:customer_create"))
    vehicle = Vehicle.objects.for_actor(actor, "view").order_by("pk").first()
    if vehicle is not None:
        urls.append(reverse("vehicles:vehicle_detail", args=[vehicle.pk]))
    job = ImportJob.objects.for_actor(actor, "view").order_by("pk").first()
    if job is not None:
        urls.append(reverse("imports:job_detail", args=[job.pk]))
    merge = CustomerMerge.objects.for_actor(actor, "view").order_by("pk").first()
    if merge is not None and can(actor, "view", merge):
        urls.append(reverse("duplicates:merge_detail", args=[merge.pk]))
    return list(dict.fromkeys(urls))


def english_words(texts: list[str], data: set[str], data_words: set[str]) -> list[str]:
    found = []
    for text in texts:
        if text in data or text in ALLOWED_TEXT:
            continue
        for word in LATIN_WORD.findall(text):
            lowered = word.lower().rstrip(".'’-")
            if len(lowered) <= 1 or lowered in ALLOWED_LATIN or lowered in data_words:
                continue
            found.append(f"{word!r} in {text[:80]!r}")
    return found


def chinese_ui(texts: list[str], data: set[str]) -> list[str]:
    leaks = catalogue_translations()
    chinese_data = sorted((d for d in data if CJK.search(d) and len(d) > 1), key=len, reverse=True)
    found = []
    for text in texts:
        if text in data or text in ALLOWED_TEXT:
            continue
        rest = text
        for value in chinese_data:  # names and data, taken out whole (a file 客户.csv, a user 集团总监 周明)
            if value in rest:
                rest = rest.replace(value, " ")
        for run in CJK_RUN.findall(rest):
            if not CJK.search(run) or run in ALLOWED_CHINESE_NAMES:
                continue
            if run not in leaks and any(run in d for d in data):
                continue
            found.append(f"{run!r} in {text[:80]!r}")
    return found


def role_users() -> dict[str, User]:
    """One demo login per role, for every role that has one."""
    out: dict[str, User] = {}
    for membership in Membership.objects.filter(is_active=True).select_related("user").order_by("user__username"):
        out.setdefault(membership.role, membership.user)
    return out


def check_role(role: Role, language: str) -> None:
    from autocrm.demo.services import demo_create

    demo_create()
    setup_data()
    users = role_users()
    if role.value not in users:
        pytest.skip(f"no demo login has the role {role.value!r} yet")
    user = users[role.value]
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()
    actor = actor_build(user=user, store_id=None)
    client = Client()
    client.force_login(user)
    data, data_words = data_strings()
    problems: list[str] = []
    pages = daily_pages(actor)
    assert pages, f"{role.value} has no page"
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, f"{role.value} {url}: {response.status_code}"
        texts = visible_text(response.content.decode())
        found = english_words(texts, data, data_words) if language == "zh-hans" else chinese_ui(texts, data)
        problems += [f"{url}: {p}" for p in found]
    assert not problems, f"{role.value} in {language}:\n" + "\n".join(dict.fromkeys(problems))


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_chinese_pages_show_no_english_ui_words(role: Role, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    check_role(role, "zh-hans")


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_english_pages_show_no_chinese_ui_text(role: Role, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    check_role(role, "en")
