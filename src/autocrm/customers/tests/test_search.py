"""The search box finds a customer by what people remember of their car — through the search
keys vehicles registers — in one query, without DISTINCT."""

import pytest

from autocrm.core.identifiers import vin_with_check_digit
from autocrm.customers.search import SEARCH_KEYS, classify
from autocrm.customers.selectors import customer_list
from autocrm.vehicles.services import vehicle_create

from .factories import actor_for, make_customer


@pytest.fixture
def owners(demo):
    manager = actor_for("manager_a")
    zhang = make_customer(manager, name="张伟")
    li = make_customer(manager, name="李娜")
    wang = make_customer(manager, name="王强")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪A12345"}, customer=zhang)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "沪AD67890"}, customer=li)
    vehicle_create(
        actor=manager, data={"vin": vin_with_check_digit("LFV2A21KA3012345"), "plate": "沪B99999"}, customer=wang
    )
    other_store = actor_for("manager_b")
    stranger = make_customer(other_store, name="赵六")  # would show if scope leaked
    vehicle_create(
        actor=other_store,
        data={"vin": vin_with_check_digit("LSJA24U6JG269148"), "plate": "浙A12345"},
        customer=stranger,
    )
    return {"manager": manager, "zhang": zhang, "li": li, "wang": wang}


def found(actor, q):
    return sorted(c.name for c in customer_list(actor=actor, filters={"q": q}))


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("沪A12345", ["张伟"]),  # the full plate
        ("沪a 12345", ["张伟"]),  # any case and spacing
        ("LSJA24U62JG269225", ["张伟"]),  # the full VIN
        ("lsja24u62jg269225", ["张伟"]),
        ("269225", ["张伟"]),  # the VIN's last six
        ("042788", ["李娜"]),
        ("A12345", ["张伟"]),  # the plate without its province character
        ("a12345", ["张伟"]),
        ("a 123 45", ["张伟"]),
        ("AD67890", ["李娜"]),  # a new-energy plate without its province
        ("ad-67890", ["李娜"]),
        ("67890", ["李娜"]),  # the plate's last digits
        ("012345", ["王强"]),  # six digits: a VIN's last six here (a plate's tail elsewhere)
        ("99999", ["王强"]),
        ("B9999", []),  # no plate ends so, no VIN does
        ("zw", ["张伟"]),  # letters alone stay pinyin
    ],
)
def test_customer_found_by_vehicle_keys_in_scope(owners, query, names):
    assert found(owners["manager"], query) == names


def test_vehicle_search_is_one_query_without_distinct(owners, django_assert_num_queries):
    for query in ("沪A12345", "LSJA24U62JG269225", "269225", "A12345", "12345"):
        qs = customer_list(actor=owners["manager"], filters={"q": query})
        with django_assert_num_queries(1) as queries:
            assert len(list(qs)) == 1
        assert "DISTINCT" not in queries.captured_queries[0]["sql"].upper()


def test_without_registered_keys_vehicle_shapes_find_nothing(owners, monkeypatch):
    """customers works alone: the vehicle keys come only from the registry."""
    monkeypatch.setattr(SEARCH_KEYS, "_entries", {})
    assert found(owners["manager"], "沪A12345") == []
    assert found(owners["manager"], "12345") == []
    assert found(owners["manager"], "张") == ["张伟"]


def test_classify_keeps_to_the_customers_own_keys():
    assert classify("13812345678") == ("mobile", "13812345678")
    assert classify("5678") == ("last4", "5678")
    assert classify("Zhang Wei") == ("pinyin", "zhangwei")
    assert classify("张伟") == ("name", "张伟")


@pytest.fixture
def named(demo):
    manager = actor_for("manager_a")
    for name in ("王伟", "王伟明", "李王伟", "王小伟", "伟王", "王", "欧阳 娜娜", "上海龙龙汽车服务有限公司"):
        make_customer(manager, name=name, kind="company" if "公司" in name else "person")
    make_customer(actor_for("manager_b"), name="王伟")  # another store's: never found
    return manager


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("王伟", ["李王伟", "王伟", "王伟明"]),  # every name holding the pair, not 王小伟 nor 伟王
        ("伟", ["李王伟", "伟王", "王伟", "王伟明", "王小伟"]),  # one character: its own entry
        ("王伟明", ["王伟明"]),
        ("伟明", ["王伟明"]),  # the given name alone
        ("王王", []),  # both characters, never side by side
        ("欧阳 娜娜", ["欧阳 娜娜"]),  # a space inside is part of the substring
        ("阳 娜", ["欧阳 娜娜"]),
        ("阳娜", []),
        ("龙龙汽车", ["上海龙龙汽车服务有限公司"]),  # deep inside a long company name
        ("龙龙龙", []),
    ],
)
def test_name_search_finds_every_name_holding_the_substring(named, query, names):
    """Names are found by any substring through the index on their characters and pairs
    (PostgreSQL, migration 0012; a plain LIKE on SQLite): the same customers either way."""
    assert found(named, query) == sorted(names)


def test_name_search_reads_the_pairs_index(named):
    """On PostgreSQL the search of a two-character name asks the index for its pair."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index")
    queryset = customer_list(actor=named, filters={"q": "王伟"}).order_by("-id")[:51]
    sql, params = queryset.query.sql_with_params()
    assert "customer_name_grams" in sql and "王伟" in params
    with connection.cursor() as cursor:  # the expression is the index's (a small table: no seq scan)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_name_grams" in plan and "Bitmap Index Scan" in plan, plan
