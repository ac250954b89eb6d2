"""Imports keep everything and lose nothing (issue 10, item 5): rows of one person merged or
queued as chosen, rows matching a customer of the store filled, changed or queued, the
consultant and advisor columns mapped by name or login, and external IDs kept as aliases by
merges so the next import of the same DMS export updates the survivor."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.core import permissions
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.core.permissions import Grant, Scope
from autocrm.customers.merging import customer_merge, customer_merge_undo
from autocrm.customers.models import Customer, CustomerExternalId, DuplicatePair
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.imports import importing
from autocrm.imports.importing import import_job_check, import_job_choose, import_job_commit, import_job_create

HEADER = ["姓名", "手机号", "身份证号", "出生日期", "区", "详细地址", "外部编号", "销售顾问", "服务顾问"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def upload(rows, header=HEADER):
    padded = [list(r) + [""] * (len(header) - len(r)) for r in rows]
    text = "\n".join(",".join(r) for r in [header, *padded]) + "\n"
    return SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")


def run(actor, rows, **choices):
    job = import_job_create(actor=actor, upload=upload(rows), kind="customers", choices=choices)
    assert job.status == "checked", job.error
    return job


def warned(job):
    return {(w["row"], w["field"]): w["message"] for w in job.report["warnings"]}


def errors(job):
    return {(e["row"], e["field"]): e["message"] for e in job.report["errors"]}


REPEATED = [
    ["孙丽", "13700003333", "", "1985-04-02", "锦江区", "", "D-1"],
    ["孙丽", "137 0000 3333", "", "", "", "人民路208号", "D-2"],  # row 2's mobile: the same person
    ["赵强", "13700004444"],
]


# --------------------------------------------------------------------------- rows of one file


def test_rows_of_one_person_are_merged_into_one_customer(manager):
    job = run(manager, REPEATED)
    assert job.bad_rows == 0 and (job.report["new"], job.report["merged"], job.report["queued"]) == (2, 1, 0)
    assert job.report["counts"]["in_file"] == 1
    assert "row 2" in warned(job)[(3, "mobile")] and "merged" in warned(job)[(3, "mobile")]
    job = import_job_commit(actor=manager, job=job)
    assert (job.status, job.created_count, job.updated_count) == ("done", 2, 0)
    sun = Customer.objects.get(name="孙丽")  # one record
    assert (sun.address, sun.district, str(sun.birthday)) == ("人民路208号", "锦江区", "1985-04-02")  # blanks filled
    assert sun.external_id == "D-1" and list(sun.external_aliases.values_list("external_id", flat=True)) == ["D-2"]
    assert not DuplicatePair.objects.exists()


def test_a_different_mobile_of_the_same_person_is_kept_as_an_other_phone(manager):
    rows = [
        ["李静", "13700005555", "11010519491231002X"],
        ["李静", "13800006666", "11010519491231002X", "", "", "", "D-9"],  # the same ID number, a new mobile
    ]
    job = import_job_commit(actor=manager, job=run(manager, rows))
    li = Customer.objects.get(name="李静")
    assert (li.mobile, li.other_phones, li.external_id) == ("+8613700005555", "+8613800006666", "D-9")
    assert job.report["merged"] == 1


def test_rows_of_one_person_can_be_queued_for_review_instead(manager):
    job = run(manager, REPEATED, in_file="review")
    assert (job.report["new"], job.report["merged"], job.report["queued"]) == (3, 0, 1)
    assert job.report["counts"]["in_file"] == 1 and "queued for review" in warned(job)[(3, "mobile")]
    job = import_job_commit(actor=manager, job=job)
    assert job.created_count == 3
    first, second = Customer.objects.filter(name="孙丽").order_by("pk")
    pair = DuplicatePair.objects.get()
    assert (pair.customer_a_id, pair.customer_b_id, pair.status) == (first.pk, second.pk, "open")
    assert {"same_mobile", "same_name"} <= {r["code"] for r in pair.reasons} and pair.score > 0.9
    assert second.external_id == "D-2"  # each its own record, with its own key


def test_the_same_external_id_twice_is_always_one_record(manager):
    rows = [["周杰", "13700007777", "", "", "", "", "X-1"], ["周杰伦", "13700008888", "", "", "", "", "X-1"]]
    job = import_job_commit(actor=manager, job=run(manager, rows, in_file="review"))
    assert job.status == "done" and Customer.objects.filter(external_id="X-1").count() == 1
    assert Customer.objects.get(external_id="X-1").other_phones == "+8613700008888"


def test_same_name_birthday_and_district_is_a_strong_match_in_the_file(manager):
    rows = [["王芳", "13700001001", "", "1990-01-01", "锦江区"], ["王 芳", "13700001002", "", "1990-01-01", "锦江区"]]
    job = run(manager, rows)
    assert job.report["merged"] == 1 and "same name, birthday and district" in warned(job)[(3, "name")]


# --------------------------------------------------------------------------- the store's customers


def test_a_row_matching_a_customer_fills_its_blanks_by_default(manager):
    zhang = make_customer(manager, name="张伟", mobile="13812345678")
    job = run(manager, [["张伟强", "138 1234 5678", "", "", "武侯区", "科华北路1号", "DMS-7"]])
    assert (job.bad_rows, job.report["updates"], job.report["new"]) == (0, 1, 0)
    assert job.report["counts"]["existing"] == 1 and f"customer {zhang.pk}" in warned(job)[(2, "mobile")]
    job = import_job_commit(actor=manager, job=job)
    assert (job.created_count, job.updated_count) == (0, 1)
    zhang.refresh_from_db()
    assert (zhang.name, zhang.address, zhang.district, zhang.external_id) == ("张伟", "科华北路1号", "武侯区", "DMS-7")


def test_a_row_matching_a_customer_can_change_its_values(manager):
    zhang = make_customer(manager, name="张伟", mobile="13812345678", id_number="11010519491231002X")
    job = run(manager, [["张伟强", "13900001234", "11010519491231002X", "", "武侯区"]], existing="change")
    assert "values are changed" in warned(job)[(2, "id_number")]
    import_job_commit(actor=manager, job=job)
    zhang.refresh_from_db()
    assert (zhang.name, zhang.name_initials, zhang.mobile, zhang.mobile_last4) == (
        "张伟强", "zwq", "+8613900001234", "1234",
    )  # fmt: skip
    assert zhang.other_phones == "+8613812345678"  # the old mobile is not lost
    everyone = Customer.objects.for_actor(manager)
    from autocrm.customers.search import customer_search

    assert list(customer_search(everyone, "13900001234")) == [zhang]


def test_an_address_or_other_phone_an_import_changes_moves_the_finders_keys(manager):
    """The finder and the entry check find a customer by the street and number and by the old
    mobile kept as an other phone: an update through the import recomputes both keys."""
    wang = make_customer(manager, name="王丽", mobile="13812340000", id_number="11010519491231002X",
                         address="锦江区红星路1号")  # fmt: skip
    job = run(manager, [["王丽", "13900005678", "11010519491231002X", "", "锦江区", "人民路208号"]], existing="change")
    import_job_commit(actor=manager, job=job)
    wang.refresh_from_db()
    assert wang.address == "人民路208号" and wang.other_phones == "+8613812340000"
    keys = Customer._meta.get_field("address_key"), Customer._meta.get_field("other_phone_index")
    assert wang.address_key == keys[0].compute("成都市锦江区人民路208号")
    assert wang.other_phone_index == keys[1].compute("13812340000")


def test_a_row_matching_a_customer_can_be_queued_for_review(manager):
    zhang = make_customer(manager, name="张伟", mobile="13812345678")
    job = run(manager, [["张伟", "13812345678", "", "", "", "", "DMS-8"]], existing="review")
    assert (job.report["new"], job.report["queued"]) == (1, 1)
    job = import_job_commit(actor=manager, job=job)
    new = Customer.objects.get(external_id="DMS-8")
    pair = DuplicatePair.objects.get()
    assert (pair.customer_a_id, pair.customer_b_id) == (zhang.pk, new.pk)
    assert "same_mobile" in {r["code"] for r in pair.reasons}
    zhang.refresh_from_db()
    assert zhang.external_id == ""  # untouched


def test_the_choices_can_be_changed_and_checked_again(manager):
    make_customer(manager, name="张伟", mobile="13812345678")
    job = run(manager, [*REPEATED, ["张伟", "13812345678"]])
    assert (job.report["merged"], job.report["updates"]) == (1, 1)
    job = import_job_choose(actor=manager, job=job, choices={"in_file": "review", "existing": "review"})
    job = import_job_check(actor=manager, job=job)
    assert (job.report["merged"], job.report["updates"], job.report["queued"]) == (0, 0, 2)
    assert job.report["choices"] == {"in_file": "review", "existing": "review"}
    with pytest.raises(ValidationError) as exc:
        import_job_choose(actor=manager, job=job, choices={"in_file": "drop"})
    assert "in_file" in exc.value.fields
    with pytest.raises(ValidationError):
        import_job_create(actor=manager, upload=upload(REPEATED), kind="customers", choices={"nonsense": "x"})


# --------------------------------------------------------------------------- consultant and advisor


def test_consultant_and_advisor_are_mapped_by_name_or_login(manager):
    rows = [
        ["甲", "13700002001", "", "", "", "", "", "李娜", "陈刚"],  # by name
        ["乙", "13700002002", "", "", "", "", "", "sales_a2", "advisor_a1"],  # by login
        ["丙", "13700002003", "", "", "", "", "", "路人甲"],  # nobody of this store
        ["丁", "13700002004", "", "", "", "", "", "周婷"],  # store b's consultant: unknown here
        ["戊", "13700002005", "", "", "", "", "", "陈刚"],  # an advisor named as consultant
    ]
    job = run(manager, rows)
    assert job.mapping["columns"]["consultant"] == 7 and job.mapping["columns"]["advisor"] == 8
    assert job.bad_rows == 0
    found = warned(job)
    assert "路人甲" in found[(4, "consultant")] and "周婷" in found[(5, "consultant")]
    assert "not a sales consultant" in found[(6, "consultant")]
    import_job_commit(actor=manager, job=job)
    by_name = {c.name: c for c in Customer.objects.filter(name__in=["甲", "乙", "丙", "丁", "戊"])}
    assert by_name["甲"].consultant == User.objects.get(username="sales_a1")
    assert by_name["甲"].advisor == User.objects.get(username="advisor_a1")
    assert by_name["乙"].consultant == User.objects.get(username="sales_a2")
    assert by_name["乙"].advisor == User.objects.get(username="advisor_a1")
    assert by_name["丙"].consultant is None and by_name["丁"].consultant is None and by_name["戊"].consultant is None


def test_a_name_two_staff_share_is_an_error_naming_the_row(manager):
    User.objects.filter(username="sales_a2").update(display_name="李娜")
    job = run(
        manager,
        [["甲", "13700003001", "", "", "", "", "", "李娜"], ["乙", "13700003002", "", "", "", "", "", "sales_a2"]],
    )
    assert job.bad_rows == 1 and "李娜" in errors(job)[(2, "consultant")]
    assert "use their login" in errors(job)[(2, "consultant")]


# --------------------------------------------------------------------------- external-id aliases


def test_a_merge_keeps_every_external_id_and_the_next_import_updates_the_survivor(manager):
    rows = [["刘萍", "13700004001", "", "", "", "", "DMS-A"], ["劉萍", "13700004002", "", "", "", "", "DMS-B"]]
    import_job_commit(actor=manager, job=run(manager, rows))
    a, b = Customer.objects.get(external_id="DMS-A"), Customer.objects.get(external_id="DMS-B")
    merge = customer_merge(actor=manager, survivor=a, merged=b, choices={"external_id": "merged"})
    a.refresh_from_db()
    assert a.external_id == "DMS-B"  # chosen from the merged record; the survivor's own stays as an alias
    assert set(a.external_aliases.values_list("external_id", flat=True)) == {"DMS-A"}
    count = Customer.objects.count()
    job = run(manager, rows)  # the same DMS export again
    assert (job.report["new"], job.report["updates"]) == (0, 2)
    job = import_job_commit(actor=manager, job=job)
    assert (job.created_count, job.updated_count) == (0, 2) and Customer.objects.count() == count
    # Undo puts both records back as they were: the alias the merge made is gone.
    customer_merge_undo(actor=manager, merge=merge)
    assert not CustomerExternalId.objects.filter(external_id="DMS-A").exists()
    b.refresh_from_db()
    assert b.external_id == "DMS-B" and b.merged_into_id is None


def test_aliases_move_with_the_merged_record_through_a_chain_of_merges(manager):
    rows = [
        ["刘萍", "13700005001", "", "", "", "", "K-1"],
        ["刘萍", "13700005001", "", "", "", "", "K-2"],  # folded into row 2: K-2 an alias of it
        ["刘平", "13700005003", "", "", "", "", "K-3"],
    ]
    import_job_commit(actor=manager, job=run(manager, rows))
    first, third = Customer.objects.get(external_id="K-1"), Customer.objects.get(external_id="K-3")
    assert list(first.external_aliases.values_list("external_id", flat=True)) == ["K-2"]
    customer_merge(actor=manager, survivor=third, merged=first, choices={"external_id": "survivor"})
    assert set(third.external_aliases.values_list("external_id", flat=True)) == {"K-1", "K-2"}
    job = import_job_commit(actor=manager, job=run(manager, rows))
    assert (job.created_count, job.updated_count) == (0, 3)
    assert Customer.objects.filter(merged_into__isnull=True, name__startswith="刘").count() == 1


# --------------------------------------------------------------------------- scope


@pytest.fixture
def consultant(manager, monkeypatch):
    """A store that lets its sales consultants import (the default rules do not)."""
    rules = permissions._RULES["imports.importjob"]
    monkeypatch.setitem(rules, "sales", Grant(frozenset({"view", "add"}), Scope.OWN))
    return actor_for("sales_a1")


def test_a_consultants_import_stays_in_their_scope(manager, consultant):
    colleague = User.objects.get(username="sales_a2")
    theirs = make_customer(manager, name="钱二", mobile="13700006001", consultant_id=colleague.pk)
    Customer.objects.filter(pk=theirs.pk).update(external_id="C-2")
    rows = [
        ["钱二", "13700006001", "", "", "武侯区"],  # a colleague's customer's mobile: queued, not updated
        ["孙三", "13700006002", "", "", "", "", "C-2"],  # a colleague's customer's external ID: refused
        ["赵四", "13700006003", "", "", "", "", "", "张伟"],  # a colleague as consultant: refused
        ["周五", "13700006004", "", "", "", "", "", "孙强"],  # another store's manager: unknown here
        ["吴六", "13700006005", "", "", "", "", "", "李娜"],  # themselves: fine
    ]
    job = run(consultant, rows)
    assert set(errors(job)) == {(3, "external_id"), (4, "consultant")}
    assert "queued for review" in warned(job)[(2, "mobile")] and "孙强" in warned(job)[(5, "consultant")]
    job = import_job_commit(actor=consultant, job=job, mode="valid_only")
    assert job.status == "done" and (job.created_count, job.updated_count) == (3, 0)
    theirs.refresh_from_db()
    assert theirs.district == "" and theirs.consultant == colleague
    mine = Customer.objects.get(name="吴六")
    assert mine.consultant_id == consultant.user_id
    assert DuplicatePair.objects.filter(customer_a=theirs).exists()
    # The imported rows are the consultant's own, so they can see them.
    assert set(Customer.objects.for_actor(consultant).values_list("name", flat=True)) >= {"钱二", "周五", "吴六"}


# --------------------------------------------------------------------------- API and page


def test_api_takes_the_choices_at_upload_and_later(manager, demo):
    make_customer(manager, name="张伟", mobile="13812345678")
    _, token = token_issue_session(user=User.objects.get(username="manager_a"))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    text = "\n".join(",".join(r) for r in [HEADER, *[r + [""] * (9 - len(r)) for r in REPEATED]]) + "\n"
    response = client.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("p.csv", text.encode()), "kind": "customers",
         "choices": json.dumps({"in_file": "review"})},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["choices"] == {"in_file": "review", "existing": "fill"}
    assert (body["queued_rows"], body["merged_rows"], body["counts"]["in_file"]) == (1, 0, 1)
    response = client.post(
        f"/api/v1/customers/imports/{body['id']}/choices",
        {"choices": {"in_file": "merge"}},
        content_type="application/json",
    )
    assert response.status_code == 200 and (response.json()["merged_rows"], response.json()["queued_rows"]) == (1, 0)
    bad = client.post(
        f"/api/v1/customers/imports/{body['id']}/choices",
        {"choices": {"in_file": "x"}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "in_file" in json.dumps(bad.json())
    bad = client.post(
        "/api/v1/customers/imports", {"file": SimpleUploadedFile("p.csv", text.encode()), "choices": "[1]"}
    )
    assert bad.status_code == 400
    bad = client.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("p.csv", text.encode()), "choices": json.dumps({"in_file": ["merge"]})},
    )
    assert bad.status_code == 400 and "in_file" in json.dumps(bad.json())


def test_the_dry_run_page_offers_the_choices_with_their_counts(manager, client):
    job = run(manager, REPEATED)
    client.force_login(User.objects.get(username="manager_a"))
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="choice-in_file-merge"' in page and 'data-testid="choice-existing-review"' in page
    assert 'data-testid="choice-in_file-count"' in page
    response = client.post(
        f"/imports/{job.pk}/", {"action": "choose", "choice_in_file": "review", "choice_existing": "fill"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert importing.job_choices(job)["in_file"] == "review" and job.report["queued"] == 1


def test_namesakes_born_the_same_day_with_two_id_numbers_are_two_people(manager):
    rows = [
        ["王芳", "13700001101", "110105199001010029", "", "锦江区"],
        ["王芳", "13700001102", "110105199001010045", "", "锦江区"],  # the same birthday, another ID number
        ["王芳", "13700001103", "", "1990-01-01", "锦江区"],  # no ID number: the first one's
    ]
    job = run(manager, rows)
    assert (job.report["new"], job.report["merged"]) == (2, 1)
    assert "row 2" in warned(job)[(4, "name")]


def test_a_row_matching_a_customer_fills_an_empty_consultant(manager):
    zhang = make_customer(manager, name="张伟", mobile="13812345678")
    import_job_commit(
        actor=manager, job=run(manager, [["张伟", "13812345678", "", "", "", "", "", "李娜", "advisor_a1"]])
    )
    zhang.refresh_from_db()
    assert zhang.consultant.username == "sales_a1" and zhang.advisor.username == "advisor_a1"


def test_only_who_may_act_on_the_job_may_change_its_choices(manager):
    job = run(actor_for("sales_manager_a"), REPEATED)
    with pytest.raises(PermissionDenied):
        import_job_choose(actor=actor_for("service_manager_a"), job=job, choices={"in_file": "review"})
    with pytest.raises(NotFound):
        importing.import_job_get(actor=actor_for("manager_b"), pk=job.pk)
    job.refresh_from_db()
    assert importing.job_choices(job)["in_file"] == "merge"
    job = import_job_choose(actor=manager, job=job, choices={"in_file": "review"})  # the store's manager may
    assert importing.job_choices(job)["in_file"] == "review"


def test_the_360_and_the_api_show_the_aliases_beside_the_external_id(manager, client):
    rows = [["刘萍", "13700007001", "", "", "", "", "DMS-A"], ["刘萍", "13700007001", "", "", "", "", "DMS-B"]]
    import_job_commit(actor=manager, job=run(manager, rows))
    liu = Customer.objects.get(external_id="DMS-A")
    user = User.objects.get(username="manager_a")
    _, token = token_issue_session(user=user)
    body = Client().get(f"/api/v1/customers/{liu.pk}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (body["external_id"], body["external_id_aliases"]) == ("DMS-A", ["DMS-B"])
    client.force_login(user)
    page = client.get(f"/customers/{liu.pk}/").content.decode()
    assert "DMS-B" in page
