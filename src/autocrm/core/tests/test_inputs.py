"""The shared input parsers: clean values through, every bad one a field error (never a raise
other than the collected ValidationError), hostile values included."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import models
from django.utils import timezone

from autocrm.core import inputs
from autocrm.core.errors import ValidationError


class Colour(models.TextChoices):
    RED = "red", "Red"
    BLUE = "blue", "Blue"


HOSTILE = ["\x00", ["a"], {"a": 1}, True, float("nan"), float("inf"), "1e999999", "9" * 400, object()]


def test_errors_collect_every_field_and_raise_once():
    errors = inputs.Errors()
    assert not errors
    errors.add("a", "one")
    errors.add("a", "two")
    errors.add("b", "three")
    with pytest.raises(ValidationError) as caught:
        errors.raise_if_any()
    assert caught.value.fields == {"a": ["one", "two"], "b": ["three"]}


def test_text_strips_limits_and_refuses_nul_and_containers():
    errors = inputs.Errors()
    assert inputs.text(errors, {"n": "  刘萍平 "}, "n", 10) == "刘萍平"
    assert inputs.text(errors, {}, "n", 10) == ""
    assert not errors
    assert inputs.text(errors, {"nul": "a\x00b"}, "nul", 10) == ""
    assert inputs.text(errors, {"n": "x" * 11}, "n", 10) == ""
    assert inputs.text(errors, {"list": ["x"]}, "list", 10) == ""
    assert inputs.text(errors, {"bool": True}, "bool", 10) == ""
    assert inputs.text(errors, {}, "req", 10, required=True) == ""
    assert set(errors.fields) == {"nul", "n", "list", "bool", "req"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1280", Decimal("1280.00")), ("1,280.5", Decimal("1280.50")), (12, Decimal("12.00")),
     (Decimal("0.01"), Decimal("0.01")), ("", None), (None, None)],
)  # fmt: skip
def test_money_to_the_fen(value, expected):
    errors = inputs.Errors()
    assert inputs.money(errors, value, "price") == expected
    assert not errors


@pytest.mark.parametrize("value", ["-1", "1.005", "100000000", "abc", *HOSTILE])
def test_money_refuses_with_the_field_named(value):
    errors = inputs.Errors()
    assert inputs.money(errors, value, "price") is None
    assert list(errors.fields) == ["price"]


def test_money_required_and_its_own_ceiling():
    errors = inputs.Errors()
    assert inputs.money(errors, "", "a", required=True) is None
    assert inputs.money(errors, "1000.00", "b", high=Decimal("999.99")) is None
    assert set(errors.fields) == {"a", "b"}


def test_decimal_places_positive_and_high():
    errors = inputs.Errors()
    assert inputs.decimal(errors, {"h": "1.5"}, "h", high=Decimal("999.99")) == Decimal("1.50")
    assert inputs.decimal(errors, {"h": "2"}, "h", high=Decimal("9"), places=1) == Decimal("2.0")
    assert not errors
    assert inputs.decimal(errors, {"h": "0"}, "zero", high=Decimal("9"), positive=True) is None
    assert inputs.decimal(errors, {"h": "1.234"}, "places", high=Decimal("9")) is None
    assert inputs.decimal(errors, {}, "missing", high=Decimal("9")) is None
    assert inputs.decimal(errors, {}, "optional", high=Decimal("9"), required=False) is None
    for value in HOSTILE:
        assert inputs.decimal(errors, {"h": value}, "hostile", high=Decimal("9")) is None
    assert set(errors.fields) == {"zero", "places", "missing", "hostile"}


def test_integer_bounds_and_types():
    errors = inputs.Errors()
    assert inputs.integer(errors, " 42 ", "n", 0, 100) == 42
    assert inputs.integer(errors, 7, "n", 0, 100) == 7
    assert inputs.integer(errors, "", "n", 0, 100) is None
    assert not errors
    for value in ["101", "-1", "1.5", 1.0, *HOSTILE]:
        assert inputs.integer(errors, value, "bad", 0, 100) is None
    assert len(errors.fields["bad"]) == 4 + len(HOSTILE)


def test_choice_with_and_without_default():
    errors = inputs.Errors()
    assert inputs.choice(errors, {"c": "red"}, "c", Colour) == "red"
    assert inputs.choice(errors, {}, "c", Colour, default="blue") == "blue"
    assert not errors
    assert inputs.choice(errors, {}, "required", Colour) == ""
    assert inputs.choice(errors, {"unknown": "green"}, "unknown", Colour, default="blue") == "blue"
    assert inputs.choice(errors, {"list": ["red"]}, "list", Colour) == ""
    assert set(errors.fields) == {"required", "unknown", "list"}


def test_aware_needs_the_offset():
    errors = inputs.Errors()
    when = inputs.aware(errors, "2026-11-24T09:30:00+08:00", "at")
    assert when is not None and when.utcoffset() == dt.timedelta(hours=8)
    assert inputs.aware(errors, "", "optional", required=False) is None
    assert not errors
    assert inputs.aware(errors, "2026-11-24T09:30:00", "naive") is None
    assert inputs.aware(errors, dt.datetime(2026, 11, 24, 9, 30), "naive_dt") is None
    assert inputs.aware(errors, "tomorrow", "words") is None
    assert inputs.aware(errors, 12, "number") is None
    assert inputs.aware(errors, None, "missing") is None
    assert set(errors.fields) == {"naive", "naive_dt", "words", "number", "missing"}


def test_date_within_range():
    errors = inputs.Errors()
    today = timezone.localdate()
    assert inputs.date(errors, today.isoformat(), "d") == today
    assert inputs.date(errors, today, "d") == today
    assert inputs.date(errors, "", "d") is None
    assert not errors
    assert inputs.date(errors, "2026-13-01", "month") is None
    assert inputs.date(errors, (today + dt.timedelta(days=4000)).isoformat(), "far") is None
    assert inputs.date(errors, ["2026-01-01"], "list") is None
    assert inputs.date(errors, (today + dt.timedelta(days=1)).isoformat(), "window", within_days=0) is None
    assert set(errors.fields) == {"month", "far", "list", "window"}


def test_boolean_reads_checkboxes_and_json():
    assert all(inputs.boolean(v) for v in (True, "1", "true", "on", "yes", " Yes "))
    assert not any(inputs.boolean(v) for v in (False, None, "", "0", "no", 1, ["on"]))


def test_same_store():
    class Row:
        store_id = 2

    errors = inputs.Errors()
    inputs.same_store(errors, None, 1, "none")
    inputs.same_store(errors, Row(), 2, "own")
    assert not errors
    inputs.same_store(errors, Row(), 1, "foreign")
    assert list(errors.fields) == ["foreign"]
