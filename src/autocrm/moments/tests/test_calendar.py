"""The dates moments fall on: the annual inspection rule, anniversaries, the holiday table."""

import datetime as dt

import pytest

from autocrm.moments import calendar


@pytest.mark.parametrize(
    ("registered", "today", "due"),
    [
        (dt.date(2024, 5, 10), dt.date(2026, 12, 2), dt.date(2030, 5, 10)),  # new car: first on-site at year 6
        (dt.date(2020, 12, 20), dt.date(2026, 12, 2), dt.date(2026, 12, 20)),  # year 6 is this month
        (dt.date(2020, 3, 1), dt.date(2026, 12, 2), dt.date(2028, 3, 1)),  # after year 6: every 2 years (year 8)
        (dt.date(2018, 3, 1), dt.date(2026, 12, 2), dt.date(2028, 3, 1)),  # year 8 passed → year 10
        (dt.date(2016, 3, 1), dt.date(2026, 12, 2), dt.date(2027, 3, 1)),  # past 10 years: every year
        (dt.date(2009, 12, 5), dt.date(2026, 12, 2), dt.date(2026, 12, 5)),  # 17 years old: this year's
        (dt.date(2009, 11, 5), dt.date(2026, 12, 2), dt.date(2027, 11, 5)),  # … or next year's when passed
        (dt.date(2020, 2, 29), dt.date(2026, 1, 1), dt.date(2026, 2, 28)),  # 29 February: the 28th
    ],
)
def test_inspection_due_by_the_rule(registered, today, due):
    assert calendar.inspection_due(registered, today) == due


def test_inspection_ages_are_6_8_10_then_yearly():
    assert calendar.inspection_ages() == [6, 8, 10]
    registered = dt.date(2010, 6, 1)
    dues = []
    day = registered
    while len(dues) < 6:
        day = calendar.inspection_due(registered, day + dt.timedelta(days=1))
        dues.append(day.year - registered.year)
    assert dues == [6, 8, 10, 11, 12, 13]


def test_holidays_table_covers_2026_and_2027():
    assert [h.code for h in calendar.holidays_on(dt.date(2026, 9, 25))] == ["mid_autumn"]
    assert [h.code for h in calendar.holidays_on(dt.date(2027, 2, 6))] == ["spring_festival"]
    assert [h.code for h in calendar.holidays_on(dt.date(2026, 10, 1))] == ["national_day"]
    assert calendar.holidays_on(dt.date(2026, 4, 5)) == []  # 清明: no greeting
    assert calendar.holidays_on(dt.date(2028, 1, 1)) == []  # outside the table
    for h in calendar.HOLIDAYS:
        assert set(h.dates) == {2026, 2027}


def test_anniversary_of_29_february():
    assert calendar.anniversary(dt.date(2024, 2, 29), 2027) == dt.date(2027, 2, 28)
    assert calendar.anniversary(dt.date(2024, 2, 29), 2028) == dt.date(2028, 2, 29)
